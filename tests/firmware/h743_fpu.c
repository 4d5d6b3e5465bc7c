/*
 * h743-fpu: Cortex-M7 (FPv5-D16, double precision) checks, run from DTCM
 * on an STM32H743ZI (core clock HSI 64 MHz, nothing else set up):
 *   1. CPACR, FPCCR and the MVFR/CPUID identification registers;
 *   2. single-precision arithmetic (fpu_float.c) and newlib's string
 *      functions (fpu_checks.c), as on the M4F;
 *   3. the FPv5 additions in single precision: VRINTA/M/P/Z, VMAXNM,
 *      VMINNM, VSEL, VCVTA (v5[]);
 *   4. double-precision arithmetic (fpu_double.c, dbl[]);
 *   5. return to _start, "bkpt #0".
 * stage says how far it got: 3 once step 3 is stored, 4 once the doubles
 * are.  A core without double precision takes an UNDEFINSTR UsageFault
 * (escalated to HardFault) at the first f64 instruction, and
 * HardFault_Handler halts at "bkpt #1" with the fault recorded.
 * Results in fpu_result at 0x20000100 (fpu_result.h, README.md).
 */
#include "fpu_result.h"

#define __NVIC_PRIO_BITS 4u
typedef enum { SysTick_IRQn = -1 } IRQn_Type;
#include "cortex_m.h"

RESULTS volatile fpu_result_t fpu_result;

void fpu_double_checks(void);

static volatile const float v5_in[8] = {2.5f, -1.5f, 1.25f, -3.75f, 1.5f, -2.0f, 0.75f, -2.5f};
static volatile const float v5_other[2] = {7.0f, -4.0f};

#define V5_OP(insn, x) ({ float r_; __asm__ (insn " %0, %1" : "=t" (r_) : "t" (x)); r_; })

static void fpv5_checks(void)
{
    float nan = __builtin_nanf("");
    fpu_result.v5[0] = f32_bits(V5_OP("vrinta.f32", v5_in[0]));   /* 2.5 -> 3.0, ties away */
    fpu_result.v5[1] = f32_bits(V5_OP("vrintm.f32", v5_in[1]));   /* -1.5 -> -2.0 */
    fpu_result.v5[2] = f32_bits(V5_OP("vrintp.f32", v5_in[2]));   /* 1.25 -> 2.0 */
    fpu_result.v5[3] = f32_bits(V5_OP("vrintz.f32", v5_in[3]));   /* -3.75 -> -3.0 */
    float r;
    float a = v5_in[4];
    __asm__ ("vmaxnm.f32 %0, %1, %2" : "=t" (r) : "t" (a), "t" (nan));
    fpu_result.v5[4] = f32_bits(r);                                /* maxNum(1.5, NaN) = 1.5 */
    a = v5_in[5];
    float b = v5_other[0];
    __asm__ ("vminnm.f32 %0, %1, %2" : "=t" (r) : "t" (a), "t" (b));
    fpu_result.v5[5] = f32_bits(r);                                /* minNum(-2.0, 7.0) = -2.0 */
    a = v5_in[6];
    b = v5_other[1];
    __asm__ ("vcmp.f32 %1, %2\n\t"
             "vmrs APSR_nzcv, fpscr\n\t"
             "vselgt.f32 %0, %1, %2"
             : "=t" (r) : "t" (a), "t" (b) : "cc");
    fpu_result.v5[6] = f32_bits(r);                                /* 0.75 > -4.0: 0.75 */
    int32_t i;
    a = v5_in[7];
    __asm__ ("vcvta.s32.f32 %0, %1\n\t" : "=t" (r) : "t" (a));
    __asm__ ("vmov %0, %1" : "=r" (i) : "t" (r));
    fpu_result.v5[7] = (uint32_t)i;                                /* -2.5 -> -3, ties away */
}

int main(void)
{
    fpu_result.h.magic = RESULT_TAG('H', '7', '4', '3');
    fpu_result.cpacr = SCB->CPACR;
    fpu_result.fpccr = FPU->FPCCR;
    fpu_result.mvfr0 = FPU->MVFR0;
    fpu_result.mvfr1 = FPU->MVFR1;
    fpu_result.mvfr2 = FPU->MVFR2;
    fpu_result.cpuid = SCB->CPUID;
    fpu_result.h.stage = 1;

    fpu_float_checks();
    fpu_string_checks();
    fpu_result.h.stage = 2;
    fpv5_checks();
    fpu_result.h.stage = 3;
    fpu_double_checks();
    fpu_result.h.stage = 4;
    fpu_result.h.done = RESULT_DONE;
    return 0;
}
