/*
 * f103-hal: a CubeMX-shaped application.  HAL_Init, SystemClock_Config
 * (72 MHz from HSE x 9), PC13 as an output, then:
 *   1. one HAL_Delay(1000) timed in ticks and in DWT cycles (the
 *      "one-second delay" a benchmark measures), SysTick on HCLK;
 *   2. one HAL_Delay(100) with SysTick on HCLK/8 (CLKSOURCE = 0,
 *      reload 9000 - 1, the libopencm3 style), timed the same way;
 *   3. the tick back on HCLK (HAL_InitTick), and forever: toggle PC13,
 *      count the loop, HAL_Delay(500).
 * Results in hal_result at 0x20000000; README.md lists every field.
 */
#include "stm32f1_hal.h"
#include "results.h"

typedef struct {
    result_header_t h;            /* 0x00 "HAL1", stage, done, error */
    uint32_t sysclk_hz;           /* 0x10 SystemCoreClock after SystemClock_Config */
    uint32_t hclk_hz;             /* 0x14 HAL_RCC_GetHCLKFreq() */
    uint32_t pclk1_hz;            /* 0x18 HAL_RCC_GetPCLK1Freq() */
    uint32_t pclk2_hz;            /* 0x1C HAL_RCC_GetPCLK2Freq() */
    uint32_t rcc_cr;              /* 0x20 RCC_CR & (HSI/HSE/PLL ON and RDY bits) */
    uint32_t rcc_cfgr;            /* 0x24 RCC_CFGR */
    uint32_t flash_acr;           /* 0x28 FLASH_ACR */
    uint32_t gpioc_crh;           /* 0x2C GPIOC_CRH after MX_GPIO_Init */
    uint32_t aircr;               /* 0x30 SCB_AIRCR (PRIGROUP from HAL_Init) */
    uint32_t shpr3;               /* 0x34 SCB_SHPR3 (SysTick priority) */
    uint32_t syst_load;           /* 0x38 SYST_RVR with the 1 kHz HCLK tick */
    uint32_t syst_ctrl;           /* 0x3C SYST_CSR */
    uint32_t syst_calib;          /* 0x40 SYST_CALIB, as read */
    uint32_t delay_1000_start;    /* 0x44 HAL_GetTick() before HAL_Delay(1000) */
    uint32_t delay_1000_end;      /* 0x48 HAL_GetTick() after it */
    uint32_t delay_1000_cycles;   /* 0x4C DWT_CYCCNT difference across it */
    uint32_t delay_1000_done;     /* 0x50 1 once the delay has returned */
    uint32_t div8_load;           /* 0x54 SYST_RVR for the HCLK/8 tick */
    uint32_t div8_ctrl;           /* 0x58 SYST_CSR for the HCLK/8 tick */
    uint32_t div8_start;          /* 0x5C HAL_GetTick() before HAL_Delay(100) */
    uint32_t div8_end;            /* 0x60 HAL_GetTick() after it */
    uint32_t div8_cycles;         /* 0x64 DWT_CYCCNT difference across it */
    uint32_t div8_done;           /* 0x68 1 once that delay has returned */
    uint32_t restored_ctrl;       /* 0x6C SYST_CSR after HAL_InitTick put HCLK back */
    uint32_t loops;               /* 0x70 main-loop iterations (one per 501 ms) */
    uint32_t led_odr;             /* 0x74 GPIOC_ODR bit 13 after the last toggle */
} hal_result_t;

RESULTS volatile hal_result_t hal_result;

_Static_assert(__builtin_offsetof(hal_result_t, loops) == 0x70, "hal_result layout");

static void MX_GPIO_Init(void)
{
    __HAL_RCC_GPIOC_CLK_ENABLE();
    __HAL_RCC_GPIOD_CLK_ENABLE();   /* PD0/PD1 carry the HSE crystal */
    __HAL_RCC_GPIOA_CLK_ENABLE();
    HAL_GPIO_WritePin(GPIOC, GPIO_PIN_13, GPIO_PIN_RESET);
    GPIO_InitTypeDef pin = {
        .Pin = GPIO_PIN_13,
        .Mode = GPIO_MODE_OUTPUT_PP,
        .Pull = GPIO_NOPULL,
        .Speed = GPIO_SPEED_FREQ_LOW,
    };
    HAL_GPIO_Init(GPIOC, &pin);
}

/* The cycle counter, as HAL-based microsecond delays enable it. */
static void cycle_counter_init(void)
{
    CoreDebug_DEMCR |= CoreDebug_DEMCR_TRCENA;
    DWT->CYCCNT = 0;
    DWT->CTRL |= DWT_CTRL_CYCCNTENA;
}

int main(void)
{
    hal_result.h.magic = RESULT_TAG('H', 'A', 'L', '1');
    HAL_Init();
    hal_result.h.stage = 1;
    SystemClock_Config();
    hal_result.h.stage = 2;
    MX_GPIO_Init();
    cycle_counter_init();

    hal_result.sysclk_hz = SystemCoreClock;
    hal_result.hclk_hz = HAL_RCC_GetHCLKFreq();
    hal_result.pclk1_hz = HAL_RCC_GetPCLK1Freq();
    hal_result.pclk2_hz = HAL_RCC_GetPCLK2Freq();
    hal_result.rcc_cr = RCC->CR & (RCC_CR_HSION | RCC_CR_HSIRDY | RCC_CR_HSEON
                                   | RCC_CR_HSERDY | RCC_CR_PLLON | RCC_CR_PLLRDY);
    hal_result.rcc_cfgr = RCC->CFGR;
    hal_result.flash_acr = FLASH->ACR;
    hal_result.gpioc_crh = GPIOC->CRH;
    hal_result.aircr = SCB->AIRCR;
    hal_result.shpr3 = *(volatile uint32_t *)&SCB->SHP[8];
    hal_result.syst_load = SysTick->LOAD;
    hal_result.syst_ctrl = SysTick->CTRL & ~SysTick_CTRL_COUNTFLAG;
    hal_result.syst_calib = SysTick->CALIB;

    /* 1. One second on the HCLK tick. */
    hal_result.h.stage = 3;
    uint32_t c0 = DWT->CYCCNT;
    hal_result.delay_1000_start = HAL_GetTick();
    HAL_Delay(1000);
    hal_result.delay_1000_end = HAL_GetTick();
    hal_result.delay_1000_cycles = DWT->CYCCNT - c0;
    hal_result.delay_1000_done = 1;
    hal_result.h.stage = 4;

    /* 2. 100 ms on the HCLK/8 tick: 72 MHz / 8 / 1000 = 9000 per tick.
       SysTick_Config selects HCLK, so the clock source goes after it. */
    HAL_SYSTICK_Config(HAL_RCC_GetHCLKFreq() / 8u / 1000u);
    HAL_SYSTICK_CLKSourceConfig(SYSTICK_CLKSOURCE_HCLK_DIV8);
    HAL_NVIC_SetPriority(SysTick_IRQn, uwTickPrio, 0u);
    hal_result.div8_load = SysTick->LOAD;
    hal_result.div8_ctrl = SysTick->CTRL & ~SysTick_CTRL_COUNTFLAG;
    hal_result.h.stage = 5;
    c0 = DWT->CYCCNT;
    hal_result.div8_start = HAL_GetTick();
    HAL_Delay(100);
    hal_result.div8_end = HAL_GetTick();
    hal_result.div8_cycles = DWT->CYCCNT - c0;
    hal_result.div8_done = 1;
    hal_result.h.stage = 6;

    /* 3. Back to the HAL's own tick, then blink. */
    HAL_InitTick(uwTickPrio);
    hal_result.restored_ctrl = SysTick->CTRL & ~SysTick_CTRL_COUNTFLAG;
    hal_result.h.stage = 7;
    hal_result.h.done = RESULT_DONE;

    for (;;) {
        HAL_GPIO_TogglePin(GPIOC, GPIO_PIN_13);
        hal_result.led_odr = GPIOC->ODR & GPIO_PIN_13;
        hal_result.loops++;
        HAL_Delay(500);
    }
}
