/*
 * f103-faults: the fault handler stub and the faulting instructions.
 *
 * HardFault_Handler (also MemManage_Handler, BusFault_Handler and
 * UsageFault_Handler) picks the stack the core pushed the frame on
 * (EXC_RETURN bit 2) and passes frame and EXC_RETURN to fault_record
 * (faults_main.c), which records the fault status and resumes.
 *
 * Each fault_case_* function sets up its operands and executes one
 * faulting instruction at the global label fault_site_*, so a test can
 * compare the stacked PC with that symbol.  Cases 0-6 first load lr with
 * the tag 0xCA5E0000 + case number, so the stacked LR is known too; the
 * branch cases 7-9 fault at the branch target, with lr holding the
 * return address fault_ret_* + 1.
 */
    .syntax unified
    .thumb

    .section .text.HardFault_Handler, "ax", %progbits
    .global HardFault_Handler
    .global MemManage_Handler
    .global BusFault_Handler
    .global UsageFault_Handler
    .type HardFault_Handler, %function
    .thumb_func
HardFault_Handler:
    tst     lr, #4
    ite     eq
    mrseq   r0, msp
    mrsne   r0, psp
    mov     r1, lr
    b       fault_record
    .size HardFault_Handler, . - HardFault_Handler
    .thumb_set MemManage_Handler, HardFault_Handler
    .thumb_set BusFault_Handler, HardFault_Handler
    .thumb_set UsageFault_Handler, HardFault_Handler

/* case name, tag: push {r4, lr}; lr = tag; <site>; pop {r4, pc} */
    .macro CASE name, tag
    .section .text.fault_case_\name, "ax", %progbits
    .global fault_case_\name
    .type fault_case_\name, %function
    .thumb_func
fault_case_\name:
    push    {r4, lr}
    ldr     lr, =(0xCA5E0000 + \tag)
    .endm
    .macro END_CASE name
    pop     {r4, pc}
    .ltorg
    .size fault_case_\name, . - fault_case_\name
    .endm

    CASE udf16, 0
    .global fault_site_udf16
fault_site_udf16:
    udf     #0                      /* T1, 0xDE00 */
    END_CASE udf16

    CASE udf32, 1
    .global fault_site_udf32
fault_site_udf32:
    udf.w   #0                      /* T2, 0xF7F0 0xA000 */
    END_CASE udf32

    CASE ldr_bus, 2
    ldr     r1, =0x60000000         /* FSMC bank 1: absent on the F103C8 */
    .global fault_site_ldr_bus
fault_site_ldr_bus:
    ldr     r0, [r1]
    END_CASE ldr_bus

    CASE str_bus, 3
    ldr     r1, =0x60000000
    ldr     r0, =0x5A5A5A5A
    .global fault_site_str_bus
fault_site_str_bus:
    str     r0, [r1]
    END_CASE str_bus

    CASE sdiv0, 4
    movs    r1, #100
    movs    r2, #0
    .global fault_site_sdiv0
fault_site_sdiv0:
    sdiv    r0, r1, r2
    END_CASE sdiv0

    CASE ldm_unaligned, 5
    ldr     r1, =fault_scratch + 1
    .global fault_site_ldm_unaligned
fault_site_ldm_unaligned:
    ldm     r1, {r2, r3}
    END_CASE ldm_unaligned

    CASE ldr_unaligned, 6
    ldr     r1, =fault_scratch + 2
    .global fault_site_ldr_unaligned
fault_site_ldr_unaligned:
    ldr     r0, [r1]                /* faults only with CCR.UNALIGN_TRP */
    END_CASE ldr_unaligned

/* Branch cases: blx to a bad target; the handler resumes at lr. */
    .macro BRANCH_CASE name, target
    .section .text.fault_case_\name, "ax", %progbits
    .global fault_case_\name
    .type fault_case_\name, %function
    .thumb_func
fault_case_\name:
    push    {r4, lr}
    ldr     r1, =\target
    .global fault_call_\name
fault_call_\name:
    blx     r1
    .global fault_ret_\name
fault_ret_\name:
    pop     {r4, pc}
    .ltorg
    .size fault_case_\name, . - fault_case_\name
    .endm

    /* A real function, called without the Thumb bit: INVSTATE at its
       first instruction. */
    BRANCH_CASE invstate, fault_target_even
    /* Peripheral region, Execute Never in the default memory map. */
    BRANCH_CASE xn, 0x40000001
    /* Nothing there (FSMC bank 1): the instruction fetch is refused. */
    BRANCH_CASE ibuserr, 0x60000001

    .section .text.fault_target_even, "ax", %progbits
    .balign 4
    /* No %function type: its address must stay even (no Thumb bit). */
    .global fault_target_even
fault_target_even:
    bx      lr
