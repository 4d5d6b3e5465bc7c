/*
 * Device header for the STM32F103x8/xB (medium density) as the HAL-style
 * test images use it: interrupt numbers, peripheral register blocks and
 * the bits the images touch.  Written from RM0008 (RCC §7.3, GPIO and
 * AFIO §9, EXTI §10.3, TIM2-5 §15.4, SPI §25.5, I2C §26.6, USART §27.6,
 * the vector table in §10.1.2 Table 63) and PM0075 (FLASH_ACR).  Names
 * follow ST's CMSIS device header so the code reads like CubeF1 firmware.
 */
#ifndef STM32F103XB_H
#define STM32F103XB_H

#include <stdint.h>

/* Exception and interrupt numbers (RM0008 Table 63). */
typedef enum {
    NonMaskableInt_IRQn   = -14,
    HardFault_IRQn        = -13,
    MemoryManagement_IRQn = -12,
    BusFault_IRQn         = -11,
    UsageFault_IRQn       = -10,
    SVCall_IRQn           = -5,
    DebugMonitor_IRQn     = -4,
    PendSV_IRQn           = -2,
    SysTick_IRQn          = -1,
    WWDG_IRQn = 0, PVD_IRQn = 1, TAMPER_IRQn = 2, RTC_IRQn = 3, FLASH_IRQn = 4,
    RCC_IRQn = 5, EXTI0_IRQn = 6, EXTI1_IRQn = 7, EXTI2_IRQn = 8, EXTI3_IRQn = 9,
    EXTI4_IRQn = 10, DMA1_Channel1_IRQn = 11, DMA1_Channel2_IRQn = 12,
    DMA1_Channel3_IRQn = 13, DMA1_Channel4_IRQn = 14, DMA1_Channel5_IRQn = 15,
    DMA1_Channel6_IRQn = 16, DMA1_Channel7_IRQn = 17, ADC1_2_IRQn = 18,
    USB_HP_CAN1_TX_IRQn = 19, USB_LP_CAN1_RX0_IRQn = 20, CAN1_RX1_IRQn = 21,
    CAN1_SCE_IRQn = 22, EXTI9_5_IRQn = 23, TIM1_BRK_IRQn = 24, TIM1_UP_IRQn = 25,
    TIM1_TRG_COM_IRQn = 26, TIM1_CC_IRQn = 27, TIM2_IRQn = 28, TIM3_IRQn = 29,
    TIM4_IRQn = 30, I2C1_EV_IRQn = 31, I2C1_ER_IRQn = 32, I2C2_EV_IRQn = 33,
    I2C2_ER_IRQn = 34, SPI1_IRQn = 35, SPI2_IRQn = 36, USART1_IRQn = 37,
    USART2_IRQn = 38, USART3_IRQn = 39, EXTI15_10_IRQn = 40, RTC_Alarm_IRQn = 41,
    USBWakeUp_IRQn = 42,
} IRQn_Type;

#define __NVIC_PRIO_BITS 4u   /* STM32F1: 16 priority levels (PM0056 §4.3, NVIC_IPRx) */
#include "cortex_m.h"

/* RCC (RM0008 §7.3) */
typedef struct {
    __IO uint32_t CR, CFGR, CIR, APB2RSTR, APB1RSTR, AHBENR, APB2ENR, APB1ENR, BDCR, CSR;
} RCC_TypeDef;
#define RCC_CR_HSION         (1u << 0)
#define RCC_CR_HSIRDY        (1u << 1)
#define RCC_CR_HSEON         (1u << 16)
#define RCC_CR_HSERDY        (1u << 17)
#define RCC_CR_HSEBYP        (1u << 18)
#define RCC_CR_PLLON         (1u << 24)
#define RCC_CR_PLLRDY        (1u << 25)
#define RCC_CFGR_SW_Msk      (3u << 0)
#define RCC_CFGR_SW_PLL      (2u << 0)
#define RCC_CFGR_SWS_Msk     (3u << 2)
#define RCC_CFGR_SWS_HSI     (0u << 2)
#define RCC_CFGR_SWS_HSE     (1u << 2)
#define RCC_CFGR_SWS_PLL     (2u << 2)
#define RCC_CFGR_HPRE_Msk    (0xFu << 4)
#define RCC_CFGR_PPRE1_Msk   (7u << 8)
#define RCC_CFGR_PPRE2_Msk   (7u << 11)
#define RCC_CFGR_PLLSRC      (1u << 16)
#define RCC_CFGR_PLLXTPRE    (1u << 17)
#define RCC_CFGR_PLLMULL_Msk (0xFu << 18)
#define RCC_APB2ENR_AFIOEN   (1u << 0)
#define RCC_APB2ENR_IOPAEN   (1u << 2)
#define RCC_APB2ENR_IOPBEN   (1u << 3)
#define RCC_APB2ENR_IOPCEN   (1u << 4)
#define RCC_APB2ENR_IOPDEN   (1u << 5)
#define RCC_APB2ENR_SPI1EN   (1u << 12)
#define RCC_APB2ENR_USART1EN (1u << 14)
#define RCC_APB1ENR_TIM2EN   (1u << 0)
#define RCC_APB1ENR_I2C1EN   (1u << 21)
#define RCC_APB1ENR_PWREN    (1u << 28)

/* FLASH interface (PM0075) */
typedef struct {
    __IO uint32_t ACR, KEYR, OPTKEYR, SR, CR, AR, RESERVED, OBR, WRPR;
} FLASH_TypeDef;
#define FLASH_ACR_LATENCY_Msk (7u << 0)
#define FLASH_ACR_PRFTBE      (1u << 4)
#define FLASH_ACR_PRFTBS      (1u << 5)

/* GPIO and AFIO (RM0008 §9.2, §9.4) */
typedef struct {
    __IO uint32_t CRL, CRH, IDR, ODR, BSRR, BRR, LCKR;
} GPIO_TypeDef;
typedef struct {
    __IO uint32_t EVCR, MAPR, EXTICR[4], RESERVED0, MAPR2;
} AFIO_TypeDef;
#define AFIO_MAPR_SWJ_CFG_Msk        (7u << 24)
#define AFIO_MAPR_SWJ_CFG_JTAGDISABLE (2u << 24)  /* JTAG-DP off, SW-DP on */

/* EXTI (RM0008 §10.3) */
typedef struct {
    __IO uint32_t IMR, EMR, RTSR, FTSR, SWIER, PR;
} EXTI_TypeDef;

/* TIM2..TIM5 (RM0008 §15.4) */
typedef struct {
    __IO uint32_t CR1, CR2, SMCR, DIER, SR, EGR, CCMR1, CCMR2, CCER, CNT, PSC, ARR,
                  RCR, CCR1, CCR2, CCR3, CCR4, BDTR, DCR, DMAR;
} TIM_TypeDef;
#define TIM_CR1_CEN   (1u << 0)
#define TIM_CR1_URS   (1u << 2)
#define TIM_DIER_UIE  (1u << 0)
#define TIM_SR_UIF    (1u << 0)
#define TIM_EGR_UG    (1u << 0)

/* USART (RM0008 §27.6) */
typedef struct {
    __IO uint32_t SR, DR, BRR, CR1, CR2, CR3, GTPR;
} USART_TypeDef;
#define USART_SR_PE     (1u << 0)
#define USART_SR_FE     (1u << 1)
#define USART_SR_NE     (1u << 2)
#define USART_SR_ORE    (1u << 3)
#define USART_SR_RXNE   (1u << 5)
#define USART_SR_TC     (1u << 6)
#define USART_SR_TXE    (1u << 7)
#define USART_CR1_RE    (1u << 2)
#define USART_CR1_TE    (1u << 3)
#define USART_CR1_RXNEIE (1u << 5)
#define USART_CR1_PCE   (1u << 10)
#define USART_CR1_M     (1u << 12)
#define USART_CR1_UE    (1u << 13)
#define USART_CR2_STOP_Msk (3u << 12)
#define USART_CR2_LINEN (1u << 14)
#define USART_CR2_CLKEN (1u << 11)
#define USART_CR3_IREN  (1u << 1)
#define USART_CR3_HDSEL (1u << 3)
#define USART_CR3_SCEN  (1u << 5)

/* SPI (RM0008 §25.5) */
typedef struct {
    __IO uint32_t CR1, CR2, SR, DR, CRCPR, RXCRCR, TXCRCR, I2SCFGR, I2SPR;
} SPI_TypeDef;
#define SPI_CR1_CPHA    (1u << 0)
#define SPI_CR1_CPOL    (1u << 1)
#define SPI_CR1_MSTR    (1u << 2)
#define SPI_CR1_BR_Pos  3
#define SPI_CR1_SPE     (1u << 6)
#define SPI_CR1_SSI     (1u << 8)
#define SPI_CR1_SSM     (1u << 9)
#define SPI_SR_RXNE     (1u << 0)
#define SPI_SR_TXE      (1u << 1)
#define SPI_SR_MODF     (1u << 5)
#define SPI_SR_OVR      (1u << 6)
#define SPI_SR_BSY      (1u << 7)

/* I2C (RM0008 §26.6) */
typedef struct {
    __IO uint32_t CR1, CR2, OAR1, OAR2, DR, SR1, SR2, CCR, TRISE;
} I2C_TypeDef;
#define I2C_CR1_PE      (1u << 0)
#define I2C_CR1_START   (1u << 8)
#define I2C_CR1_STOP    (1u << 9)
#define I2C_CR1_ACK     (1u << 10)
#define I2C_CR1_POS     (1u << 11)
#define I2C_CR1_SWRST   (1u << 15)
#define I2C_SR1_SB      (1u << 0)
#define I2C_SR1_ADDR    (1u << 1)
#define I2C_SR1_BTF     (1u << 2)
#define I2C_SR1_TXE     (1u << 7)
#define I2C_SR1_BERR    (1u << 8)
#define I2C_SR1_ARLO    (1u << 9)
#define I2C_SR1_AF      (1u << 10)
#define I2C_SR2_MSL     (1u << 0)
#define I2C_SR2_BUSY    (1u << 1)

#define FLASH_BASE  0x08000000u
#define TIM2   ((TIM_TypeDef *)0x40000000u)
#define I2C1   ((I2C_TypeDef *)0x40005400u)
#define AFIO   ((AFIO_TypeDef *)0x40010000u)
#define EXTI   ((EXTI_TypeDef *)0x40010400u)
#define GPIOA  ((GPIO_TypeDef *)0x40010800u)
#define GPIOB  ((GPIO_TypeDef *)0x40010C00u)
#define GPIOC  ((GPIO_TypeDef *)0x40011000u)
#define SPI1   ((SPI_TypeDef *)0x40013000u)
#define USART1 ((USART_TypeDef *)0x40013800u)
#define RCC    ((RCC_TypeDef *)0x40021000u)
#define FLASH  ((FLASH_TypeDef *)0x40022000u)

#endif /* STM32F103XB_H */
