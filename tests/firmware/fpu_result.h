/*
 * The result block of the RAM-loaded FPU images (f303-fpu.elf,
 * h743-fpu.elf): one layout for both, at 0x20000100.  Floating-point
 * results are stored as raw IEEE 754 bit patterns (a double as two words,
 * low word first); README.md gives the exact expression behind each so a
 * host can recompute it bit for bit.  Fields an image does not compute
 * stay 0.
 */
#ifndef FPU_RESULT_H
#define FPU_RESULT_H

#include <stdint.h>
#include "results.h"

typedef struct {
    result_header_t h;          /* 0x000 "F303" / "H743"; stage; done; error */
    uint32_t cpacr;             /* 0x010 CPACR after the entry code: 0x00F00000 */
    uint32_t fpccr;             /* 0x014 FPCCR at main (reset value) */
    uint32_t mvfr0;             /* 0x018 */
    uint32_t mvfr1;             /* 0x01C */
    uint32_t mvfr2;             /* 0x020 (FPv5 only; 0 on the M4F) */
    uint32_t cpuid;             /* 0x024 */
    uint32_t reserved0[2];      /* 0x028 */
    uint32_t fir[8];            /* 0x030 f32 FIR outputs */
    uint32_t poly[4];           /* 0x050 f32 Horner polynomial */
    uint32_t sqrt[4];           /* 0x060 f32 VSQRT */
    uint32_t div[4];            /* 0x070 f32 VDIV */
    uint32_t conv[8];           /* 0x080 int <-> f32 conversions */
    uint32_t fma[2];            /* 0x0A0 fused (VFMA) and unfused multiply-add */
    uint32_t reserved1[2];      /* 0x0A8 */
    uint32_t str[12];           /* 0x0B0 newlib string functions */
    /* Lazy stacking (f303-fpu only): SysTick every 2000 cycles while the
       main code computes and while fp_hold keeps s0-s31 loaded. */
    uint32_t ticks;             /* 0x0E0 SysTick interrupts */
    uint32_t fp_ticks;          /* 0x0E4 ... whose handler used the FPU (even ticks) */
    uint32_t ticks_e9;          /* 0x0E8 ... entered with EXC_RETURN 0xFFFFFFE9 */
    uint32_t ticks_other;       /* 0x0EC ... entered with any other EXC_RETURN */
    uint32_t fpccr_entry_fp;    /* 0x0F0 FPCCR at entry, last FP tick */
    uint32_t fpccr_after_fp;    /* 0x0F4 FPCCR after that handler's first FP instruction */
    uint32_t fpccr_entry_plain; /* 0x0F8 FPCCR at entry, last non-FP tick */
    uint32_t fpcar_ok;          /* 0x0FC ticks with EXC_RETURN E9 where FPCAR = frame + 0x20 */
    uint32_t tick_acc;          /* 0x100 f32 accumulated by the FP ticks */
    uint32_t hold_errors;       /* 0x104 s0-s31 words fp_hold found changed */
    uint32_t hold_fpscr;        /* 0x108 FPSCR fp_hold read back */
    uint32_t hold_ticks;        /* 0x10C SysTick interrupts during fp_hold */
    uint32_t v5[8];             /* 0x110 FPv5 single-precision instructions (h743-fpu only) */
    uint32_t dbl[24];           /* 0x130 f64 results, 12 doubles (h743-fpu only) */
    uint32_t fault_count;       /* 0x190 HardFault entries */
    uint32_t fault_cfsr;        /* 0x194 */
    uint32_t fault_hfsr;        /* 0x198 */
    uint32_t fault_pc;          /* 0x19C stacked PC */
} fpu_result_t;

_Static_assert(__builtin_offsetof(fpu_result_t, ticks) == 0xE0, "fpu_result layout");
_Static_assert(__builtin_offsetof(fpu_result_t, dbl) == 0x130, "fpu_result layout");
_Static_assert(sizeof(fpu_result_t) == 0x1A0, "fpu_result size");

extern volatile fpu_result_t fpu_result;

/* fpu_float.c and fpu_checks.c: the parts both images run. */
void fpu_float_checks(void);
void fpu_string_checks(void);

/* Bit pattern of a float, without aliasing tricks. */
static inline uint32_t f32_bits(float f)
{
    union { float f; uint32_t u; } v = {.f = f};
    return v.u;
}

#endif /* FPU_RESULT_H */
