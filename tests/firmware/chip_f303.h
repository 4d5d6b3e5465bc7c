/*
 * STM32F303VC on the STM32F3DISCOVERY board, for the M4F flash images
 * (startup_m4.c, m4_blinky.c, m4_fpu.c).  Reference manual RM0316.
 *
 * Clock: nothing is set up, the core runs on the reset clock, HSI 8 MHz
 * (RM0316 §9.2, HSI clock), SYSCLK = HCLK = PCLK1 = PCLK2 = 8 MHz.
 * LED: LD3 (red) on PE9 (UM1570, LEDs).  USART1 on PC4 (TX) / PC5 (RX),
 * AF7 (DS9118, alternate functions); the board has no virtual COM port, so a
 * USB-serial adapter on PC4 shows the output.
 */
#ifndef CHIP_F303_H
#define CHIP_F303_H

#define CHIP_NAME        "STM32F303VC"
#define CHIP_TAG0        'F'
#define CHIP_TAG1        '3'
/* The part number as a result tag (RESULT_TAG, results.h), for the FPU images. */
#define CHIP_PART_TAG    RESULT_TAG('F', '3', '0', '3')
/* HSI 8 MHz drives SYSCLK after reset (RM0316 §9.2, RCC_CFGR.SW = 00). */
#define CHIP_HCLK_HZ     8000000u

/* RCC, 0x40021000 (RM0316 §9.4). */
#define RCC_BASE         0x40021000u
#define RCC_AHBENR       (RCC_BASE + 0x14u)   /* §9.4.6 */
#define RCC_APB2ENR      (RCC_BASE + 0x18u)   /* §9.4.7 */
#define RCC_AHBENR_IOPCEN   (1u << 19)
#define RCC_AHBENR_IOPEEN   (1u << 21)
#define RCC_APB2ENR_USART1EN (1u << 14)

/* GPIO ports on AHB2 (RM0316 §3.2 memory map; registers §11.4). */
#define GPIOC_BASE       0x48000800u
#define GPIOE_BASE       0x48001000u

/* LD3 = PE9. */
#define LED_GPIO         GPIOE_BASE
#define LED_PIN          9u
#define LED_CLK_ENR      RCC_AHBENR
#define LED_CLK_EN       RCC_AHBENR_IOPEEN

/* USART1 (RM0316 §29, USART registers) on PC4/PC5 AF7.  Its kernel clock after reset is
   PCLK2 (RCC_CFGR3.USART1SW = 00 on the F303xB/C, RM0316 §9.4.13). */
#define UART_BASE        0x40013800u
#define UART_CLK_ENR     RCC_APB2ENR
#define UART_CLK_EN      RCC_APB2ENR_USART1EN
#define UART_KERNEL_HZ   CHIP_HCLK_HZ
#define UART_GPIO        GPIOC_BASE
#define UART_GPIO_CLK_ENR RCC_AHBENR
#define UART_GPIO_CLK_EN RCC_AHBENR_IOPCEN
#define UART_TX_PIN      4u
#define UART_RX_PIN      5u
#define UART_AF          7u

/* Peripheral interrupt vectors, RM0316 Table 82 (STM32F303xB/C, positions
   0..81; the handler names are ST's).  R() is a reserved slot (word 0). */
#define CHIP_IRQ_COUNT   82
#define CHIP_IRQ_VECTORS(V, R) \
    V(WWDG) V(PVD) V(TAMP_STAMP) V(RTC_WKUP) V(FLASH) V(RCC) \
    V(EXTI0) V(EXTI1) V(EXTI2_TSC) V(EXTI3) V(EXTI4) \
    V(DMA1_Channel1) V(DMA1_Channel2) V(DMA1_Channel3) V(DMA1_Channel4) \
    V(DMA1_Channel5) V(DMA1_Channel6) V(DMA1_Channel7) \
    V(ADC1_2) V(USB_HP_CAN_TX) V(USB_LP_CAN_RX0) V(CAN_RX1) V(CAN_SCE) \
    V(EXTI9_5) V(TIM1_BRK_TIM15) V(TIM1_UP_TIM16) V(TIM1_TRG_COM_TIM17) V(TIM1_CC) \
    V(TIM2) V(TIM3) V(TIM4) V(I2C1_EV) V(I2C1_ER) V(I2C2_EV) V(I2C2_ER) \
    V(SPI1) V(SPI2) V(USART1) V(USART2) V(USART3) V(EXTI15_10) V(RTC_Alarm) \
    V(USBWakeUp) V(TIM8_BRK) V(TIM8_UP) V(TIM8_TRG_COM) V(TIM8_CC) V(ADC3) \
    R() R() R() \
    V(SPI3) V(UART4) V(UART5) V(TIM6_DAC) V(TIM7) \
    V(DMA2_Channel1) V(DMA2_Channel2) V(DMA2_Channel3) V(DMA2_Channel4) \
    V(DMA2_Channel5) V(ADC4) \
    R() R() \
    V(COMP1_2_3) V(COMP4_5_6) V(COMP7) \
    R() R() R() R() R() R() R() \
    V(USB_HP) V(USB_LP) V(USBWakeUp_RMP) \
    R() R() R() R() \
    V(FPU)

#endif /* CHIP_F303_H */
