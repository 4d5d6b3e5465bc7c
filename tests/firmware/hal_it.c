/*
 * The tick interrupt, as CubeMX's stm32f1xx_it.c has it.  Shared by the
 * images built on the HAL tick (f103-hal, f103-irq, f103-usart).
 */
#include "stm32f1_hal.h"

void SysTick_Handler(void)
{
    HAL_IncTick();
}
