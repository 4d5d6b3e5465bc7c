/*
 * f103-swd-off: after a short delay, disables both debug ports
 * (AFIO_MAPR.SWJ_CFG = 0b100, RM0008 9.4.2), then counts forever.
 * A debugger that is not attached under reset loses the target.
 */
#include "f103.h"

volatile uint32_t counter;

int main(void)
{
    /* AFIO must be clocked for the MAPR write to take effect. */
    RCC_APB2ENR |= RCC_APB2ENR_AFIOEN;

    delay(2000);

    AFIO_MAPR = (AFIO_MAPR & ~AFIO_MAPR_SWJ_CFG_MASK) | AFIO_MAPR_SWJ_CFG_ALL_OFF;

    for (;;) {
        counter++;
    }
}
