/*
 * f103-irq: the SVC pieces that must be exact instructions.
 *
 * SVC_Handler finds the frame the core stacked (MSP or PSP, from
 * EXC_RETURN bit 2) and passes it with EXC_RETURN to SVC_Handler_Main
 * (irq_main.c), which reads the SVC immediate back from the stacked PC
 * (DDI 0403E B1.5.6: the return address is the instruction after the SVC).
 *
 * svc_call_2a / svc_call_07 issue "svc #0x2A" / "svc #0x07" with r0, r1
 * as arguments and return the handler's r0.  The global labels
 * svc_site_2a / svc_site_07 mark the SVC instructions themselves, so a
 * test compares the stacked PC with the label + 2.
 */
    .syntax unified
    .thumb

    .section .text.SVC_Handler, "ax", %progbits
    .global SVC_Handler
    .type SVC_Handler, %function
    .thumb_func
SVC_Handler:
    tst     lr, #4
    ite     eq
    mrseq   r0, msp
    mrsne   r0, psp
    mov     r1, lr
    b       SVC_Handler_Main
    .size SVC_Handler, . - SVC_Handler

    .section .text.svc_call_2a, "ax", %progbits
    .global svc_call_2a
    .type svc_call_2a, %function
    .thumb_func
svc_call_2a:
    .global svc_site_2a
svc_site_2a:
    svc     #0x2A
    bx      lr
    .size svc_call_2a, . - svc_call_2a

    .section .text.svc_call_07, "ax", %progbits
    .global svc_call_07
    .type svc_call_07, %function
    .thumb_func
svc_call_07:
    .global svc_site_07
svc_site_07:
    svc     #0x07
    bx      lr
    .size svc_call_07, . - svc_call_07
