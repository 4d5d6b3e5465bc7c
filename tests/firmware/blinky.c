/*
 * f103-blinky: toggles PC13 (the LED on "Blue Pill" boards) forever and
 * counts loop iterations in `counter`.
 */
#include "f103.h"

/* Loop iteration count, in .bss (zeroed by Reset_Handler). */
volatile uint32_t counter;

/* Initialised global in .data: its initial value is copied from flash. */
volatile uint32_t blink_period = 1000;

__attribute__((noinline)) void toggle_led(void)
{
    GPIOC_ODR ^= (1u << 13);
}

int main(void)
{
    /* Clock the GPIOC port and the AFIO block. */
    RCC_APB2ENR |= RCC_APB2ENR_IOPCEN | RCC_APB2ENR_AFIOEN;

    /* PC13: MODE13 = 0b10 (output, 2 MHz), CNF13 = 0b00 (push-pull). */
    uint32_t crh = GPIOC_CRH;
    crh &= ~(0xFu << 20);
    crh |= (0x2u << 20);
    GPIOC_CRH = crh;

    for (;;) {
        counter++;
        toggle_led();
        delay(blink_period);
    }
}
