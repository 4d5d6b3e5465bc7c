/*
 * RCC oscillator and bus clock configuration in the manner of the
 * CubeF1 HAL (HAL_RCC_OscConfig / HAL_RCC_ClockConfig): every wait on a
 * ready flag is bounded by HAL_GetTick, so SysTick must already be
 * running (HAL_Init).  Registers: RM0008 §7.3.1 RCC_CR, §7.3.2 RCC_CFGR,
 * PM0075 FLASH_ACR (latency 2 for 48 < SYSCLK <= 72 MHz).
 */
#include "stm32f1_hal.h"

#define HSI_VALUE 8000000u
#define HSE_VALUE 8000000u

/* Waits until (RCC->CR & mask) == want, at most timeout ms. */
static HAL_StatusTypeDef wait_cr(uint32_t mask, uint32_t want, uint32_t timeout)
{
    uint32_t tickstart = HAL_GetTick();
    while ((RCC->CR & mask) != want) {
        if ((HAL_GetTick() - tickstart) > timeout) {
            return HAL_TIMEOUT;
        }
    }
    return HAL_OK;
}

static uint32_t sysclk_source(void)
{
    return (RCC->CFGR & RCC_CFGR_SWS_Msk) >> 2;
}

HAL_StatusTypeDef HAL_RCC_OscConfig(const RCC_OscInitTypeDef *osc)
{
    if ((osc->OscillatorType & RCC_OSCILLATORTYPE_HSE) != 0u) {
        uint32_t src = sysclk_source();
        int hse_in_use = src == RCC_SYSCLKSOURCE_HSE
            || (src == RCC_SYSCLKSOURCE_PLLCLK && (RCC->CFGR & RCC_CFGR_PLLSRC) != 0u);
        if (hse_in_use) {
            if ((RCC->CR & RCC_CR_HSERDY) != 0u && osc->HSEState == RCC_HSE_OFF) {
                return HAL_ERROR;
            }
        } else if (osc->HSEState == RCC_HSE_ON) {
            RCC->CR |= RCC_CR_HSEON;
            if (wait_cr(RCC_CR_HSERDY, RCC_CR_HSERDY, HSE_STARTUP_TIMEOUT) != HAL_OK) {
                return HAL_TIMEOUT;
            }
        } else {
            RCC->CR &= ~(RCC_CR_HSEON | RCC_CR_HSEBYP);
            if (wait_cr(RCC_CR_HSERDY, 0u, HSE_STARTUP_TIMEOUT) != HAL_OK) {
                return HAL_TIMEOUT;
            }
        }
    }
    if ((osc->OscillatorType & RCC_OSCILLATORTYPE_HSI) != 0u && osc->HSIState == RCC_HSI_ON) {
        RCC->CR |= RCC_CR_HSION;
        if (wait_cr(RCC_CR_HSIRDY, RCC_CR_HSIRDY, HSI_TIMEOUT_VALUE) != HAL_OK) {
            return HAL_TIMEOUT;
        }
    }
    if (osc->PLL.PLLState != RCC_PLL_NONE) {
        if (sysclk_source() == RCC_SYSCLKSOURCE_PLLCLK) {
            return HAL_ERROR;   /* cannot reconfigure the PLL SYSCLK runs on */
        }
        RCC->CR &= ~RCC_CR_PLLON;
        if (wait_cr(RCC_CR_PLLRDY, 0u, PLL_TIMEOUT_VALUE) != HAL_OK) {
            return HAL_TIMEOUT;
        }
        if (osc->PLL.PLLState == RCC_PLL_ON) {
            uint32_t cfgr = RCC->CFGR & ~(RCC_CFGR_PLLXTPRE | RCC_CFGR_PLLSRC | RCC_CFGR_PLLMULL_Msk);
            if (osc->PLL.PLLSource == RCC_PLLSOURCE_HSE) {
                cfgr |= osc->HSEPredivValue;
            }
            RCC->CFGR = cfgr | osc->PLL.PLLSource | osc->PLL.PLLMUL;
            RCC->CR |= RCC_CR_PLLON;
            if (wait_cr(RCC_CR_PLLRDY, RCC_CR_PLLRDY, PLL_TIMEOUT_VALUE) != HAL_OK) {
                return HAL_TIMEOUT;
            }
        }
    }
    return HAL_OK;
}

static HAL_StatusTypeDef set_latency(uint32_t latency)
{
    FLASH->ACR = (FLASH->ACR & ~FLASH_ACR_LATENCY_Msk) | latency;
    return (FLASH->ACR & FLASH_ACR_LATENCY_Msk) == latency ? HAL_OK : HAL_ERROR;
}

static void modify_cfgr(uint32_t mask, uint32_t value)
{
    RCC->CFGR = (RCC->CFGR & ~mask) | value;
}

HAL_StatusTypeDef HAL_RCC_ClockConfig(const RCC_ClkInitTypeDef *clk, uint32_t FLatency)
{
    /* More wait states before a faster clock, fewer only after a slower one. */
    if (FLatency > (FLASH->ACR & FLASH_ACR_LATENCY_Msk) && set_latency(FLatency) != HAL_OK) {
        return HAL_ERROR;
    }
    if ((clk->ClockType & RCC_CLOCKTYPE_HCLK) != 0u) {
        /* APB at /16 while HCLK changes, so neither bus is ever overclocked. */
        if ((clk->ClockType & RCC_CLOCKTYPE_PCLK1) != 0u) {
            modify_cfgr(RCC_CFGR_PPRE1_Msk, RCC_HCLK_DIV16);
        }
        if ((clk->ClockType & RCC_CLOCKTYPE_PCLK2) != 0u) {
            modify_cfgr(RCC_CFGR_PPRE2_Msk, RCC_HCLK_DIV16 << 3);
        }
        modify_cfgr(RCC_CFGR_HPRE_Msk, clk->AHBCLKDivider);
    }
    if ((clk->ClockType & RCC_CLOCKTYPE_SYSCLK) != 0u) {
        uint32_t ready = clk->SYSCLKSource == RCC_SYSCLKSOURCE_PLLCLK ? RCC_CR_PLLRDY
                       : clk->SYSCLKSource == RCC_SYSCLKSOURCE_HSE ? RCC_CR_HSERDY
                       : RCC_CR_HSIRDY;
        if ((RCC->CR & ready) == 0u) {
            return HAL_ERROR;
        }
        modify_cfgr(RCC_CFGR_SW_Msk, clk->SYSCLKSource);
        uint32_t tickstart = HAL_GetTick();
        while (sysclk_source() != clk->SYSCLKSource) {
            if ((HAL_GetTick() - tickstart) > CLOCKSWITCH_TIMEOUT_VALUE) {
                return HAL_TIMEOUT;
            }
        }
    }
    if (FLatency < (FLASH->ACR & FLASH_ACR_LATENCY_Msk) && set_latency(FLatency) != HAL_OK) {
        return HAL_ERROR;
    }
    if ((clk->ClockType & RCC_CLOCKTYPE_PCLK1) != 0u) {
        modify_cfgr(RCC_CFGR_PPRE1_Msk, clk->APB1CLKDivider);
    }
    if ((clk->ClockType & RCC_CLOCKTYPE_PCLK2) != 0u) {
        modify_cfgr(RCC_CFGR_PPRE2_Msk, clk->APB2CLKDivider << 3);
    }
    SystemCoreClock = HAL_RCC_GetSysClockFreq()
                      >> AHBPrescTable[(RCC->CFGR & RCC_CFGR_HPRE_Msk) >> 4];
    /* The tick follows the new HCLK. */
    return HAL_InitTick(uwTickPrio);
}

/* SYSCLK in Hz from RCC_CFGR.SWS and the PLL settings (RM0008 §7.2). */
uint32_t HAL_RCC_GetSysClockFreq(void)
{
    uint32_t cfgr = RCC->CFGR;
    switch (sysclk_source()) {
    case RCC_SYSCLKSOURCE_HSE:
        return HSE_VALUE;
    case RCC_SYSCLKSOURCE_PLLCLK: {
        uint32_t mul = ((cfgr & RCC_CFGR_PLLMULL_Msk) >> 18) + 2u;
        if (mul > 16u) {
            mul = 16u;   /* PLLMUL 0b1111 is also x16 */
        }
        if ((cfgr & RCC_CFGR_PLLSRC) == 0u) {
            return (HSI_VALUE / 2u) * mul;
        }
        return ((cfgr & RCC_CFGR_PLLXTPRE) != 0u ? HSE_VALUE / 2u : HSE_VALUE) * mul;
    }
    default:
        return HSI_VALUE;
    }
}

uint32_t HAL_RCC_GetHCLKFreq(void)
{
    return SystemCoreClock;
}

uint32_t HAL_RCC_GetPCLK1Freq(void)
{
    return SystemCoreClock >> APBPrescTable[(RCC->CFGR & RCC_CFGR_PPRE1_Msk) >> 8];
}

uint32_t HAL_RCC_GetPCLK2Freq(void)
{
    return SystemCoreClock >> APBPrescTable[(RCC->CFGR & RCC_CFGR_PPRE2_Msk) >> 11];
}
