/*
 * f103-rtos: the context-switch port, in the manner of an RTOS's
 * Cortex-M3 port layer (ARMv7-M exception model, DDI 0403E B1.5.6-B1.5.8).
 *
 * rtos_start_first_task: reload MSP from the vector table (word 0), enable
 * interrupts and "svc 0".  SVC_Handler then unstacks the first task's r4-r11
 * from its initial frame, points PSP at the hardware frame below them and
 * returns with EXC_RETURN 0xFFFFFFFD (Thread mode, PSP), so the core pops
 * r0-r3, r12, lr, pc, xPSR and the task starts.
 *
 * PendSV_Handler (lowest priority, pended by SysTick): pushes r4-r11 onto
 * the running task's PSP stack, stores PSP in its TCB, asks
 * rtos_switch_context (rtos_main.c) for the next TCB, pops that task's
 * r4-r11, sets PSP and returns to it.
 *
 * regs_hold(seed, n): loads r0, r2-r12 with values derived from seed,
 * spins n times (long enough to be switched out several times), then
 * returns how many of those registers no longer hold their value: 0
 * unless a context switch lost one.
 */
    .syntax unified
    .thumb
    .cfi_sections .debug_frame

    .section .text.rtos_start_first_task, "ax", %progbits
    .global rtos_start_first_task
    .type rtos_start_first_task, %function
    .thumb_func
rtos_start_first_task:
    ldr     r0, =0xE000ED08         /* VTOR */
    ldr     r0, [r0]
    ldr     r0, [r0]                /* initial MSP from the vector table */
    msr     msp, r0
    cpsie   i
    dsb
    isb
    svc     #0
    b       .                       /* not reached */
    .size rtos_start_first_task, . - rtos_start_first_task

    .section .text.SVC_Handler, "ax", %progbits
    .global SVC_Handler
    .type SVC_Handler, %function
    .thumb_func
SVC_Handler:
    ldr     r3, =current_tcb
    ldr     r1, [r3]
    ldr     r0, [r1]                /* tcb->sp */
    ldmia   r0!, {r4-r11}
    msr     psp, r0
    isb
    ldr     lr, =0xFFFFFFFD         /* Thread mode, process stack */
    bx      lr
    .size SVC_Handler, . - SVC_Handler

    .section .text.PendSV_Handler, "ax", %progbits
    .global PendSV_Handler
    .type PendSV_Handler, %function
    .thumb_func
PendSV_Handler:
    mrs     r0, psp
    isb
    ldr     r3, =current_tcb
    ldr     r2, [r3]
    stmdb   r0!, {r4-r11}
    str     r0, [r2]                /* save the outgoing task's SP */
    push    {r3, lr}
    bl      rtos_switch_context
    pop     {r3, lr}
    ldr     r1, [r3]
    ldr     r0, [r1]                /* the incoming task's SP */
    ldmia   r0!, {r4-r11}
    msr     psp, r0
    isb
    bx      lr
    .size PendSV_Handler, . - PendSV_Handler

    .section .text.regs_hold, "ax", %progbits
    .global regs_hold
    .type regs_hold, %function
    .thumb_func
regs_hold:
    .cfi_startproc
    push    {r4-r11, lr}
    .cfi_def_cfa_offset 36
    .cfi_offset 14, -4
    .cfi_offset 11, -8
    .cfi_offset 10, -12
    .cfi_offset 9, -16
    .cfi_offset 8, -20
    .cfi_offset 7, -24
    .cfi_offset 6, -28
    .cfi_offset 5, -32
    .cfi_offset 4, -36
    sub     sp, sp, #4
    .cfi_def_cfa_offset 40
    str     r0, [sp]                /* the seed, for the checks */
    mov     r4, r0
    add     r5, r0, #1
    add     r6, r0, #2
    add     r7, r0, #3
    add     r8, r0, #4
    add     r9, r0, #5
    add     r10, r0, #6
    add     r11, r0, #7
    mvn     r2, r0
    add     r3, r0, #9
    add     r12, r0, #10
1:  subs    r1, r1, #1
    bne     1b
    ldr     r1, [sp]
    mov     lr, #0                  /* mismatch count */
    cmp     r0, r1
    it      ne
    addne   lr, lr, #1
    cmp     r4, r1
    it      ne
    addne   lr, lr, #1
    .irp    reg, r5, r6, r7, r8, r9, r10, r11
    add     r1, r1, #1
    cmp     \reg, r1
    it      ne
    addne   lr, lr, #1
    .endr
    ldr     r1, [sp]
    mvn     r1, r1
    cmp     r2, r1
    it      ne
    addne   lr, lr, #1
    ldr     r1, [sp]
    add     r1, r1, #9
    cmp     r3, r1
    it      ne
    addne   lr, lr, #1
    add     r1, r1, #1
    cmp     r12, r1
    it      ne
    addne   lr, lr, #1
    mov     r0, lr
    add     sp, sp, #4
    .cfi_def_cfa_offset 36
    pop     {r4-r11, pc}
    .cfi_endproc
    .size regs_hold, . - regs_hold
