/*
 * STM32H743ZI on the NUCLEO-H743ZI board, for the Cortex-M7 flash images
 * (startup_m4.c, m4_blinky.c, m4_fpu.c, h743_lowpower.c; built with
 * -DCHIP_H743 and the M7 flags).  Reference manual RM0433.
 *
 * Clock: nothing is set up, the core runs on the reset clock, HSI at
 * 64 MHz (RM0433 §8.5: HSI is the system clock after reset, RCC_CR.HSIDIV
 * = 1; §8.7, RCC_D1CFGR/RCC_D2CFGR: D1CPRE, HPRE, D2PPRE1 = 1), so
 * sys_ck = CPU clock = HCLK = PCLK1 = 64 MHz.  Flash: the reset wait states
 * (FLASH_ACR.LATENCY = 7) are enough for 64 MHz.
 * LEDs (UM2407, the NUCLEO-H743ZI2 board MB1364): LD1 green PB0, LD2
 * yellow PE1, LD3 red PB14 (the first NUCLEO-H743ZI, UM1974, has LD2 on
 * PB7; the firmware drives PE1).
 * USART3 on PD8 (TX) / PD9 (RX), AF7: the ST-LINK virtual COM port
 * (UM2407, USART communication; DS12110 alternate-function table).
 */
#ifndef CHIP_H743_H
#define CHIP_H743_H

#define CHIP_NAME        "STM32H743ZI"
#define CHIP_TAG0        'H'
#define CHIP_TAG1        '7'
/* The part number as a result tag (RESULT_TAG, results.h), for the FPU images. */
#define CHIP_PART_TAG    RESULT_TAG('H', '7', '4', '3')
#define CHIP_HCLK_HZ     64000000u

/* RCC, 0x58024400 (RM0433 §8.7). */
#define RCC_BASE         0x58024400u
#define RCC_AHB4ENR      (RCC_BASE + 0xE0u)   /* RCC_AHB4ENR (§8.7) */
#define RCC_APB1LENR     (RCC_BASE + 0xE8u)   /* RCC_APB1LENR (§8.7) */
#define RCC_AHB4ENR_GPIOAEN   (1u << 0)
#define RCC_AHB4ENR_GPIOBEN   (1u << 1)
#define RCC_AHB4ENR_GPIODEN   (1u << 3)
#define RCC_AHB4ENR_GPIOEEN   (1u << 4)
#define RCC_APB1LENR_USART3EN (1u << 18)

/* GPIO ports on AHB4 (RM0433 §2.3.2 Table 8; GPIO registers §11.4). */
#define GPIOA_BASE       0x58020000u
#define GPIOB_BASE       0x58020400u
#define GPIOD_BASE       0x58020C00u
#define GPIOE_BASE       0x58021000u

/* LD1 = PB0 is "the" LED of the blinky's result block; LD3 = PB14 and
   LD2 = PE1 toggle with it (CHIP_EXTRA_LEDS). */
#define LED_GPIO         GPIOB_BASE
#define LED_PIN          0u
#define LED_CLK_ENR      RCC_AHB4ENR
#define LED_CLK_EN       RCC_AHB4ENR_GPIOBEN
#define CHIP_EXTRA_LEDS(X) \
    X(GPIOB_BASE, 14u, RCC_AHB4ENR_GPIOBEN) \
    X(GPIOE_BASE, 1u, RCC_AHB4ENR_GPIOEEN)

/* USART3 (RM0433 §48, USART registers: the F3/G4/L4 layout with PRESC)
   on PD8/PD9 AF7.  Kernel clock after reset: rcc_pclk1
   (RCC_D2CCIP2R.USART234578SEL = 000, §8.7); USART_PRESC = 0 (/1). */
#define UART_BASE        0x40004800u
#define UART_CLK_ENR     RCC_APB1LENR
#define UART_CLK_EN      RCC_APB1LENR_USART3EN
#define UART_KERNEL_HZ   CHIP_HCLK_HZ
#define UART_GPIO        GPIOD_BASE
#define UART_GPIO_CLK_ENR RCC_AHB4ENR
#define UART_GPIO_CLK_EN RCC_AHB4ENR_GPIODEN
#define UART_TX_PIN      8u
#define UART_RX_PIN      9u
#define UART_AF          7u
/* PD8/PD9 are in AFRH: the result block's uart_afr records that. */
#define UART_AFR(port)   GPIO_AFRH(port)
/* One byte at 115200 baud is 87 us = 5556 cycles at 64 MHz: 100000 polls
   of at least 4 cycles are > 70 byte times. */
#define TXE_WAIT_LOOPS   100000u

/* The blinky's main loop sleeps (wfi, Sleep mode: SLEEPDEEP = 0) between
   SysTick interrupts, as low-power firmware does: at 64 MHz a busy loop
   executes 64 million instructions per second, which on stdbg's
   simulator costs several seconds of host time per virtual second. */
#define CHIP_IDLE_WFI    1

/* h743-swd-off's pins: PA13/PA14 on GPIOA, whose clock the blinky does
   not otherwise enable (RCC_AHB4ENR.GPIOAEN: a port's registers need it). */
#define SWD_GPIO_CLK_ENR RCC_AHB4ENR
#define SWD_GPIO_CLK_EN  RCC_AHB4ENR_GPIOAEN

/* DBGMCU_CR on the CPU's bus (RM0433 §60.5.8). */
#define DBGMCU_CR        0x5C001004u
/* PWR_CPUCR (RM0433 §6.8.5): PDDS_D1..D3 bits 0-2, STOPF 5, SBF 6, CSSF 9. */
#define PWR_CPUCR        0x58024810u
#define PWR_CPUCR_PDDS_D1 (1u << 0)
#define PWR_CPUCR_PDDS_D2 (1u << 1)
#define PWR_CPUCR_PDDS_D3 (1u << 2)
#define PWR_CPUCR_CSSF   (1u << 9)

/* Peripheral interrupt vectors, RM0433 Table 137 (STM32H742/743/753/750,
   positions 0..149; the CRYP and HASH positions 79 and 80 of the H753 are
   reserved on the H743 except RNG at 80; handler names are ST's).  R() is
   a reserved slot (word 0). */
#define CHIP_IRQ_COUNT   150
#define CHIP_IRQ_VECTORS(V, R) \
    V(WWDG) V(PVD_AVD) V(TAMP_STAMP) V(RTC_WKUP) V(FLASH) V(RCC) \
    V(EXTI0) V(EXTI1) V(EXTI2) V(EXTI3) V(EXTI4) \
    V(DMA1_Stream0) V(DMA1_Stream1) V(DMA1_Stream2) V(DMA1_Stream3) \
    V(DMA1_Stream4) V(DMA1_Stream5) V(DMA1_Stream6) V(ADC) \
    V(FDCAN1_IT0) V(FDCAN2_IT0) V(FDCAN1_IT1) V(FDCAN2_IT1) V(EXTI9_5) \
    V(TIM1_BRK) V(TIM1_UP) V(TIM1_TRG_COM) V(TIM1_CC) V(TIM2) V(TIM3) V(TIM4) \
    V(I2C1_EV) V(I2C1_ER) V(I2C2_EV) V(I2C2_ER) V(SPI1) V(SPI2) \
    V(USART1) V(USART2) V(USART3) V(EXTI15_10) V(RTC_Alarm) \
    R() \
    V(TIM8_BRK_TIM12) V(TIM8_UP_TIM13) V(TIM8_TRG_COM_TIM14) V(TIM8_CC) \
    V(DMA1_Stream7) V(FMC) V(SDMMC1) V(TIM5) V(SPI3) V(UART4) V(UART5) \
    V(TIM6_DAC) V(TIM7) V(DMA2_Stream0) V(DMA2_Stream1) V(DMA2_Stream2) \
    V(DMA2_Stream3) V(DMA2_Stream4) V(ETH) V(ETH_WKUP) V(FDCAN_CAL) \
    R() R() R() R() \
    V(DMA2_Stream5) V(DMA2_Stream6) V(DMA2_Stream7) V(USART6) \
    V(I2C3_EV) V(I2C3_ER) V(OTG_HS_EP1_OUT) V(OTG_HS_EP1_IN) V(OTG_HS_WKUP) \
    V(OTG_HS) V(DCMI) \
    R() \
    V(RNG) V(FPU) V(UART7) V(UART8) V(SPI4) V(SPI5) V(SPI6) V(SAI1) \
    V(LTDC) V(LTDC_ER) V(DMA2D) V(SAI2) V(QUADSPI) V(LPTIM1) V(CEC) \
    V(I2C4_EV) V(I2C4_ER) V(SPDIF_RX) V(OTG_FS_EP1_OUT) V(OTG_FS_EP1_IN) \
    V(OTG_FS_WKUP) V(OTG_FS) V(DMAMUX1_OVR) \
    V(HRTIM1_Master) V(HRTIM1_TIMA) V(HRTIM1_TIMB) V(HRTIM1_TIMC) \
    V(HRTIM1_TIMD) V(HRTIM1_TIME) V(HRTIM1_FLT) \
    V(DFSDM1_FLT0) V(DFSDM1_FLT1) V(DFSDM1_FLT2) V(DFSDM1_FLT3) \
    V(SAI3) V(SWPMI1) V(TIM15) V(TIM16) V(TIM17) V(MDIOS_WKUP) V(MDIOS) \
    V(JPEG) V(MDMA) \
    R() \
    V(SDMMC2) V(HSEM1) \
    R() \
    V(ADC3) V(DMAMUX2_OVR) \
    V(BDMA_Channel0) V(BDMA_Channel1) V(BDMA_Channel2) V(BDMA_Channel3) \
    V(BDMA_Channel4) V(BDMA_Channel5) V(BDMA_Channel6) V(BDMA_Channel7) \
    V(COMP1) V(LPTIM2) V(LPTIM3) V(LPTIM4) V(LPTIM5) V(LPUART1) \
    R() \
    V(CRS) V(ECC) V(SAI4) \
    R() R() \
    V(WAKEUP_PIN)

#endif /* CHIP_H743_H */
