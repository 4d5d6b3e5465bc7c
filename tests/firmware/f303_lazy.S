/*
 * f303-fpu: the exact-instruction parts of the lazy-stacking check.
 *
 * SysTick_Handler reads MSP (= the stacked frame, nothing else pushed yet),
 * EXC_RETURN, FPCCR and FPCAR before any floating-point instruction can
 * trigger the deferred push, and passes them to systick_c (f303_fpu.c).
 *
 * fp_hold(loops, out) loads s0-s31 from fp_hold_pattern and FPSCR with
 * 0x03000000 (DN, FZ, round to nearest), spins `loops` times (each round
 * reads s17 into r3, so FP instructions are in flight when SysTick hits),
 * stores s0-s31 to out[32] and returns FPSCR.  s16-s31 are callee-saved
 * (AAPCS), so they are pushed and popped around it.
 */
    .syntax unified
    .thumb

    .section .text.SysTick_Handler, "ax", %progbits
    .global SysTick_Handler
    .type SysTick_Handler, %function
    .thumb_func
SysTick_Handler:
    mrs     r0, msp
    mov     r1, lr
    ldr     r3, =0xE000EF34         /* FPCCR; FPCAR follows */
    ldr     r2, [r3]
    ldr     r3, [r3, #4]
    b       systick_c
    .ltorg
    .size SysTick_Handler, . - SysTick_Handler

    .section .text.fp_hold, "ax", %progbits
    .global fp_hold
    .type fp_hold, %function
    .thumb_func
fp_hold:
    vpush   {s16-s31}
    ldr     r2, =fp_hold_pattern
    vldm    r2, {s0-s31}
    ldr     r3, =0x03000000
    vmsr    fpscr, r3
1:  vmov    r3, s17
    subs    r0, r0, #1
    bne     1b
    vstm    r1, {s0-s31}
    vmrs    r0, fpscr
    vpop    {s16-s31}
    bx      lr
    .ltorg
    .size fp_hold, . - fp_hold
