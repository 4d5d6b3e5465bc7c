/*
 * A small register-level stand-in for ST's STM32CubeF1 HAL, with the same
 * names, structure and semantics for the parts the test images use:
 * the 1 kHz tick (HAL_Init, HAL_InitTick, HAL_IncTick, HAL_GetTick,
 * HAL_Delay), HAL_NVIC_*, HAL_SYSTICK_*, HAL_GPIO_*, the RCC oscillator
 * and clock configuration, and blocking UART/SPI/I2C transfers with
 * HAL-style timeouts.  Written from RM0008 and the HAL's documented
 * behaviour (UM1850); no ST source is included.
 */
#ifndef STM32F1_HAL_H
#define STM32F1_HAL_H

#include <stddef.h>
#include <stdint.h>
#include "stm32f103xb.h"

typedef enum {
    HAL_OK = 0x00u,
    HAL_ERROR = 0x01u,
    HAL_BUSY = 0x02u,
    HAL_TIMEOUT = 0x03u,
} HAL_StatusTypeDef;

#define HAL_MAX_DELAY 0xFFFFFFFFu

/* ---- tick (stm32f1xx_hal.c) ---- */
typedef enum {
    HAL_TICK_FREQ_10HZ = 100u,
    HAL_TICK_FREQ_100HZ = 10u,
    HAL_TICK_FREQ_1KHZ = 1u,
    HAL_TICK_FREQ_DEFAULT = HAL_TICK_FREQ_1KHZ,
} HAL_TickFreqTypeDef;

#define TICK_INT_PRIORITY 0x0Fu   /* stm32f1xx_hal_conf.h: lowest */

extern volatile uint32_t uwTick;
extern uint32_t uwTickPrio;
extern HAL_TickFreqTypeDef uwTickFreq;
extern uint32_t SystemCoreClock;
extern const uint8_t AHBPrescTable[16];
extern const uint8_t APBPrescTable[8];

HAL_StatusTypeDef HAL_Init(void);
void HAL_MspInit(void);
HAL_StatusTypeDef HAL_InitTick(uint32_t TickPriority);
void HAL_IncTick(void);
uint32_t HAL_GetTick(void);
void HAL_Delay(uint32_t Delay);

/* ---- Cortex (stm32f1xx_hal_cortex.c) ---- */
#define NVIC_PRIORITYGROUP_0 0x7u   /* 0 bits preemption, 4 bits sub */
#define NVIC_PRIORITYGROUP_1 0x6u
#define NVIC_PRIORITYGROUP_2 0x5u   /* 2 bits preemption, 2 bits sub */
#define NVIC_PRIORITYGROUP_3 0x4u
#define NVIC_PRIORITYGROUP_4 0x3u   /* 4 bits preemption, 0 bits sub */
#define SYSTICK_CLKSOURCE_HCLK_DIV8 0x0u
#define SYSTICK_CLKSOURCE_HCLK      SysTick_CTRL_CLKSOURCE

void HAL_NVIC_SetPriorityGrouping(uint32_t PriorityGroup);
void HAL_NVIC_SetPriority(IRQn_Type IRQn, uint32_t PreemptPriority, uint32_t SubPriority);
void HAL_NVIC_EnableIRQ(IRQn_Type IRQn);
void HAL_NVIC_DisableIRQ(IRQn_Type IRQn);
void HAL_NVIC_SetPendingIRQ(IRQn_Type IRQn);
void HAL_NVIC_ClearPendingIRQ(IRQn_Type IRQn);
uint32_t HAL_NVIC_GetPendingIRQ(IRQn_Type IRQn);
uint32_t HAL_NVIC_GetActive(IRQn_Type IRQn);
uint32_t HAL_SYSTICK_Config(uint32_t TicksNumb);
void HAL_SYSTICK_CLKSourceConfig(uint32_t CLKSource);

/* ---- GPIO (stm32f1xx_hal_gpio.c) ---- */
typedef struct {
    uint32_t Pin;
    uint32_t Mode;
    uint32_t Pull;
    uint32_t Speed;
} GPIO_InitTypeDef;
typedef enum { GPIO_PIN_RESET = 0u, GPIO_PIN_SET } GPIO_PinState;

#define GPIO_PIN(n)          ((uint16_t)(1u << (n)))
#define GPIO_PIN_5           GPIO_PIN(5)
#define GPIO_PIN_6           GPIO_PIN(6)
#define GPIO_PIN_7           GPIO_PIN(7)
#define GPIO_PIN_9           GPIO_PIN(9)
#define GPIO_PIN_10          GPIO_PIN(10)
#define GPIO_PIN_13          GPIO_PIN(13)
#define GPIO_MODE_INPUT      0x00u
#define GPIO_MODE_OUTPUT_PP  0x01u
#define GPIO_MODE_OUTPUT_OD  0x11u
#define GPIO_MODE_AF_PP      0x02u
#define GPIO_MODE_AF_OD      0x12u
#define GPIO_MODE_ANALOG     0x03u
#define GPIO_NOPULL          0x0u
#define GPIO_PULLUP          0x1u
#define GPIO_PULLDOWN        0x2u
#define GPIO_SPEED_FREQ_LOW    0x2u  /* MODE = 10: 2 MHz */
#define GPIO_SPEED_FREQ_MEDIUM 0x1u  /* MODE = 01: 10 MHz */
#define GPIO_SPEED_FREQ_HIGH   0x3u  /* MODE = 11: 50 MHz */

void HAL_GPIO_Init(GPIO_TypeDef *GPIOx, const GPIO_InitTypeDef *GPIO_Init);
void HAL_GPIO_WritePin(GPIO_TypeDef *GPIOx, uint16_t GPIO_Pin, GPIO_PinState PinState);
void HAL_GPIO_TogglePin(GPIO_TypeDef *GPIOx, uint16_t GPIO_Pin);
GPIO_PinState HAL_GPIO_ReadPin(GPIO_TypeDef *GPIOx, uint16_t GPIO_Pin);

/* Clock gates, with the read-back ST's macros do so the clock is on
   before the next access. */
#define HAL_RCC_CLK_ENABLE(reg, bit) do { \
        RCC->reg |= (bit); \
        volatile uint32_t tmpreg_ = RCC->reg & (bit); \
        (void)tmpreg_; \
    } while (0)
#define __HAL_RCC_AFIO_CLK_ENABLE()   HAL_RCC_CLK_ENABLE(APB2ENR, RCC_APB2ENR_AFIOEN)
#define __HAL_RCC_GPIOA_CLK_ENABLE()  HAL_RCC_CLK_ENABLE(APB2ENR, RCC_APB2ENR_IOPAEN)
#define __HAL_RCC_GPIOB_CLK_ENABLE()  HAL_RCC_CLK_ENABLE(APB2ENR, RCC_APB2ENR_IOPBEN)
#define __HAL_RCC_GPIOC_CLK_ENABLE()  HAL_RCC_CLK_ENABLE(APB2ENR, RCC_APB2ENR_IOPCEN)
#define __HAL_RCC_GPIOD_CLK_ENABLE()  HAL_RCC_CLK_ENABLE(APB2ENR, RCC_APB2ENR_IOPDEN)
#define __HAL_RCC_SPI1_CLK_ENABLE()   HAL_RCC_CLK_ENABLE(APB2ENR, RCC_APB2ENR_SPI1EN)
#define __HAL_RCC_USART1_CLK_ENABLE() HAL_RCC_CLK_ENABLE(APB2ENR, RCC_APB2ENR_USART1EN)
#define __HAL_RCC_TIM2_CLK_ENABLE()   HAL_RCC_CLK_ENABLE(APB1ENR, RCC_APB1ENR_TIM2EN)
#define __HAL_RCC_I2C1_CLK_ENABLE()   HAL_RCC_CLK_ENABLE(APB1ENR, RCC_APB1ENR_I2C1EN)
#define __HAL_RCC_PWR_CLK_ENABLE()    HAL_RCC_CLK_ENABLE(APB1ENR, RCC_APB1ENR_PWREN)

/* JTAG-DP off, SW-DP on: what CubeMX's HAL_MspInit does for "Serial Wire". */
#define __HAL_AFIO_REMAP_SWJ_NOJTAG() do { \
        uint32_t mapr_ = AFIO->MAPR & ~AFIO_MAPR_SWJ_CFG_Msk; \
        AFIO->MAPR = mapr_ | AFIO_MAPR_SWJ_CFG_JTAGDISABLE; \
    } while (0)

/* ---- RCC (stm32f1xx_hal_rcc.c) ---- */
typedef struct {
    uint32_t PLLState;
    uint32_t PLLSource;
    uint32_t PLLMUL;
} RCC_PLLInitTypeDef;
typedef struct {
    uint32_t OscillatorType;
    uint32_t HSEState;
    uint32_t HSEPredivValue;
    uint32_t HSIState;
    RCC_PLLInitTypeDef PLL;
} RCC_OscInitTypeDef;
typedef struct {
    uint32_t ClockType;
    uint32_t SYSCLKSource;
    uint32_t AHBCLKDivider;
    uint32_t APB1CLKDivider;
    uint32_t APB2CLKDivider;
} RCC_ClkInitTypeDef;

#define RCC_OSCILLATORTYPE_HSE 0x1u
#define RCC_OSCILLATORTYPE_HSI 0x2u
#define RCC_HSE_OFF            0x0u
#define RCC_HSE_ON             RCC_CR_HSEON
#define RCC_HSE_PREDIV_DIV1    0x0u
#define RCC_HSI_ON             RCC_CR_HSION
#define RCC_PLL_NONE           0x0u
#define RCC_PLL_OFF            0x1u
#define RCC_PLL_ON             0x2u
#define RCC_PLLSOURCE_HSI_DIV2 0x0u
#define RCC_PLLSOURCE_HSE      RCC_CFGR_PLLSRC
#define RCC_PLL_MUL9           (7u << 18)
#define RCC_CLOCKTYPE_SYSCLK   0x1u
#define RCC_CLOCKTYPE_HCLK     0x2u
#define RCC_CLOCKTYPE_PCLK1    0x4u
#define RCC_CLOCKTYPE_PCLK2    0x8u
#define RCC_SYSCLKSOURCE_HSI   0x0u
#define RCC_SYSCLKSOURCE_HSE   0x1u
#define RCC_SYSCLKSOURCE_PLLCLK 0x2u
#define RCC_SYSCLK_DIV1        0x0u
#define RCC_HCLK_DIV1          0x0u
#define RCC_HCLK_DIV2          (4u << 8)
#define RCC_HCLK_DIV16         (7u << 8)
#define FLASH_LATENCY_2        0x2u
#define HSE_STARTUP_TIMEOUT      100u   /* ms */
#define HSI_TIMEOUT_VALUE        2u
#define PLL_TIMEOUT_VALUE        2u
#define CLOCKSWITCH_TIMEOUT_VALUE 5000u

HAL_StatusTypeDef HAL_RCC_OscConfig(const RCC_OscInitTypeDef *RCC_OscInitStruct);
HAL_StatusTypeDef HAL_RCC_ClockConfig(const RCC_ClkInitTypeDef *RCC_ClkInitStruct, uint32_t FLatency);
uint32_t HAL_RCC_GetSysClockFreq(void);
uint32_t HAL_RCC_GetHCLKFreq(void);
uint32_t HAL_RCC_GetPCLK1Freq(void);
uint32_t HAL_RCC_GetPCLK2Freq(void);

/* ---- UART, SPI, I2C (stm32f1_hal_comm.c) ---- */
typedef struct {
    USART_TypeDef *Instance;
    uint32_t BaudRate;
} UART_HandleTypeDef;
HAL_StatusTypeDef HAL_UART_Init(UART_HandleTypeDef *huart);   /* 8N1, TX+RX, 16x */
void HAL_UART_MspInit(UART_HandleTypeDef *huart);
HAL_StatusTypeDef HAL_UART_Transmit(UART_HandleTypeDef *huart, const uint8_t *pData,
                                    uint16_t Size, uint32_t Timeout);

typedef struct {
    SPI_TypeDef *Instance;
    uint32_t BaudRatePrescaler;   /* SPI_CR1.BR value, 0..7 (fPCLK / 2^(BR+1)) */
} SPI_HandleTypeDef;
HAL_StatusTypeDef HAL_SPI_Init(SPI_HandleTypeDef *hspi);      /* master, mode 0, 8 bit, MSB first, soft NSS */
void HAL_SPI_MspInit(SPI_HandleTypeDef *hspi);
HAL_StatusTypeDef HAL_SPI_TransmitReceive(SPI_HandleTypeDef *hspi, const uint8_t *pTxData,
                                          uint8_t *pRxData, uint16_t Size, uint32_t Timeout);

typedef struct {
    I2C_TypeDef *Instance;
    uint32_t ClockSpeed;          /* Hz, standard mode only (<= 100000) */
    uint32_t ErrorCode;           /* HAL_I2C_ERROR_* */
} I2C_HandleTypeDef;
#define HAL_I2C_ERROR_NONE    0x00u
#define HAL_I2C_ERROR_BERR    0x01u
#define HAL_I2C_ERROR_ARLO    0x02u
#define HAL_I2C_ERROR_AF      0x04u
#define HAL_I2C_ERROR_TIMEOUT 0x20u
#define HAL_I2C_ERROR_WRONG_START 0x200u
#define I2C_TIMEOUT_BUSY_FLAG 25u     /* ms */
HAL_StatusTypeDef HAL_I2C_Init(I2C_HandleTypeDef *hi2c);
void HAL_I2C_MspInit(I2C_HandleTypeDef *hi2c);
HAL_StatusTypeDef HAL_I2C_Master_Transmit(I2C_HandleTypeDef *hi2c, uint16_t DevAddress,
                                          const uint8_t *pData, uint16_t Size, uint32_t Timeout);

/* ---- CubeMX main.c conventions (clock_config.c) ---- */
void SystemClock_Config(void);
/* Parks the core with interrupts off, like CubeMX's; the caller first
   stores which step failed in result_header.error (results.h). */
void Error_Handler(void);

#endif /* STM32F1_HAL_H */
