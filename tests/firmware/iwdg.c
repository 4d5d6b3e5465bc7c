/*
 * f103-iwdg: starts the independent watchdog with a short timeout and
 * refreshes it in the main loop.  If a debugger halts the core while
 * DBGMCU_CR.DBG_IWDG_STOP is clear, the watchdog resets the chip.
 */
#include "f103.h"

volatile uint32_t counter;

int main(void)
{
    IWDG_KR = IWDG_KEY_START;   /* start the watchdog (LSI ~40 kHz) */
    IWDG_KR = IWDG_KEY_UNLOCK;  /* allow writes to PR and RLR */
    IWDG_PR = 0;                /* prescaler /4 -> ~10 kHz */
    IWDG_RLR = 0x100;           /* 256 ticks, ~26 ms timeout */
    IWDG_KR = IWDG_KEY_RELOAD;

    for (;;) {
        IWDG_KR = IWDG_KEY_RELOAD;
        counter++;
    }
}
