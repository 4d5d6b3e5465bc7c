/*
 * Entry code and vector table of the RAM-loaded FPU images (f303-fpu,
 * h743-fpu).  The test loads the ELF into RAM, sets PC to _start
 * (0x20000000, the ELF entry point) and SP to _estack, and resumes.
 *
 * _start: SP = _estack; CPACR.CP10 = CP11 = 0b11 (full access, DDI 0403E
 * B3.2.20) followed by DSB/ISB so the next instruction may use the FPU;
 * VTOR = ram_vectors; zero .results and .bss; call main; then "bkpt #0"
 * (at fpu_done_bkpt): the image halts with main's results stored.
 *
 * HardFault_Handler records the fault in fpu_result (fault_count at
 * 0x190, CFSR, HFSR, stacked PC; see fpu_result.h) and halts at
 * "bkpt #1" (fpu_fault_bkpt).  Any other exception without a handler of
 * its own halts at "bkpt #2" in Default_Handler.
 */
    .syntax unified
    .thumb

    .section .entry, "ax", %progbits
    .global _start
    .type _start, %function
    .thumb_func
_start:
    ldr     r0, =_estack
    mov     sp, r0
    ldr     r0, =0xE000ED88         /* CPACR */
    ldr     r1, [r0]
    orr     r1, r1, #(0xF << 20)
    str     r1, [r0]
    dsb
    isb
    ldr     r0, =0xE000ED08         /* VTOR */
    ldr     r1, =ram_vectors
    str     r1, [r0]
    ldr     r0, =_sresults
    ldr     r1, =_eresults
    bl      zero_words
    ldr     r0, =_sbss
    ldr     r1, =_ebss
    bl      zero_words
    bl      main
    .global fpu_done_bkpt
fpu_done_bkpt:
    bkpt    #0
    b       .
    .size _start, . - _start

    .type zero_words, %function
    .thumb_func
zero_words:
    movs    r2, #0
1:  cmp     r0, r1
    bhs     2f
    str     r2, [r0], #4
    b       1b
2:  bx      lr
    .size zero_words, . - zero_words
    .ltorg

    .section .text.Default_Handler, "ax", %progbits
    .global Default_Handler
    .type Default_Handler, %function
    .thumb_func
Default_Handler:
    bkpt    #2
    b       .
    .size Default_Handler, . - Default_Handler

    .section .text.HardFault_Handler, "ax", %progbits
    .global HardFault_Handler
    .type HardFault_Handler, %function
    .thumb_func
HardFault_Handler:
    tst     lr, #4
    ite     eq
    mrseq   r0, msp
    mrsne   r0, psp
    ldr     r1, =fpu_result
    ldr     r2, [r1, #0x190]        /* fault_count */
    adds    r2, r2, #1
    str     r2, [r1, #0x190]
    ldr     r3, =0xE000ED28         /* CFSR, then HFSR */
    ldr     r2, [r3]
    str     r2, [r1, #0x194]
    ldr     r2, [r3, #4]
    str     r2, [r1, #0x198]
    ldr     r2, [r0, #24]           /* stacked PC */
    str     r2, [r1, #0x19C]
    .global fpu_fault_bkpt
fpu_fault_bkpt:
    bkpt    #1
    b       .
    .ltorg
    .size HardFault_Handler, . - HardFault_Handler

    .macro WEAK name
    .weak \name
    .thumb_set \name, Default_Handler
    .endm
    WEAK NMI_Handler
    WEAK MemManage_Handler
    WEAK BusFault_Handler
    WEAK UsageFault_Handler
    WEAK SVC_Handler
    WEAK DebugMon_Handler
    WEAK PendSV_Handler
    WEAK SysTick_Handler

/* The 16 system exception vectors; these images enable no peripheral
   interrupt.  The linker script aligns the table for VTOR. */
    .section .isr_vector, "a", %progbits
    .global ram_vectors
ram_vectors:
    .word   _estack
    .word   _start
    .word   NMI_Handler
    .word   HardFault_Handler
    .word   MemManage_Handler
    .word   BusFault_Handler
    .word   UsageFault_Handler
    .word   0, 0, 0, 0
    .word   SVC_Handler
    .word   DebugMon_Handler
    .word   0
    .word   PendSV_Handler
    .word   SysTick_Handler
    .size ram_vectors, . - ram_vectors
