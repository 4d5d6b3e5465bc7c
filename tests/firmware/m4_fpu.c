/*
 * g474-fpu, l476-fpu, f303-fpu-flash: Cortex-M4F (FPv4-SP-D16) checks run
 * from flash on the reset clock (startup_m4.c enabled CP10/CP11 before
 * main); h743-fpu-flash: the same on the Cortex-M7 (FPv5-D16) plus the
 * double-precision checks (marked H743 below):
 *   1. CPACR, FPCCR, MVFR0/1 and CPUID read back;
 *   2. single-precision arithmetic (fpu_float.c) and newlib's string
 *      functions (fpu_checks.c), the same as f303-fpu;
 *   3. float_done(22.0f / 7.0f, sqrtf(2.0f)): a debugger that breaks on
 *      `float_done` finds s0 = 0x40492492 (3.14285707) and s1 =
 *      0x3FB504F3 (1.41421354), the hard-float ABI's first two arguments;
 *   H743: 2b. MVFR2 read back; the double-precision checks of h743-fpu
 *      (fpu_double.c, into dbl[]) before stage 3;
 *   H743: 3b. double_done(22.0 / 7.0, sqrt(2.0)) in f64: a debugger that
 *      breaks on `double_done` finds d0 = 0x4009249249249249
 *      (3.1428571428571428) and d1 = 0x3FF6A09E667F3BCD
 *      (1.4142135623730951), the hard-float ABI's first two double
 *      arguments;
 *   4. `done`, then counter++ forever.
 * A HardFault is recorded in fpu_result (fault_count, CFSR, HFSR, stacked
 * PC) and the core spins in fault_record.
 * Results: fpu_result (fpu_result.h) at 0x20000000, fpu_extra right after
 * it at 0x200001A0 (README.md).
 */
#include "chip.h"
#include "fpu_result.h"

RESULTS volatile fpu_result_t fpu_result;

typedef struct {
    uint32_t float_s0;      /* 0x1A0 bits of float_done's first argument (s0): 0x40492492 */
    uint32_t float_s1;      /* 0x1A4 ... second argument (s1): 0x3FB504F3 */
    uint32_t float_calls;   /* 0x1A8 float_done calls: 1 */
    uint32_t counter;       /* 0x1AC loop iterations after `done` */
#ifdef CHIP_H743
    uint32_t double_d0[2];  /* 0x1B0 bits of double_done's first argument (d0), low word first */
    uint32_t double_d1[2];  /* 0x1B8 ... second argument (d1) */
    uint32_t double_calls;  /* 0x1C0 double_done calls: 1 */
#endif
} fpu_extra_t;

__attribute__((section(".results.extra"), used)) volatile fpu_extra_t fpu_extra;

static volatile const float done_in[3] = {22.0f, 7.0f, 2.0f};

/* Out of line with two float arguments, so on entry s0 and s1 hold the
   two results: break here and `p $s0`. */
__attribute__((noinline)) void float_done(float quotient, float root)
{
    fpu_extra.float_s0 = f32_bits(quotient);
    fpu_extra.float_s1 = f32_bits(root);
    fpu_extra.float_calls++;
}

#ifdef CHIP_H743
void fpu_double_checks(void);

static volatile const double double_in[3] = {22.0, 7.0, 2.0};

static void put_bits(volatile uint32_t *to, double d)
{
    union { double d; uint64_t u; } v = {.d = d};
    to[0] = (uint32_t)v.u;
    to[1] = (uint32_t)(v.u >> 32);
}

/* Out of line with two double arguments, so on entry d0 and d1 hold the
   two results: break here and `p $d0`. */
__attribute__((noinline)) void double_done(double quotient, double root)
{
    put_bits(fpu_extra.double_d0, quotient);
    put_bits(fpu_extra.double_d1, root);
    fpu_extra.double_calls++;
}
#endif

/* HardFault: record it, then spin (no bkpt: without a debugger a bkpt
   would escalate to a lockup). */
void fault_record(const uint32_t *frame)
{
    fpu_result.fault_count++;
    fpu_result.fault_cfsr = SCB->CFSR;
    fpu_result.fault_hfsr = SCB->HFSR;
    fpu_result.fault_pc = frame[6];
    for (;;) {
        __asm__ volatile ("");
    }
}

__attribute__((naked)) void HardFault_Handler(void)
{
    __asm__ volatile (
        "tst lr, #4\n\t"
        "ite eq\n\t"
        "mrseq r0, msp\n\t"
        "mrsne r0, psp\n\t"
        "b fault_record\n\t");
}

int main(void)
{
    fpu_result.h.magic = CHIP_PART_TAG;
    fpu_result.cpacr = SCB->CPACR;
    fpu_result.fpccr = FPU->FPCCR;
    fpu_result.mvfr0 = FPU->MVFR0;
    fpu_result.mvfr1 = FPU->MVFR1;
    fpu_result.cpuid = SCB->CPUID;
#ifdef CHIP_H743
    fpu_result.mvfr2 = FPU->MVFR2;
#endif
    fpu_result.h.stage = 1;

    fpu_float_checks();
    fpu_result.h.stage = 2;
    fpu_string_checks();
#ifdef CHIP_H743
    fpu_double_checks();
#endif
    fpu_result.h.stage = 3;

    float_done(done_in[0] / done_in[1], __builtin_sqrtf(done_in[2]));
#ifdef CHIP_H743
    double_done(double_in[0] / double_in[1], __builtin_sqrt(double_in[2]));
#endif
    fpu_result.h.stage = 4;
    fpu_result.h.done = RESULT_DONE;

    for (;;) {
        fpu_extra.counter++;
    }
}
