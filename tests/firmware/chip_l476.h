/*
 * STM32L476RG on the NUCLEO-L476RG board, for the M4F flash images
 * (startup_m4.c, m4_blinky.c, m4_fpu.c).  Reference manual RM0351.
 *
 * Clock: nothing is set up, the core runs on the reset clock, MSI at
 * 4 MHz (RM0351 §6.2: MSI is the system clock after reset, with
 * RCC_CR.MSIRANGE = 6), SYSCLK = HCLK = PCLK1 = PCLK2 = 4 MHz.
 * LED: LD2 (green) on PA5 (UM1724, LEDs).  USART2 on PA2 (TX) / PA3 (RX),
 * AF7: the ST-LINK virtual COM port (UM1724, USART communication).
 */
#ifndef CHIP_L476_H
#define CHIP_L476_H

#define CHIP_NAME        "STM32L476RG"
#define CHIP_TAG0        'L'
#define CHIP_TAG1        '4'
/* The part number as a result tag (RESULT_TAG, results.h), for the FPU images. */
#define CHIP_PART_TAG    RESULT_TAG('L', '4', '7', '6')
#define CHIP_HCLK_HZ     4000000u

/* RCC, 0x40021000 (RM0351 §6.4). */
#define RCC_BASE         0x40021000u
#define RCC_AHB2ENR      (RCC_BASE + 0x4Cu)   /* RCC_AHB2ENR */
#define RCC_APB1ENR1     (RCC_BASE + 0x58u)   /* RCC_APB1ENR1 */
#define RCC_AHB2ENR_GPIOAEN   (1u << 0)
#define RCC_APB1ENR1_USART2EN (1u << 17)

/* GPIO ports on AHB2 (RM0351 §2.2 memory map; GPIO registers §8). */
#define GPIOA_BASE       0x48000000u

/* LD2 = PA5. */
#define LED_GPIO         GPIOA_BASE
#define LED_PIN          5u
#define LED_CLK_ENR      RCC_AHB2ENR
#define LED_CLK_EN       RCC_AHB2ENR_GPIOAEN

/* USART2 (RM0351 §40, USART registers) on PA2/PA3 AF7.  Kernel clock after reset: PCLK1
   (RCC_CCIPR.USART2SEL = 00, RM0351 §6.4). */
#define UART_BASE        0x40004400u
#define UART_CLK_ENR     RCC_APB1ENR1
#define UART_CLK_EN      RCC_APB1ENR1_USART2EN
#define UART_KERNEL_HZ   CHIP_HCLK_HZ
#define UART_GPIO        GPIOA_BASE
#define UART_GPIO_CLK_ENR RCC_AHB2ENR
#define UART_GPIO_CLK_EN RCC_AHB2ENR_GPIOAEN
#define UART_TX_PIN      2u
#define UART_RX_PIN      3u
#define UART_AF          7u

/* Peripheral interrupt vectors, RM0351 Table 58 (STM32L475/476/486,
   positions 0..81; position 79 is AES on the L486, reserved on the L476;
   handler names are ST's).  R() is a reserved slot (word 0). */
#define CHIP_IRQ_COUNT   82
#define CHIP_IRQ_VECTORS(V, R) \
    V(WWDG) V(PVD_PVM) V(TAMP_STAMP) V(RTC_WKUP) V(FLASH) V(RCC) \
    V(EXTI0) V(EXTI1) V(EXTI2) V(EXTI3) V(EXTI4) \
    V(DMA1_Channel1) V(DMA1_Channel2) V(DMA1_Channel3) V(DMA1_Channel4) \
    V(DMA1_Channel5) V(DMA1_Channel6) V(DMA1_Channel7) \
    V(ADC1_2) V(CAN1_TX) V(CAN1_RX0) V(CAN1_RX1) V(CAN1_SCE) \
    V(EXTI9_5) V(TIM1_BRK_TIM15) V(TIM1_UP_TIM16) V(TIM1_TRG_COM_TIM17) V(TIM1_CC) \
    V(TIM2) V(TIM3) V(TIM4) V(I2C1_EV) V(I2C1_ER) V(I2C2_EV) V(I2C2_ER) \
    V(SPI1) V(SPI2) V(USART1) V(USART2) V(USART3) V(EXTI15_10) V(RTC_Alarm) \
    V(DFSDM1_FLT3) V(TIM8_BRK) V(TIM8_UP) V(TIM8_TRG_COM) V(TIM8_CC) V(ADC3) \
    V(FMC) V(SDMMC1) V(TIM5) V(SPI3) V(UART4) V(UART5) V(TIM6_DAC) V(TIM7) \
    V(DMA2_Channel1) V(DMA2_Channel2) V(DMA2_Channel3) V(DMA2_Channel4) \
    V(DMA2_Channel5) V(DFSDM1_FLT0) V(DFSDM1_FLT1) V(DFSDM1_FLT2) \
    V(COMP) V(LPTIM1) V(LPTIM2) V(OTG_FS) V(DMA2_Channel6) V(DMA2_Channel7) \
    V(LPUART1) V(QUADSPI) V(I2C3_EV) V(I2C3_ER) V(SAI1) V(SAI2) V(SWPMI1) \
    V(TSC) V(LCD) \
    R() \
    V(RNG) V(FPU)

#endif /* CHIP_L476_H */
