/*
 * Start-up code for the HAL-style STM32F103x8/xB images (f103-hal,
 * f103-irq, f103-rtos, f103-faults, f103-usart), in the shape of ST's
 * startup_stm32f103xb.s: a vector table with every handler name of RM0008
 * §10.1.2 Table 63 (weak, defaulting to Default_Handler), and a
 * Reset_Handler that calls SystemInit, copies .data, zeroes .results and
 * .bss and calls main.
 *
 * The older images (blinky, big, ...) keep startup_f103.c, whose code
 * addresses the debugger tests depend on.
 */
#include <stdint.h>

/* Symbols provided by f103_app.ld. */
extern uint32_t _estack;
extern uint32_t _sidata, _sdata, _edata;
extern uint32_t _sbss, _ebss;
extern uint32_t _sresults, _eresults;

extern int main(void);
extern void SystemInit(void);

void Reset_Handler(void);
void Default_Handler(void);

#define WEAK_HANDLER(name) void name(void) __attribute__((weak, alias("Default_Handler")))

WEAK_HANDLER(NMI_Handler);
WEAK_HANDLER(HardFault_Handler);
WEAK_HANDLER(MemManage_Handler);
WEAK_HANDLER(BusFault_Handler);
WEAK_HANDLER(UsageFault_Handler);
WEAK_HANDLER(SVC_Handler);
WEAK_HANDLER(DebugMon_Handler);
WEAK_HANDLER(PendSV_Handler);
WEAK_HANDLER(SysTick_Handler);
WEAK_HANDLER(WWDG_IRQHandler);
WEAK_HANDLER(PVD_IRQHandler);
WEAK_HANDLER(TAMPER_IRQHandler);
WEAK_HANDLER(RTC_IRQHandler);
WEAK_HANDLER(FLASH_IRQHandler);
WEAK_HANDLER(RCC_IRQHandler);
WEAK_HANDLER(EXTI0_IRQHandler);
WEAK_HANDLER(EXTI1_IRQHandler);
WEAK_HANDLER(EXTI2_IRQHandler);
WEAK_HANDLER(EXTI3_IRQHandler);
WEAK_HANDLER(EXTI4_IRQHandler);
WEAK_HANDLER(DMA1_Channel1_IRQHandler);
WEAK_HANDLER(DMA1_Channel2_IRQHandler);
WEAK_HANDLER(DMA1_Channel3_IRQHandler);
WEAK_HANDLER(DMA1_Channel4_IRQHandler);
WEAK_HANDLER(DMA1_Channel5_IRQHandler);
WEAK_HANDLER(DMA1_Channel6_IRQHandler);
WEAK_HANDLER(DMA1_Channel7_IRQHandler);
WEAK_HANDLER(ADC1_2_IRQHandler);
WEAK_HANDLER(USB_HP_CAN1_TX_IRQHandler);
WEAK_HANDLER(USB_LP_CAN1_RX0_IRQHandler);
WEAK_HANDLER(CAN1_RX1_IRQHandler);
WEAK_HANDLER(CAN1_SCE_IRQHandler);
WEAK_HANDLER(EXTI9_5_IRQHandler);
WEAK_HANDLER(TIM1_BRK_IRQHandler);
WEAK_HANDLER(TIM1_UP_IRQHandler);
WEAK_HANDLER(TIM1_TRG_COM_IRQHandler);
WEAK_HANDLER(TIM1_CC_IRQHandler);
WEAK_HANDLER(TIM2_IRQHandler);
WEAK_HANDLER(TIM3_IRQHandler);
WEAK_HANDLER(TIM4_IRQHandler);
WEAK_HANDLER(I2C1_EV_IRQHandler);
WEAK_HANDLER(I2C1_ER_IRQHandler);
WEAK_HANDLER(I2C2_EV_IRQHandler);
WEAK_HANDLER(I2C2_ER_IRQHandler);
WEAK_HANDLER(SPI1_IRQHandler);
WEAK_HANDLER(SPI2_IRQHandler);
WEAK_HANDLER(USART1_IRQHandler);
WEAK_HANDLER(USART2_IRQHandler);
WEAK_HANDLER(USART3_IRQHandler);
WEAK_HANDLER(EXTI15_10_IRQHandler);
WEAK_HANDLER(RTC_Alarm_IRQHandler);
WEAK_HANDLER(USBWakeUp_IRQHandler);

typedef void (*vector_t)(void);

__attribute__((section(".isr_vector"), used))
const vector_t g_pfnVectors[16 + 43] = {
    (vector_t)&_estack,          /* 0x000 initial MSP = 0x20005000 */
    Reset_Handler,               /* 0x004 */
    NMI_Handler,                 /* 0x008 */
    HardFault_Handler,           /* 0x00C */
    MemManage_Handler,           /* 0x010 */
    BusFault_Handler,            /* 0x014 */
    UsageFault_Handler,          /* 0x018 */
    0, 0, 0, 0,                  /* 0x01C..0x028 reserved */
    SVC_Handler,                 /* 0x02C */
    DebugMon_Handler,            /* 0x030 */
    0,                           /* 0x034 reserved */
    PendSV_Handler,              /* 0x038 */
    SysTick_Handler,             /* 0x03C */
    WWDG_IRQHandler, PVD_IRQHandler, TAMPER_IRQHandler, RTC_IRQHandler,
    FLASH_IRQHandler, RCC_IRQHandler, EXTI0_IRQHandler, EXTI1_IRQHandler,
    EXTI2_IRQHandler, EXTI3_IRQHandler, EXTI4_IRQHandler,
    DMA1_Channel1_IRQHandler, DMA1_Channel2_IRQHandler, DMA1_Channel3_IRQHandler,
    DMA1_Channel4_IRQHandler, DMA1_Channel5_IRQHandler, DMA1_Channel6_IRQHandler,
    DMA1_Channel7_IRQHandler, ADC1_2_IRQHandler, USB_HP_CAN1_TX_IRQHandler,
    USB_LP_CAN1_RX0_IRQHandler, CAN1_RX1_IRQHandler, CAN1_SCE_IRQHandler,
    EXTI9_5_IRQHandler, TIM1_BRK_IRQHandler, TIM1_UP_IRQHandler,
    TIM1_TRG_COM_IRQHandler, TIM1_CC_IRQHandler, TIM2_IRQHandler, TIM3_IRQHandler,
    TIM4_IRQHandler, I2C1_EV_IRQHandler, I2C1_ER_IRQHandler, I2C2_EV_IRQHandler,
    I2C2_ER_IRQHandler, SPI1_IRQHandler, SPI2_IRQHandler, USART1_IRQHandler,
    USART2_IRQHandler, USART3_IRQHandler, EXTI15_10_IRQHandler,
    RTC_Alarm_IRQHandler, USBWakeUp_IRQHandler, /* 0x0E8 = IRQ 42 */
};

/* Every exception without a handler of its own spins here. */
void Default_Handler(void)
{
    for (;;) {
        __asm__ volatile ("");
    }
}

static void zero_words(uint32_t *dst, const uint32_t *end)
{
    while (dst < end) {
        *dst++ = 0;
    }
}

void Reset_Handler(void)
{
    SystemInit();

    const uint32_t *src = &_sidata;
    uint32_t *dst = &_sdata;
    while (dst < &_edata) {
        *dst++ = *src++;
    }
    zero_words(&_sresults, &_eresults);
    zero_words(&_sbss, &_ebss);

    main();

    for (;;) {
        __asm__ volatile ("");
    }
}
