/*
 * The HAL core the test images share: the 1 kHz tick and HAL_Delay
 * (UM1850, "HAL system driver"), the Cortex helpers (HAL_NVIC_*,
 * HAL_SYSTICK_*) and GPIO configuration (RM0008 §9.2.1/9.2.2 CRL/CRH).
 */
#include "stm32f1_hal.h"

volatile uint32_t uwTick;
uint32_t uwTickPrio = 1u << __NVIC_PRIO_BITS;   /* invalid until HAL_InitTick */
HAL_TickFreqTypeDef uwTickFreq = HAL_TICK_FREQ_DEFAULT;

/* Prefetch buffer on, priority grouping 4 (all bits preemption), SysTick
   at 1 kHz from the current SystemCoreClock (8 MHz HSI after reset) with
   TICK_INT_PRIORITY, then the board's HAL_MspInit. */
HAL_StatusTypeDef HAL_Init(void)
{
    FLASH->ACR |= FLASH_ACR_PRFTBE;
    HAL_NVIC_SetPriorityGrouping(NVIC_PRIORITYGROUP_4);
    if (HAL_InitTick(TICK_INT_PRIORITY) != HAL_OK) {
        return HAL_ERROR;
    }
    HAL_MspInit();
    return HAL_OK;
}

__attribute__((weak)) void HAL_MspInit(void)
{
}

/* SysTick interrupt every 1/uwTickFreq ms from HCLK. */
__attribute__((weak)) HAL_StatusTypeDef HAL_InitTick(uint32_t TickPriority)
{
    if (HAL_SYSTICK_Config(SystemCoreClock / (1000u / (uint32_t)uwTickFreq)) != 0u) {
        return HAL_ERROR;
    }
    if (TickPriority >= (1u << __NVIC_PRIO_BITS)) {
        return HAL_ERROR;
    }
    HAL_NVIC_SetPriority(SysTick_IRQn, TickPriority, 0u);
    uwTickPrio = TickPriority;
    return HAL_OK;
}

/* Called from SysTick_Handler. */
__attribute__((weak)) void HAL_IncTick(void)
{
    uwTick += (uint32_t)uwTickFreq;
}

__attribute__((weak)) uint32_t HAL_GetTick(void)
{
    return uwTick;
}

/* Waits at least Delay ms: one tick period is added so that a delay that
   starts just before a tick still lasts Delay full periods.  So
   HAL_Delay(n) returns once HAL_GetTick() has advanced by n + 1. */
__attribute__((weak)) void HAL_Delay(uint32_t Delay)
{
    uint32_t tickstart = HAL_GetTick();
    uint32_t wait = Delay;
    if (wait < HAL_MAX_DELAY) {
        wait += (uint32_t)uwTickFreq;
    }
    while ((HAL_GetTick() - tickstart) < wait) {
    }
}

/* ---- Cortex ---- */

void HAL_NVIC_SetPriorityGrouping(uint32_t PriorityGroup)
{
    NVIC_SetPriorityGrouping(PriorityGroup);
}

void HAL_NVIC_SetPriority(IRQn_Type IRQn, uint32_t PreemptPriority, uint32_t SubPriority)
{
    uint32_t group = NVIC_GetPriorityGrouping();
    NVIC_SetPriority(IRQn, NVIC_EncodePriority(group, PreemptPriority, SubPriority));
}

void HAL_NVIC_EnableIRQ(IRQn_Type IRQn)
{
    NVIC_EnableIRQ(IRQn);
}

void HAL_NVIC_DisableIRQ(IRQn_Type IRQn)
{
    NVIC_DisableIRQ(IRQn);
}

void HAL_NVIC_SetPendingIRQ(IRQn_Type IRQn)
{
    NVIC_SetPendingIRQ(IRQn);
}

void HAL_NVIC_ClearPendingIRQ(IRQn_Type IRQn)
{
    NVIC_ClearPendingIRQ(IRQn);
}

uint32_t HAL_NVIC_GetPendingIRQ(IRQn_Type IRQn)
{
    return NVIC_GetPendingIRQ(IRQn);
}

uint32_t HAL_NVIC_GetActive(IRQn_Type IRQn)
{
    return NVIC_GetActive(IRQn);
}

uint32_t HAL_SYSTICK_Config(uint32_t TicksNumb)
{
    return SysTick_Config(TicksNumb);
}

/* SysTick clock: HCLK, or HCLK/8 (the STM32F1 external SysTick clock,
   RM0008 §7.2, clock tree).  SysTick_Config selects HCLK, so this goes after it. */
void HAL_SYSTICK_CLKSourceConfig(uint32_t CLKSource)
{
    if (CLKSource == SYSTICK_CLKSOURCE_HCLK) {
        SysTick->CTRL |= SYSTICK_CLKSOURCE_HCLK;
    } else {
        SysTick->CTRL &= ~SYSTICK_CLKSOURCE_HCLK;
    }
}

/* ---- GPIO ---- */

/* One 4-bit CNF:MODE field per pin (RM0008 §9.2.1). */
static uint32_t gpio_field(const GPIO_InitTypeDef *init)
{
    switch (init->Mode) {
    case GPIO_MODE_OUTPUT_PP: return init->Speed | 0x0u;   /* CNF 00 */
    case GPIO_MODE_OUTPUT_OD: return init->Speed | 0x4u;   /* CNF 01 */
    case GPIO_MODE_AF_PP:     return init->Speed | 0x8u;   /* CNF 10 */
    case GPIO_MODE_AF_OD:     return init->Speed | 0xCu;   /* CNF 11 */
    case GPIO_MODE_ANALOG:    return 0x0u;
    default:                  /* input: floating, or pull-up/down */
        return init->Pull == GPIO_NOPULL ? 0x4u : 0x8u;
    }
}

void HAL_GPIO_Init(GPIO_TypeDef *GPIOx, const GPIO_InitTypeDef *GPIO_Init)
{
    uint32_t field = gpio_field(GPIO_Init);
    for (uint32_t pin = 0; pin < 16u; pin++) {
        if ((GPIO_Init->Pin & (1u << pin)) == 0u) {
            continue;
        }
        volatile uint32_t *cr = pin < 8u ? &GPIOx->CRL : &GPIOx->CRH;
        uint32_t shift = (pin & 7u) * 4u;
        *cr = (*cr & ~(0xFu << shift)) | (field << shift);
        if (GPIO_Init->Mode == GPIO_MODE_INPUT && GPIO_Init->Pull == GPIO_PULLUP) {
            GPIOx->BSRR = 1u << pin;   /* ODR bit selects pull-up */
        } else if (GPIO_Init->Mode == GPIO_MODE_INPUT && GPIO_Init->Pull == GPIO_PULLDOWN) {
            GPIOx->BRR = 1u << pin;
        }
    }
}

void HAL_GPIO_WritePin(GPIO_TypeDef *GPIOx, uint16_t GPIO_Pin, GPIO_PinState PinState)
{
    if (PinState != GPIO_PIN_RESET) {
        GPIOx->BSRR = GPIO_Pin;
    } else {
        GPIOx->BSRR = (uint32_t)GPIO_Pin << 16;
    }
}

/* One BSRR write: set the pins that are low, reset the ones that are high. */
void HAL_GPIO_TogglePin(GPIO_TypeDef *GPIOx, uint16_t GPIO_Pin)
{
    uint32_t odr = GPIOx->ODR;
    GPIOx->BSRR = ((odr & GPIO_Pin) << 16) | (~odr & GPIO_Pin);
}

GPIO_PinState HAL_GPIO_ReadPin(GPIO_TypeDef *GPIOx, uint16_t GPIO_Pin)
{
    return (GPIOx->IDR & GPIO_Pin) != 0u ? GPIO_PIN_SET : GPIO_PIN_RESET;
}
