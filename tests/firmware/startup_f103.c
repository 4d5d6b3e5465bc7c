/*
 * Minimal start-up code for the STM32F103 test images.
 *
 * The vector table lives in its own input section, .isr_vector, which the
 * linker script places at the start of flash (0x08000000).  Word 0 is the
 * initial main stack pointer, word 1 the reset vector.
 */
#include <stdint.h>

/* Symbols provided by f103_sections.ld. */
extern uint32_t _estack;
extern uint32_t _sidata, _sdata, _edata;
extern uint32_t _sbss, _ebss;

extern int main(void);

void Reset_Handler(void);
void Default_Handler(void);

/* System exception handlers; all default to Default_Handler. */
void NMI_Handler(void)        __attribute__((weak, alias("Default_Handler")));
void HardFault_Handler(void)  __attribute__((weak, alias("Default_Handler")));
void MemManage_Handler(void)  __attribute__((weak, alias("Default_Handler")));
void BusFault_Handler(void)   __attribute__((weak, alias("Default_Handler")));
void UsageFault_Handler(void) __attribute__((weak, alias("Default_Handler")));
void SVC_Handler(void)        __attribute__((weak, alias("Default_Handler")));
void DebugMon_Handler(void)   __attribute__((weak, alias("Default_Handler")));
void PendSV_Handler(void)     __attribute__((weak, alias("Default_Handler")));
void SysTick_Handler(void)    __attribute__((weak, alias("Default_Handler")));

typedef void (*vector_t)(void);

/* Number of peripheral interrupt slots (STM32F103 medium density: 43). */
#define F103_IRQ_COUNT 43

__attribute__((section(".isr_vector"), used))
const vector_t vector_table[16 + F103_IRQ_COUNT] = {
    [0]  = (vector_t)&_estack,   /* initial SP = 0x20005000 */
    [1]  = Reset_Handler,
    [2]  = NMI_Handler,
    [3]  = HardFault_Handler,
    [4]  = MemManage_Handler,
    [5]  = BusFault_Handler,
    [6]  = UsageFault_Handler,
    /* 7..10 reserved */
    [11] = SVC_Handler,
    [12] = DebugMon_Handler,
    /* 13 reserved */
    [14] = PendSV_Handler,
    [15] = SysTick_Handler,
    /* Peripheral IRQs: none are enabled by these images. */
    [16 ... 16 + F103_IRQ_COUNT - 1] = Default_Handler,
};

/* Any unexpected exception ends up spinning here; a debugger that halts
   the core will find the PC inside this function. */
void Default_Handler(void)
{
    for (;;) {
        __asm__ volatile ("");
    }
}

void Reset_Handler(void)
{
    /* Copy the initial values of .data from flash (LMA) to RAM (VMA). */
    const uint32_t *src = &_sidata;
    uint32_t *dst = &_sdata;
    while (dst < &_edata) {
        *dst++ = *src++;
    }

    /* Zero .bss. */
    dst = &_sbss;
    while (dst < &_ebss) {
        *dst++ = 0;
    }

    main();

    /* main() is not expected to return; if it does, park the core. */
    for (;;) {
        __asm__ volatile ("");
    }
}
