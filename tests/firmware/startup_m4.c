/*
 * Start-up code of the M4F flash images (STM32F303VC, STM32G474RE,
 * STM32L476RG) and of the Cortex-M7 flash images (STM32H743ZI); the chip
 * comes from chip.h.
 *
 * vector_table (section .isr_vector, at 0x08000000 by m4_sections.ld):
 * word 0 the initial MSP (_estack, the top of the main SRAM), word 1
 * Reset_Handler, words 2-15 the system exceptions (DDI 0403E B1.5.2, the
 * same on the Cortex-M4 and M7; 7-10 and 13 reserved, 0), then the chip's
 * CHIP_IRQ_COUNT peripheral vectors in the order of its reference
 * manual's vector table, each a weak alias of Default_Handler (0 where
 * the table is reserved).
 *
 * Reset_Handler does what CMSIS's SystemInit and ST's start-up file do
 * for these chips, in this order: CPACR.CP10 = CP11 = 0b11 (full access,
 * DDI 0403E B3.2.20) then DSB, ISB, so code after it may use the FPU;
 * VTOR = 0x08000000 (the table in flash, whatever the boot alias at 0);
 * copy .data from flash, zero .results and .bss, call main.
 * Nothing before the CPACR write uses a floating-point register
 * (firmware_rebuild.rs checks the disassembly).
 */
#include "chip.h"

/* Symbols provided by m4_sections.ld. */
extern uint32_t _estack;
extern uint32_t _sidata, _sdata, _edata;
extern uint32_t _sresults, _eresults;
extern uint32_t _sbss, _ebss;

extern int main(void);

void Reset_Handler(void);
void Default_Handler(void);

#define WEAK_DEFAULT __attribute__((weak, alias("Default_Handler")))

void NMI_Handler(void)        WEAK_DEFAULT;
void HardFault_Handler(void)  WEAK_DEFAULT;
void MemManage_Handler(void)  WEAK_DEFAULT;
void BusFault_Handler(void)   WEAK_DEFAULT;
void UsageFault_Handler(void) WEAK_DEFAULT;
void SVC_Handler(void)        WEAK_DEFAULT;
void DebugMon_Handler(void)   WEAK_DEFAULT;
void PendSV_Handler(void)     WEAK_DEFAULT;
void SysTick_Handler(void)    WEAK_DEFAULT;

/* One weak handler per peripheral vector of the chip. */
#define DECLARE_IRQ(name) void name##_IRQHandler(void) WEAK_DEFAULT;
#define DECLARE_NONE()
CHIP_IRQ_VECTORS(DECLARE_IRQ, DECLARE_NONE)

typedef void (*vector_t)(void);

#define IRQ_ENTRY(name) name##_IRQHandler,
#define IRQ_RESERVED() 0,
#define COUNT_ONE(name) + 1
#define COUNT_ONE_R() + 1
_Static_assert((0 CHIP_IRQ_VECTORS(COUNT_ONE, COUNT_ONE_R)) == CHIP_IRQ_COUNT,
               "the IRQ vector list does not have CHIP_IRQ_COUNT entries");

__attribute__((section(".isr_vector"), used))
const vector_t vector_table[16 + CHIP_IRQ_COUNT] = {
    (vector_t)&_estack,     /* 0: initial MSP */
    Reset_Handler,          /* 1 */
    NMI_Handler,            /* 2 */
    HardFault_Handler,      /* 3 */
    MemManage_Handler,      /* 4 */
    BusFault_Handler,       /* 5 */
    UsageFault_Handler,     /* 6 */
    0, 0, 0, 0,             /* 7-10 reserved */
    SVC_Handler,            /* 11 */
    DebugMon_Handler,       /* 12 */
    0,                      /* 13 reserved */
    PendSV_Handler,         /* 14 */
    SysTick_Handler,        /* 15 */
    CHIP_IRQ_VECTORS(IRQ_ENTRY, IRQ_RESERVED)
};

/* Every exception without a handler of its own spins here. */
void Default_Handler(void)
{
    for (;;) {
        __asm__ volatile ("");
    }
}

void Reset_Handler(void)
{
    SCB->CPACR |= (3u << 20) | (3u << 22);
    __DSB();
    __ISB();
    SCB->VTOR = (uint32_t)(uintptr_t)vector_table;

    const uint32_t *src = &_sidata;
    uint32_t *dst = &_sdata;
    while (dst < &_edata) {
        *dst++ = *src++;
    }
    for (dst = &_sresults; dst < &_eresults; dst++) {
        *dst = 0;
    }
    for (dst = &_sbss; dst < &_ebss; dst++) {
        *dst = 0;
    }

    main();

    for (;;) {
        __asm__ volatile ("");
    }
}
