/*
 * f303-blinky, g474-blinky, l476-blinky, h743-blinky (and g474-swd-off,
 * h743-swd-off, built from this file with -DSWD_OFF_AFTER_MS=50): a blinky
 * from flash on the reset clock (no PLL; chip.h gives the clock, LED and
 * USART of each chip; the H743 has two more LEDs, CHIP_EXTRA_LEDS, which
 * toggle with the first).
 *
 * main: records the .data / .bss checks, CPACR and VTOR; clocks the LED
 * port and makes the LED pin a push-pull output; clocks the USART and its
 * pins (AF7), BRR for 115200 baud from the reset clock, CR1 = TE | RE,
 * then UE; starts SysTick at 1 kHz (SYST_RVR = HCLK / 1000 - 1, CLKSOURCE
 * = processor clock, priority 15); sends "hello\r\n"; sets `done`; then
 * loops forever: counter++, and once per second (every 1000 ticks) sends
 * "tick N\r\n" (N = 1, 2, ...).  With CHIP_IDLE_WFI (the H743) each loop round
 * ends with a `wfi` (Sleep until the next SysTick interrupt), so `counter`
 * counts about one round per ms there.
 * SysTick_Handler: ticks++; every LED_PERIOD_MS ticks it toggles the LED
 * the way HAL_GPIO_TogglePin does (read ODR, one BSRR write).
 *
 * A byte goes out only when USART_ISR.TXE is set; the wait is bounded
 * (TXE_WAIT_LOOPS polls, far longer than one byte time), so the image runs
 * on where no USART answers: the line is abandoned, tx_timeouts counts it.
 *
 * Results in blinky_result at 0x20000000 (m4_result.h, README.md).
 */
#include "chip.h"
#include "m4_result.h"

#define LED_PERIOD_MS    500u
#define LINE_PERIOD_MS   1000u
/* One byte at 115200 baud takes 10 / 115200 s = 87 us = 694 cycles at
   8 MHz; a poll is at least 4 cycles, so 10000 polls is > 50 byte times
   (the H743 at 64 MHz sets its own, chip_h743.h). */
#ifndef TXE_WAIT_LOOPS
#define TXE_WAIT_LOOPS   10000u
#endif

RESULTS volatile blinky_result_t blinky_result;

/* An initialised .data word and table (copied from flash by Reset_Handler)
   and a .bss array (zeroed by it), checked first thing in main. */
volatile uint32_t data_marker = 0xDA7A5EEDu;
volatile uint32_t data_table[8] = {
    0x01234567u, 0x89ABCDEFu, 0xFEDCBA98u, 0x76543210u,
    0x00000001u, 0x80000000u, 0x5A5AA5A5u, 0xFFFFFFFFu,
};
static const uint32_t data_expected[8] = {
    0x01234567u, 0x89ABCDEFu, 0xFEDCBA98u, 0x76543210u,
    0x00000001u, 0x80000000u, 0x5A5AA5A5u, 0xFFFFFFFFu,
};
volatile uint32_t bss_probe[16];

static void check_init(void)
{
    volatile blinky_result_t *r = &blinky_result;
    r->data_word = data_marker;
    uint32_t ok = 0;
    for (uint32_t i = 0; i < 8u; i++) {
        ok += data_table[i] == data_expected[i];
    }
    r->data_ok = ok;
    uint32_t nonzero = 0;
    for (uint32_t i = 0; i < 16u; i++) {
        nonzero += bss_probe[i] != 0u;
    }
    r->bss_nonzero = nonzero;
    r->cpacr = SCB->CPACR;
    r->vtor = SCB->VTOR;
}

/* Sets a pin's 2-bit MODER field. */
static void gpio_mode(uint32_t port, uint32_t pin, uint32_t mode)
{
    uint32_t v = GPIO_MODER(port);
    v &= ~(3u << (2u * pin));
    v |= mode << (2u * pin);
    GPIO_MODER(port) = v;
}

/* Sets a pin's 4-bit alternate-function field (AFRL for 0..7, AFRH 8..15). */
static void gpio_af(uint32_t port, uint32_t pin, uint32_t af)
{
    volatile uint32_t *afr = pin < 8u ? &GPIO_AFRL(port) : &GPIO_AFRH(port);
    uint32_t shift = 4u * (pin & 7u);
    *afr = (*afr & ~(0xFu << shift)) | (af << shift);
}

/* Sets an RCC enable bit and reads it back: the clock is active 2 clock
   cycles after the write (RM0440 §7.2, RM0351 §6.2, "Peripheral clock
   enable register"); HAL's __HAL_RCC_xxx_CLK_ENABLE waits with that read. */
static void clock_enable(uint32_t reg, uint32_t bit)
{
    REG32(reg) |= bit;
    (void)REG32(reg);
}

static void led_init(void)
{
    clock_enable(LED_CLK_ENR, LED_CLK_EN);
    gpio_mode(LED_GPIO, LED_PIN, GPIO_MODE_OUTPUT);
    blinky_result.led_moder = GPIO_MODER(LED_GPIO);
#ifdef CHIP_EXTRA_LEDS
#define EXTRA_LED_INIT(port, pin, en) \
    clock_enable(LED_CLK_ENR, (en)); \
    gpio_mode((port), (pin), GPIO_MODE_OUTPUT);
    CHIP_EXTRA_LEDS(EXTRA_LED_INIT)
#endif
}

static void uart_init(void)
{
    clock_enable(UART_GPIO_CLK_ENR, UART_GPIO_CLK_EN);
    clock_enable(UART_CLK_ENR, UART_CLK_EN);
    gpio_af(UART_GPIO, UART_TX_PIN, UART_AF);
    gpio_af(UART_GPIO, UART_RX_PIN, UART_AF);
    gpio_mode(UART_GPIO, UART_TX_PIN, GPIO_MODE_AF);
    gpio_mode(UART_GPIO, UART_RX_PIN, GPIO_MODE_AF);
    USART_BRR(UART_BASE) = UART_BRR_VALUE;
    USART_CR1(UART_BASE) = USART_CR1_TE | USART_CR1_RE;
    USART_CR1(UART_BASE) |= USART_CR1_UE;
    blinky_result.uart_brr = USART_BRR(UART_BASE);
    blinky_result.uart_cr1 = USART_CR1(UART_BASE);
    blinky_result.uart_moder = GPIO_MODER(UART_GPIO);
    blinky_result.uart_afr = UART_AFR(UART_GPIO);
}

/* Sends one byte once TXE is set; 0 if it never was within the bound. */
static int uart_putc(char c)
{
    for (uint32_t n = 0; n < TXE_WAIT_LOOPS; n++) {
        if (USART_ISR(UART_BASE) & USART_ISR_TXE) {
            USART_TDR(UART_BASE) = (uint8_t)c;
            blinky_result.tx_bytes++;
            return 1;
        }
    }
    blinky_result.tx_timeouts++;
    return 0;
}

static void uart_puts(const char *s)
{
    while (*s != '\0') {
        if (!uart_putc(*s++)) {
            return;
        }
    }
}

/* "tick N\r\n" with N in decimal. */
static void send_tick_line(uint32_t n)
{
    char digits[10];
    uint32_t len = 0;
    do {
        digits[len++] = (char)('0' + n % 10u);
        n /= 10u;
    } while (n != 0u);
    char line[5 + 10 + 3];
    uint32_t k = 0;
    for (const char *p = "tick "; *p != '\0'; p++) {
        line[k++] = *p;
    }
    while (len > 0u) {
        line[k++] = digits[--len];
    }
    line[k++] = '\r';
    line[k++] = '\n';
    line[k] = '\0';
    uart_puts(line);
}

static void systick_start(void)
{
    SysTick->LOAD = SYSTICK_RELOAD;
    SysTick->VAL = 0u;
    NVIC_SetPriority(SysTick_IRQn, 15u);
    SysTick->CTRL = SysTick_CTRL_CLKSOURCE | SysTick_CTRL_TICKINT | SysTick_CTRL_ENABLE;
    blinky_result.syst_load = SysTick->LOAD;
    blinky_result.syst_ctrl = SysTick->CTRL & 7u;
}

#ifdef CHIP_EXTRA_LEDS
/* HAL_GPIO_TogglePin on one pin: read ODR, one BSRR write. */
static void toggle_pin(uint32_t port, uint32_t pin_no)
{
    uint32_t odr = GPIO_ODR(port);
    uint32_t pin = 1u << pin_no;
    GPIO_BSRR(port) = ((odr & pin) << 16) | (~odr & pin);
}
#endif

void SysTick_Handler(void)
{
    uint32_t t = blinky_result.ticks + 1u;
    blinky_result.ticks = t;
    if (t % LED_PERIOD_MS == 0u) {
        uint32_t odr = GPIO_ODR(LED_GPIO);
        uint32_t pin = 1u << LED_PIN;
        GPIO_BSRR(LED_GPIO) = ((odr & pin) << 16) | (~odr & pin);
#ifdef CHIP_EXTRA_LEDS
#define EXTRA_LED_TOGGLE(port, pin_no, en) toggle_pin((port), (pin_no));
        CHIP_EXTRA_LEDS(EXTRA_LED_TOGGLE)
#endif
        blinky_result.toggles++;
        blinky_result.led_odr = GPIO_ODR(LED_GPIO) & pin;
    }
}

#ifdef SWD_OFF_AFTER_MS
/* g474-swd-off, h743-swd-off: PA13 (SWDIO) and PA14 (SWCLK) leave AF0
   and become general-purpose outputs (GPIOA_MODER bits 27:26 and 29:28 =
   0b01, RM0440 §9.4.1, RM0433 §11.4.1): the debug port loses its pins.
   On the H743 GPIOA's clock is enabled first (SWD_GPIO_CLK_ENR). */
static void swd_off(void)
{
#ifdef SWD_GPIO_CLK_ENR
    clock_enable(SWD_GPIO_CLK_ENR, SWD_GPIO_CLK_EN);
#endif
    uint32_t v = GPIO_MODER(GPIOA_BASE);
    v &= ~(0xFu << 26);
    v |= (GPIO_MODE_OUTPUT << 26) | (GPIO_MODE_OUTPUT << 28);
    GPIO_MODER(GPIOA_BASE) = v;
    blinky_result.swd_off_tick = blinky_result.ticks;
    blinky_result.swd_moder = GPIO_MODER(GPIOA_BASE);
    blinky_result.h.stage = 5;
}
#define IMAGE_TAG RESULT_TAG(CHIP_TAG0, CHIP_TAG1, 'S', 'W')
#else
#define IMAGE_TAG RESULT_TAG(CHIP_TAG0, CHIP_TAG1, 'B', 'L')
#endif

int main(void)
{
    blinky_result.h.magic = IMAGE_TAG;
    check_init();
    blinky_result.h.stage = 1;
    led_init();
    blinky_result.h.stage = 2;
    uart_init();
    blinky_result.h.stage = 3;
    systick_start();
    uart_puts("hello\r\n");
    blinky_result.h.stage = 4;
    blinky_result.h.done = RESULT_DONE;

    uint32_t next_line = LINE_PERIOD_MS;
    for (;;) {
        blinky_result.counter++;
        if (blinky_result.ticks >= next_line) {
            next_line += LINE_PERIOD_MS;
            uint32_t n = ++blinky_result.lines;
            send_tick_line(n);
        }
#ifdef SWD_OFF_AFTER_MS
        if (blinky_result.h.stage == 4u && blinky_result.ticks >= SWD_OFF_AFTER_MS) {
            swd_off();
        }
#endif
#ifdef CHIP_IDLE_WFI
        /* Sleep (not deep sleep) until the next SysTick interrupt. */
        __asm__ volatile ("wfi" ::: "memory");
#endif
    }
}
