/*
 * What CubeMX generates for a 72 MHz "Blue Pill" (8 MHz crystal) in
 * main.c and stm32f1xx_hal_msp.c: SystemClock_Config, Error_Handler and
 * HAL_MspInit.  Shared by f103-hal, f103-irq and f103-usart.
 *
 * Result: SYSCLK = PLL = HSE 8 MHz x 9 = 72 MHz, HCLK = 72 MHz,
 * PCLK1 = 36 MHz (APB1 /2, TIM2-4 clock 72 MHz), PCLK2 = 72 MHz,
 * FLASH_ACR.LATENCY = 2, so RCC_CFGR = 0x001D040A.
 */
#include "stm32f1_hal.h"
#include "results.h"

void SystemClock_Config(void)
{
    RCC_OscInitTypeDef osc = {
        .OscillatorType = RCC_OSCILLATORTYPE_HSE,
        .HSEState = RCC_HSE_ON,
        .HSEPredivValue = RCC_HSE_PREDIV_DIV1,
        .HSIState = RCC_HSI_ON,
        .PLL = {
            .PLLState = RCC_PLL_ON,
            .PLLSource = RCC_PLLSOURCE_HSE,
            .PLLMUL = RCC_PLL_MUL9,
        },
    };
    if (HAL_RCC_OscConfig(&osc) != HAL_OK) {
        result_header.error = RESULT_ERR_OSC_CONFIG;
        Error_Handler();
    }

    RCC_ClkInitTypeDef clk = {
        .ClockType = RCC_CLOCKTYPE_HCLK | RCC_CLOCKTYPE_SYSCLK
                   | RCC_CLOCKTYPE_PCLK1 | RCC_CLOCKTYPE_PCLK2,
        .SYSCLKSource = RCC_SYSCLKSOURCE_PLLCLK,
        .AHBCLKDivider = RCC_SYSCLK_DIV1,
        .APB1CLKDivider = RCC_HCLK_DIV2,
        .APB2CLKDivider = RCC_HCLK_DIV1,
    };
    if (HAL_RCC_ClockConfig(&clk, FLASH_LATENCY_2) != HAL_OK) {
        result_header.error = RESULT_ERR_CLOCK_CONFIG;
        Error_Handler();
    }
}

/* Interrupts off and park: a test finds result_header.error set and the
   PC in this loop. */
void Error_Handler(void)
{
    __disable_irq();
    for (;;) {
        __asm__ volatile ("");
    }
}

/* AFIO and PWR clocks, and JTAG off with SWD kept (SWJ_CFG = 0b010). */
void HAL_MspInit(void)
{
    __HAL_RCC_AFIO_CLK_ENABLE();
    __HAL_RCC_PWR_CLK_ENABLE();
    __HAL_AFIO_REMAP_SWJ_NOJTAG();
}
