/*
 * STM32G474RE on the NUCLEO-G474RE board, for the M4F flash images
 * (startup_m4.c, m4_blinky.c, m4_fpu.c).  Reference manual RM0440.
 *
 * Clock: nothing is set up, the core runs on the reset clock, HSI16
 * (RM0440 §7.2: HSI16 is the system clock after reset),
 * SYSCLK = HCLK = PCLK1 = PCLK2 = 16 MHz.
 * LED: LD2 (green) on PA5 (UM2505, LEDs).  USART2 on PA2 (TX) / PA3 (RX),
 * AF7: the ST-LINK virtual COM port (UM2505, USART virtual communication).
 */
#ifndef CHIP_G474_H
#define CHIP_G474_H

#define CHIP_NAME        "STM32G474RE"
#define CHIP_TAG0        'G'
#define CHIP_TAG1        '4'
/* The part number as a result tag (RESULT_TAG, results.h), for the FPU images. */
#define CHIP_PART_TAG    RESULT_TAG('G', '4', '7', '4')
#define CHIP_HCLK_HZ     16000000u

/* RCC, 0x40021000 (RM0440 §7.4). */
#define RCC_BASE         0x40021000u
#define RCC_AHB2ENR      (RCC_BASE + 0x4Cu)   /* RCC_AHB2ENR */
#define RCC_APB1ENR1     (RCC_BASE + 0x58u)   /* RCC_APB1ENR1 */
#define RCC_AHB2ENR_GPIOAEN   (1u << 0)
#define RCC_APB1ENR1_USART2EN (1u << 17)

/* GPIO ports on AHB2 (RM0440 §2.2 memory map; GPIO registers §9.4). */
#define GPIOA_BASE       0x48000000u

/* LD2 = PA5. */
#define LED_GPIO         GPIOA_BASE
#define LED_PIN          5u
#define LED_CLK_ENR      RCC_AHB2ENR
#define LED_CLK_EN       RCC_AHB2ENR_GPIOAEN

/* USART2 (RM0440 §37, USART registers) on PA2/PA3 AF7.  Kernel clock after reset: PCLK1
   (RCC_CCIPR.USART2SEL = 00, RM0440 §7.4); USART_PRESC = 0 (/1). */
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

/* Peripheral interrupt vectors, RM0440 Table 97 (STM32G474, positions
   0..101; position 85 is AES on the G48x, reserved on the G474; handler
   names are ST's).  R() is a reserved slot (word 0). */
#define CHIP_IRQ_COUNT   102
#define CHIP_IRQ_VECTORS(V, R) \
    V(WWDG) V(PVD_PVM) V(RTC_TAMP_LSECSS) V(RTC_WKUP) V(FLASH) V(RCC) \
    V(EXTI0) V(EXTI1) V(EXTI2) V(EXTI3) V(EXTI4) \
    V(DMA1_Channel1) V(DMA1_Channel2) V(DMA1_Channel3) V(DMA1_Channel4) \
    V(DMA1_Channel5) V(DMA1_Channel6) V(DMA1_Channel7) \
    V(ADC1_2) V(USB_HP) V(USB_LP) V(FDCAN1_IT0) V(FDCAN1_IT1) \
    V(EXTI9_5) V(TIM1_BRK_TIM15) V(TIM1_UP_TIM16) V(TIM1_TRG_COM_TIM17) V(TIM1_CC) \
    V(TIM2) V(TIM3) V(TIM4) V(I2C1_EV) V(I2C1_ER) V(I2C2_EV) V(I2C2_ER) \
    V(SPI1) V(SPI2) V(USART1) V(USART2) V(USART3) V(EXTI15_10) V(RTC_Alarm) \
    V(USBWakeUp) V(TIM8_BRK) V(TIM8_UP) V(TIM8_TRG_COM) V(TIM8_CC) V(ADC3) \
    V(FMC) V(LPTIM1) V(TIM5) V(SPI3) V(UART4) V(UART5) V(TIM6_DAC) V(TIM7_DAC) \
    V(DMA2_Channel1) V(DMA2_Channel2) V(DMA2_Channel3) V(DMA2_Channel4) \
    V(DMA2_Channel5) V(ADC4) V(ADC5) V(UCPD1) V(COMP1_2_3) V(COMP4_5_6) V(COMP7) \
    V(HRTIM1_Master) V(HRTIM1_TIMA) V(HRTIM1_TIMB) V(HRTIM1_TIMC) V(HRTIM1_TIMD) \
    V(HRTIM1_TIME) V(HRTIM1_FLT) V(HRTIM1_TIMF) V(CRS) V(SAI1) \
    V(TIM20_BRK) V(TIM20_UP) V(TIM20_TRG_COM) V(TIM20_CC) V(FPU) \
    V(I2C4_EV) V(I2C4_ER) V(SPI4) \
    R() \
    V(FDCAN2_IT0) V(FDCAN2_IT1) V(FDCAN3_IT0) V(FDCAN3_IT1) V(RNG) V(LPUART1) \
    V(I2C3_EV) V(I2C3_ER) V(DMAMUX_OVR) V(QUADSPI) V(DMA1_Channel8) \
    V(DMA2_Channel6) V(DMA2_Channel7) V(DMA2_Channel8) V(CORDIC) V(FMAC)

#endif /* CHIP_G474_H */
