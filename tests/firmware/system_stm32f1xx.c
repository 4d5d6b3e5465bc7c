/*
 * CMSIS system file for the HAL-style STM32F103 images (the role of ST's
 * system_stm32f1xx.c): SystemCoreClock, the prescaler tables and
 * SystemInit.  After reset the core runs from HSI = 8 MHz (RM0008 §7.2);
 * HAL_RCC_ClockConfig keeps SystemCoreClock up to date afterwards.
 */
#include "stm32f103xb.h"

uint32_t SystemCoreClock = 8000000u;
const uint8_t AHBPrescTable[16] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 6, 7, 8, 9};
const uint8_t APBPrescTable[8] = {0, 0, 0, 0, 1, 2, 3, 4};

/* Vector table at the start of flash (what ST's USER_VECT_TAB_ADDRESS
   option does): exceptions vector through 0x08000000 whether or not the
   boot alias at 0x00000000 is mapped. */
void SystemInit(void)
{
    SCB->VTOR = FLASH_BASE;
}
