/*
 * h743-itm: f103-itm's ITM printf (itm.c) on the STM32H743ZI, for the H7
 * SWO tests.  The same program: DEMCR.TRCENA, the ITM_LAR key, ITM_TCR
 * (ITMENA, TraceBusID 1), ITM_TER = ports 0 and 1 (ARMv7-M ARM §C1.7);
 * then forever "hello N\n" on stimulus port 0 a byte at a time (each after
 * polling FIFOREADY), N as 2 bytes and 0x12345678 + N as 4 bytes on port 1,
 * a byte on the disabled port 2; `itm_lines` counts the lines.  The core
 * stays on the reset clock (HSI, 64 MHz, chip_h743.h).  The firmware does
 * not touch DBGMCU, the SWO funnel or the SWO (the debugger does: RM0433
 * §60, OpenOCD's stm32h7x.cfg); PB3 is TRACESWO (AF0) from reset.
 */
#include "chip.h"

#define ITM_STIM8(n)  (*(volatile uint8_t *)(0xE0000000u + 4u * (n)))
#define ITM_STIM16(n) (*(volatile uint16_t *)(0xE0000000u + 4u * (n)))
#define ITM_STIM32(n) (*(volatile uint32_t *)(0xE0000000u + 4u * (n)))
#define ITM_TER       (*(volatile uint32_t *)0xE0000E00u)
#define ITM_TCR       (*(volatile uint32_t *)0xE0000E80u)
#define ITM_LAR       (*(volatile uint32_t *)0xE0000FB0u)
#define ITM_DEMCR     (*(volatile uint32_t *)0xE000EDFCu)
#define ITM_DEMCR_TRCENA (1u << 24)
#define ITM_TCR_ITMENA   (1u << 0)

volatile uint32_t itm_lines;

static __attribute__((noinline)) void itm_delay(uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        __asm__ volatile ("");
    }
}

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
    ITM_DEMCR |= ITM_DEMCR_TRCENA;
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
        itm_delay(80000u);
    }
}
