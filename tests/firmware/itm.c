/*
 * f103-itm: ITM printf on the STM32F103 (Blue Pill), for the SWO tests.
 *
 * Sets up the ITM as firmware must on silicon (ARMv7-M ARM §C1.7): DEMCR.
 * TRCENA, the ITM_LAR unlock key, ITM_TCR (ITMENA, TraceBusID 1) and
 * ITM_TER (ports 0 and 1).  Then, forever: the line "hello N\n" on
 * stimulus port 0, one byte at a time, each write after polling the
 * port's FIFO-ready bit (bit 0 of a stimulus port read); a 2-byte write of
 * N and a 4-byte write of 0x12345678 + N on port 1; a byte on port 2,
 * which stays disabled (TER bit 2 clear) and must not appear; about 10 ms
 * of busy waiting at the reset clock (HSI, 8 MHz).  `itm_lines` counts the
 * lines written.  A debugger that programs ITM_TER itself (OpenOCD's `itm
 * port`) decides which of these reach the SWO pin.
 */
#include "f103.h"

#define DEMCR        REG32(0xE000EDFCu)
#define DEMCR_TRCENA (1u << 24)
#define ITM_STIM8(n)  (*(volatile uint8_t *)(0xE0000000u + 4u * (n)))
#define ITM_STIM16(n) (*(volatile uint16_t *)(0xE0000000u + 4u * (n)))
#define ITM_STIM32(n) (*(volatile uint32_t *)(0xE0000000u + 4u * (n)))
#define ITM_TER      REG32(0xE0000E00u)
#define ITM_TCR      REG32(0xE0000E80u)
#define ITM_LAR      REG32(0xE0000FB0u)
#define ITM_TCR_ITMENA (1u << 0)

volatile uint32_t itm_lines;

static void itm_wait(uint32_t port)
{
    while ((ITM_STIM32(port) & 1u) == 0u) {
    }
}

static void itm_putc(char c)
{
    itm_wait(0);
    ITM_STIM8(0) = (uint8_t)c;
}

static void itm_puts(const char *s)
{
    while (*s) {
        itm_putc(*s++);
    }
}

static void itm_putu(uint32_t v)
{
    char buf[10];
    int n = 0;
    do {
        buf[n++] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v != 0u);
    while (n > 0) {
        itm_putc(buf[--n]);
    }
}

int main(void)
{
    DEMCR |= DEMCR_TRCENA;
    ITM_LAR = 0xC5ACCE55u;
    ITM_TCR = ITM_TCR_ITMENA | (1u << 16);
    ITM_TER = 0x3u;

    for (uint32_t n = 0;; n++) {
        itm_puts("hello ");
        itm_putu(n);
        itm_putc('\n');
        itm_wait(1);
        ITM_STIM16(1) = (uint16_t)n;
        itm_wait(1);
        ITM_STIM32(1) = 0x12345678u + n;
        itm_wait(2);
        ITM_STIM8(2) = 'x';
        itm_lines = n + 1u;
        delay(20000u);
    }
}
