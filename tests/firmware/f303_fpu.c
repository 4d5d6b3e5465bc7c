/*
 * f303-fpu: Cortex-M4F (FPv4-SP-D16) checks, run from RAM on an
 * STM32F303VC (core clock HSI 8 MHz, nothing else set up):
 *   1. CPACR, FPCCR and the MVFR/CPUID identification registers;
 *   2. SysTick every 2000 cycles, whose handler uses the FPU on every
 *      other tick (lazy stacking, FPCCR.LSPEN = 1 as at reset): it
 *      accumulates tick_acc, then overwrites s0-s31 and FPSCR;
 *   3. single-precision arithmetic (fpu_float.c) and newlib's string
 *      functions (fpu_checks.c), interrupted by those ticks;
 *   4. fp_hold: s0-s31 and FPSCR loaded with known values across
 *      100000 loop rounds (about 200 ticks), then compared;
 *   5. SysTick off, return to _start, "bkpt #0".
 * Results in fpu_result at 0x20000100 (fpu_result.h, README.md).
 */
#include "fpu_result.h"

#define __NVIC_PRIO_BITS 4u
typedef enum { SysTick_IRQn = -1 } IRQn_Type;
#include "cortex_m.h"

#define HOLD_LOOPS 100000u

RESULTS volatile fpu_result_t fpu_result;

/* Distinct words for s0-s31, some of them NaN and denormal patterns: a
   load/store must move bits, never values. */
const uint32_t fp_hold_pattern[32] = {
    0x3F800000u, 0xC0490FDBu, 0x7FC00001u, 0xFF800000u, 0x00000001u, 0x807FFFFFu,
    0x12345678u, 0x9ABCDEF0u, 0x0F0F0F0Fu, 0xF0F0F0F0u, 0x7F7FFFFFu, 0x00800000u,
    0x3EAAAAABu, 0xBF000000u, 0x40A00000u, 0x5A5A5A5Au, 0xA5A5A5A5u, 0x7FA00000u,
    0x11111111u, 0x22222222u, 0x33333333u, 0x44444444u, 0x55555555u, 0x66666666u,
    0x77777777u, 0x88888888u, 0x99999999u, 0xAAAAAAAAu, 0xBBBBBBBBu, 0xCCCCCCCCu,
    0xDDDDDDDDu, 0xEEEEEEEEu,
};

uint32_t fp_hold(uint32_t loops, uint32_t *out);
void systick_c(uint32_t frame, uint32_t exc_return, uint32_t fpccr, uint32_t fpcar);

static volatile float tick_acc_f;
static volatile uint32_t holding;

/* The FP half of the handler: tick_acc = tick_acc * 1.0009765625f + 0.5f,
   then every FP register and FPSCR (round towards zero, all cumulative
   flags) overwritten.  The core restores the interrupted context's s0-s15
   and FPSCR from the frame; s16-s31 this function saves itself. */
__attribute__((noinline)) static void tick_fp_work(void)
{
    float a = tick_acc_f;
    a = a * 1.0009765625f + 0.5f;
    tick_acc_f = a;
    fpu_result.tick_acc = f32_bits(a);
    __asm__ volatile (
        "vmov s0, %0\n\t vmov s1, %0\n\t vmov s2, %0\n\t vmov s3, %0\n\t"
        "vmov s4, %0\n\t vmov s5, %0\n\t vmov s6, %0\n\t vmov s7, %0\n\t"
        "vmov s8, %0\n\t vmov s9, %0\n\t vmov s10, %0\n\t vmov s11, %0\n\t"
        "vmov s12, %0\n\t vmov s13, %0\n\t vmov s14, %0\n\t vmov s15, %0\n\t"
        "vmov s16, %0\n\t vmov s17, %0\n\t vmov s18, %0\n\t vmov s19, %0\n\t"
        "vmov s20, %0\n\t vmov s21, %0\n\t vmov s22, %0\n\t vmov s23, %0\n\t"
        "vmov s24, %0\n\t vmov s25, %0\n\t vmov s26, %0\n\t vmov s27, %0\n\t"
        "vmov s28, %0\n\t vmov s29, %0\n\t vmov s30, %0\n\t vmov s31, %0\n\t"
        "vmsr fpscr, %1"
        :: "r" (0xDEADBEEFu), "r" (0x00C0009Fu)
        : "s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11",
          "s12", "s13", "s14", "s15", "s16", "s17", "s18", "s19", "s20", "s21", "s22",
          "s23", "s24", "s25", "s26", "s27", "s28", "s29", "s30", "s31", "memory");
}

/* No floating point in here: on odd ticks the reserved FP frame is never
   written (LSPACT stays set until the exception returns). */
void systick_c(uint32_t frame, uint32_t exc_return, uint32_t fpccr, uint32_t fpcar)
{
    uint32_t n = ++fpu_result.ticks;
    if (exc_return == 0xFFFFFFE9u) {
        fpu_result.ticks_e9++;
        if (fpcar == frame + 0x20u) {
            fpu_result.fpcar_ok++;
        }
    } else {
        fpu_result.ticks_other++;
    }
    if (holding) {
        fpu_result.hold_ticks++;
    }
    if ((n & 1u) == 0u) {
        fpu_result.fpccr_entry_fp = fpccr;
        tick_fp_work();
        fpu_result.fpccr_after_fp = FPU->FPCCR;
        fpu_result.fp_ticks++;
    } else {
        fpu_result.fpccr_entry_plain = fpccr;
    }
}

static void hold_check(void)
{
    uint32_t out[32];
    holding = 1;
    fpu_result.hold_fpscr = fp_hold(HOLD_LOOPS, out);
    holding = 0;
    uint32_t errors = 0;
    for (uint32_t i = 0; i < 32u; i++) {
        errors += out[i] != fp_hold_pattern[i];
    }
    fpu_result.hold_errors = errors;
}

int main(void)
{
    fpu_result.h.magic = RESULT_TAG('F', '3', '0', '3');
    fpu_result.cpacr = SCB->CPACR;
    fpu_result.fpccr = FPU->FPCCR;
    fpu_result.mvfr0 = FPU->MVFR0;
    fpu_result.mvfr1 = FPU->MVFR1;
    fpu_result.cpuid = SCB->CPUID;

    /* A first FP instruction in Thread mode (CONTROL.FPCA = 1 from here
       on), so every tick sees an FP context to preserve. */
    __asm__ volatile ("vmsr fpscr, %0" :: "r" (0u));
    tick_acc_f = 1.0f;
    fpu_result.h.stage = 1;

    SysTick->LOAD = 2000u - 1u;
    SysTick->VAL = 0u;
    NVIC_SetPriority(SysTick_IRQn, 15u);
    SysTick->CTRL = SysTick_CTRL_CLKSOURCE | SysTick_CTRL_TICKINT | SysTick_CTRL_ENABLE;

    fpu_float_checks();
    fpu_result.h.stage = 2;
    fpu_string_checks();
    fpu_result.h.stage = 3;
    hold_check();
    fpu_result.h.stage = 4;

    SysTick->CTRL = 0u;
    fpu_result.h.done = RESULT_DONE;
    return 0;
}
