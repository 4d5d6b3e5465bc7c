/*
 * CMSIS-style access to the ARMv7-M core peripherals (System Control
 * Space): SCB, NVIC, SysTick, DWT, CoreDebug and the FP extension
 * registers, plus the intrinsics firmware uses (__enable_irq, __set_BASEPRI,
 * __DSB ...).  Written for these test images from the ARMv7-M Architecture
 * Reference Manual (ARM DDI 0403E, chapter B3) and ST PM0056 / PM0214;
 * the names are the CMSIS ones so the code reads like ordinary firmware.
 *
 * The device header defines __NVIC_PRIO_BITS (4 on every STM32 here) and
 * IRQn_Type before including this file.
 */
#ifndef CORTEX_M_H
#define CORTEX_M_H

#include <stdint.h>

#ifndef __NVIC_PRIO_BITS
#error "define __NVIC_PRIO_BITS before including cortex_m.h"
#endif

#define __I  volatile const
#define __O  volatile
#define __IO volatile

/* System Control Block, 0xE000ED00 (DDI 0403E B3.2.2, Table B3-4). */
typedef struct {
    __I  uint32_t CPUID;     /* 0x00 B3.2.3 */
    __IO uint32_t ICSR;      /* 0x04 B3.2.4 */
    __IO uint32_t VTOR;      /* 0x08 B3.2.5 */
    __IO uint32_t AIRCR;     /* 0x0C B3.2.6 */
    __IO uint32_t SCR;       /* 0x10 B3.2.7 */
    __IO uint32_t CCR;       /* 0x14 B3.2.8 */
    __IO uint8_t  SHP[12];   /* 0x18 SHPR1-3, byte per exception 4..15 */
    __IO uint32_t SHCSR;     /* 0x24 B3.2.13 */
    __IO uint32_t CFSR;      /* 0x28 B3.2.15 (MMFSR | BFSR << 8 | UFSR << 16) */
    __IO uint32_t HFSR;      /* 0x2C B3.2.16 */
    __IO uint32_t DFSR;      /* 0x30 */
    __IO uint32_t MMFAR;     /* 0x34 B3.2.17 */
    __IO uint32_t BFAR;      /* 0x38 B3.2.18 */
    __IO uint32_t AFSR;      /* 0x3C B3.2.19 */
    __I  uint32_t PFR[2];    /* 0x40 */
    __I  uint32_t DFR;       /* 0x48 */
    __I  uint32_t ADR;       /* 0x4C */
    __I  uint32_t MMFR[4];   /* 0x50 */
    __I  uint32_t ISAR[5];   /* 0x60 */
         uint32_t RESERVED0[5];
    __IO uint32_t CPACR;     /* 0x88 B3.2.20 */
} SCB_Type;

/* Auxiliary Control Register, 0xE000E008 (Cortex-M3 TRM, ACTLR). */
#define SCnSCB_ACTLR (*(__IO uint32_t *)0xE000E008u)
#define SCnSCB_ACTLR_DISDEFWBUF (1u << 1)  /* no write buffer: store faults precise */

/* ICSR */
#define SCB_ICSR_PENDSVSET      (1u << 28)
#define SCB_ICSR_PENDSVCLR      (1u << 27)
#define SCB_ICSR_PENDSTSET      (1u << 26)
#define SCB_ICSR_PENDSTCLR      (1u << 25)
#define SCB_ICSR_VECTACTIVE_Msk 0x1FFu
/* AIRCR */
#define SCB_AIRCR_VECTKEY       (0x05FAu << 16)
#define SCB_AIRCR_VECTKEY_Msk   (0xFFFFu << 16)
#define SCB_AIRCR_PRIGROUP_Pos  8
#define SCB_AIRCR_PRIGROUP_Msk  (7u << 8)
#define SCB_AIRCR_SYSRESETREQ   (1u << 2)
/* CCR */
#define SCB_CCR_UNALIGN_TRP     (1u << 3)
#define SCB_CCR_DIV_0_TRP       (1u << 4)
#define SCB_CCR_STKALIGN        (1u << 9)
/* SHCSR */
#define SCB_SHCSR_MEMFAULTACT   (1u << 0)
#define SCB_SHCSR_BUSFAULTACT   (1u << 1)
#define SCB_SHCSR_USGFAULTACT   (1u << 3)
#define SCB_SHCSR_SVCALLACT     (1u << 7)
#define SCB_SHCSR_MEMFAULTENA   (1u << 16)
#define SCB_SHCSR_BUSFAULTENA   (1u << 17)
#define SCB_SHCSR_USGFAULTENA   (1u << 18)
/* CFSR: MMFSR bits 7:0, BFSR bits 15:8, UFSR bits 31:16 (B3.2.15) */
#define SCB_CFSR_IACCVIOL       (1u << 0)
#define SCB_CFSR_DACCVIOL       (1u << 1)
#define SCB_CFSR_MMARVALID      (1u << 7)
#define SCB_CFSR_IBUSERR        (1u << 8)
#define SCB_CFSR_PRECISERR      (1u << 9)
#define SCB_CFSR_IMPRECISERR    (1u << 10)
#define SCB_CFSR_BFARVALID      (1u << 15)
#define SCB_CFSR_UNDEFINSTR     (1u << 16)
#define SCB_CFSR_INVSTATE       (1u << 17)
#define SCB_CFSR_INVPC          (1u << 18)
#define SCB_CFSR_NOCP           (1u << 19)
#define SCB_CFSR_UNALIGNED      (1u << 24)
#define SCB_CFSR_DIVBYZERO      (1u << 25)
/* HFSR (B3.2.16) */
#define SCB_HFSR_VECTTBL        (1u << 1)
#define SCB_HFSR_FORCED         (1u << 30)
#define SCB_HFSR_DEBUGEVT       (1u << 31)

/* NVIC, 0xE000E100 (B3.4) */
typedef struct {
    __IO uint32_t ISER[8];   /* 0x000 */
         uint32_t RESERVED0[24];
    __IO uint32_t ICER[8];   /* 0x080 */
         uint32_t RESERVED1[24];
    __IO uint32_t ISPR[8];   /* 0x100 */
         uint32_t RESERVED2[24];
    __IO uint32_t ICPR[8];   /* 0x180 */
         uint32_t RESERVED3[24];
    __I  uint32_t IABR[8];   /* 0x200 */
         uint32_t RESERVED4[56];
    __IO uint8_t  IP[240];   /* 0x300 */
         uint32_t RESERVED5[644];
    __O  uint32_t STIR;      /* 0xE00 */
} NVIC_Type;

/* SysTick, 0xE000E010 (B3.3) */
typedef struct {
    __IO uint32_t CTRL;
    __IO uint32_t LOAD;
    __IO uint32_t VAL;
    __I  uint32_t CALIB;
} SysTick_Type;
#define SysTick_CTRL_ENABLE     (1u << 0)
#define SysTick_CTRL_TICKINT    (1u << 1)
#define SysTick_CTRL_CLKSOURCE  (1u << 2)   /* 1 = processor clock (HCLK) */
#define SysTick_CTRL_COUNTFLAG  (1u << 16)
#define SysTick_LOAD_RELOAD_Msk 0x00FFFFFFu

/* Debug Exception and Monitor Control, and the DWT cycle counter (C1.6, C1.8) */
#define CoreDebug_DEMCR         (*(__IO uint32_t *)0xE000EDFCu)
#define CoreDebug_DEMCR_TRCENA  (1u << 24)
typedef struct {
    __IO uint32_t CTRL;      /* 0xE0001000 */
    __IO uint32_t CYCCNT;    /* 0xE0001004 */
} DWT_Type;
#define DWT_CTRL_CYCCNTENA      (1u << 0)

/* FP extension (B3.2.20 CPACR; FPCCR, FPCAR, FPDSCR at 0xE000EF34..3C) */
typedef struct {
         uint32_t RESERVED0;
    __IO uint32_t FPCCR;     /* 0xE000EF34 */
    __IO uint32_t FPCAR;     /* 0xE000EF38 */
    __IO uint32_t FPDSCR;    /* 0xE000EF3C */
    __I  uint32_t MVFR0;     /* 0xE000EF40 */
    __I  uint32_t MVFR1;     /* 0xE000EF44 */
    __I  uint32_t MVFR2;     /* 0xE000EF48 (FPv5 only) */
} FPU_Type;
#define FPU_FPCCR_LSPACT        (1u << 0)
#define FPU_FPCCR_USER          (1u << 1)
#define FPU_FPCCR_THREAD        (1u << 3)
#define FPU_FPCCR_HFRDY         (1u << 4)
#define FPU_FPCCR_MMRDY         (1u << 5)
#define FPU_FPCCR_BFRDY         (1u << 6)
#define FPU_FPCCR_MONRDY        (1u << 8)
#define FPU_FPCCR_LSPEN         (1u << 30)
#define FPU_FPCCR_ASPEN         (1u << 31)

_Static_assert(__builtin_offsetof(SCB_Type, CPACR) == 0x88, "SCB layout");
_Static_assert(__builtin_offsetof(NVIC_Type, IP) == 0x200 + 0x100, "NVIC layout");
_Static_assert(__builtin_offsetof(NVIC_Type, STIR) == 0xE00, "NVIC layout");

#define SCB      ((SCB_Type *)0xE000ED00u)
#define NVIC     ((NVIC_Type *)0xE000E100u)
#define SysTick  ((SysTick_Type *)0xE000E010u)
#define DWT      ((DWT_Type *)0xE0001000u)
#define FPU      ((FPU_Type *)0xE000EF30u)

/* ---- intrinsics ---- */
static inline void __enable_irq(void)  { __asm__ volatile ("cpsie i" ::: "memory"); }
static inline void __disable_irq(void) { __asm__ volatile ("cpsid i" ::: "memory"); }
static inline void __DSB(void) { __asm__ volatile ("dsb 0xF" ::: "memory"); }
static inline void __ISB(void) { __asm__ volatile ("isb 0xF" ::: "memory"); }
static inline void __NOP(void) { __asm__ volatile ("nop"); }

static inline uint32_t __get_BASEPRI(void)
{
    uint32_t v;
    __asm__ volatile ("mrs %0, basepri" : "=r" (v));
    return v;
}
static inline void __set_BASEPRI(uint32_t v)
{
    __asm__ volatile ("msr basepri, %0" :: "r" (v) : "memory");
}
static inline uint32_t __get_PRIMASK(void)
{
    uint32_t v;
    __asm__ volatile ("mrs %0, primask" : "=r" (v));
    return v;
}
static inline uint32_t __get_IPSR(void)
{
    uint32_t v;
    __asm__ volatile ("mrs %0, ipsr" : "=r" (v));
    return v;
}
static inline uint32_t __get_MSP(void)
{
    uint32_t v;
    __asm__ volatile ("mrs %0, msp" : "=r" (v));
    return v;
}
static inline uint32_t __get_PSP(void)
{
    uint32_t v;
    __asm__ volatile ("mrs %0, psp" : "=r" (v));
    return v;
}
static inline void __set_PSP(uint32_t v)
{
    __asm__ volatile ("msr psp, %0" :: "r" (v) : "memory");
}
static inline uint32_t __get_CONTROL(void)
{
    uint32_t v;
    __asm__ volatile ("mrs %0, control" : "=r" (v));
    return v;
}
static inline void __set_CONTROL(uint32_t v)
{
    __asm__ volatile ("msr control, %0" :: "r" (v) : "memory");
}

/* ---- NVIC and SysTick helpers (CMSIS core_cm3.h semantics) ---- */

static inline void NVIC_EnableIRQ(IRQn_Type irq)
{
    NVIC->ISER[(uint32_t)irq >> 5] = 1u << ((uint32_t)irq & 31u);
}
static inline void NVIC_DisableIRQ(IRQn_Type irq)
{
    NVIC->ICER[(uint32_t)irq >> 5] = 1u << ((uint32_t)irq & 31u);
    __DSB();
    __ISB();
}
static inline void NVIC_SetPendingIRQ(IRQn_Type irq)
{
    NVIC->ISPR[(uint32_t)irq >> 5] = 1u << ((uint32_t)irq & 31u);
}
static inline void NVIC_ClearPendingIRQ(IRQn_Type irq)
{
    NVIC->ICPR[(uint32_t)irq >> 5] = 1u << ((uint32_t)irq & 31u);
}
static inline uint32_t NVIC_GetPendingIRQ(IRQn_Type irq)
{
    return (NVIC->ISPR[(uint32_t)irq >> 5] >> ((uint32_t)irq & 31u)) & 1u;
}
static inline uint32_t NVIC_GetActive(IRQn_Type irq)
{
    return (NVIC->IABR[(uint32_t)irq >> 5] >> ((uint32_t)irq & 31u)) & 1u;
}

/* Priority of an interrupt (irq >= 0) or a system exception (irq < 0),
   in the top __NVIC_PRIO_BITS of its 8-bit field. */
static inline void NVIC_SetPriority(IRQn_Type irq, uint32_t prio)
{
    uint8_t byte = (uint8_t)((prio << (8u - __NVIC_PRIO_BITS)) & 0xFFu);
    if ((int32_t)irq >= 0) {
        NVIC->IP[(uint32_t)irq] = byte;
    } else {
        SCB->SHP[((uint32_t)irq & 0xFu) - 4u] = byte;
    }
}

/* AIRCR.PRIGROUP: group priority = bits [7:PRIGROUP+1] of the field. */
static inline void NVIC_SetPriorityGrouping(uint32_t group)
{
    uint32_t v = SCB->AIRCR & ~(SCB_AIRCR_VECTKEY_Msk | SCB_AIRCR_PRIGROUP_Msk);
    SCB->AIRCR = v | SCB_AIRCR_VECTKEY | ((group & 7u) << SCB_AIRCR_PRIGROUP_Pos);
}
static inline uint32_t NVIC_GetPriorityGrouping(void)
{
    return (SCB->AIRCR & SCB_AIRCR_PRIGROUP_Msk) >> SCB_AIRCR_PRIGROUP_Pos;
}

/* Combine a preemption and a sub-priority for the given PRIGROUP into a
   __NVIC_PRIO_BITS-wide priority value (the CMSIS NVIC_EncodePriority rule). */
static inline uint32_t NVIC_EncodePriority(uint32_t group, uint32_t preempt, uint32_t sub)
{
    uint32_t g = group & 7u;
    uint32_t preempt_bits = (7u - g) > __NVIC_PRIO_BITS ? __NVIC_PRIO_BITS : 7u - g;
    uint32_t sub_bits = (g + __NVIC_PRIO_BITS) < 7u ? 0u : g + __NVIC_PRIO_BITS - 7u;
    return ((preempt & ((1u << preempt_bits) - 1u)) << sub_bits)
         | (sub & ((1u << sub_bits) - 1u));
}

/* SysTick at `ticks` processor clocks per interrupt, lowest priority,
   clock source HCLK; returns 1 if `ticks` does not fit the 24-bit reload. */
static inline uint32_t SysTick_Config(uint32_t ticks)
{
    if (ticks - 1u > SysTick_LOAD_RELOAD_Msk) {
        return 1u;
    }
    SysTick->LOAD = ticks - 1u;
    NVIC_SetPriority(SysTick_IRQn, (1u << __NVIC_PRIO_BITS) - 1u);
    SysTick->VAL = 0u;
    SysTick->CTRL = SysTick_CTRL_CLKSOURCE | SysTick_CTRL_TICKINT | SysTick_CTRL_ENABLE;
    return 0u;
}

#endif /* CORTEX_M_H */
