/*
 * f103-stop: enters Stop mode with DBGMCU_CR cleared, so the debug
 * logic is not kept clocked in low-power mode.
 */
#include "f103.h"

volatile uint32_t counter;

int main(void)
{
    /* No DBG_SLEEP/DBG_STOP/DBG_STANDBY, no watchdog/timer freezing. */
    DBGMCU_CR = 0;

    /* PWR registers need the PWR clock. */
    RCC_APB1ENR |= RCC_APB1ENR_PWREN;

    /* Deep sleep on WFI; PDDS = 0 selects Stop (not Standby), LPDS = 1
       puts the voltage regulator in low-power mode. */
    SCB_SCR |= SCB_SCR_SLEEPDEEP;
    PWR_CR = (PWR_CR & ~PWR_CR_PDDS) | PWR_CR_LPDS;

    counter++;

    for (;;) {
        __asm__ volatile ("wfi");
    }
}
