/*
 * g474-fpu, l476-fpu: Cortex-M4F (FPv4-SP-D16) checks run from flash on
 * the reset clock (startup_m4.c enabled CP10/CP11 before main):
 *   1. CPACR, FPCCR, MVFR0/1 and CPUID read back;
 *   2. single-precision arithmetic (fpu_float.c) and newlib's string
 *      functions (fpu_checks.c), the same as f303-fpu;
 *   3. float_done(22.0f / 7.0f, sqrtf(2.0f)): a debugger that breaks on
 *      `float_done` finds s0 = 0x40492492 (3.14285707) and s1 =
 *      0x3FB504F3 (1.41421354), the hard-float ABI's first two arguments;
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
    fpu_result.h.stage = 1;

    fpu_float_checks();
    fpu_result.h.stage = 2;
    fpu_string_checks();
    fpu_result.h.stage = 3;

    float_done(done_in[0] / done_in[1], __builtin_sqrtf(done_in[2]));
    fpu_result.h.stage = 4;
    fpu_result.h.done = RESULT_DONE;

    for (;;) {
        fpu_extra.counter++;
    }
}
