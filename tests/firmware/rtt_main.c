/*
 * f103-rtt: SEGGER RTT with two up channels and one down channel.
 *
 *   up 0 "Terminal" (1024 bytes): "tick N\n" every 100 ms of SysTick
 *         time (N = 1, 2, ...);
 *   up 1 "Echo" (256 bytes): "echo: <line>\n" for every line received on
 *         down 0 (a line ends at '\n' or '\r'; empty lines are ignored;
 *         longer than 60 characters is cut);
 *   down 0 "Terminal" (64 bytes).
 *
 * The control block is `_SEGGER_RTT` in .bss; the core sleeps (WFI)
 * between SysTick interrupts and looks at the down channel after each.
 */
#include "rtt.h"

#define UP0_SIZE 1024u
#define UP1_SIZE 256u
#define DOWN0_SIZE 64u
#define LINE_MAX 60u

RTT_CONTROL_BLOCK(2, 1) _SEGGER_RTT;

static char up0_buf[UP0_SIZE];
static char up1_buf[UP1_SIZE];
static char down0_buf[DOWN0_SIZE];

volatile uint32_t ticks;

void SysTick_Handler(void)
{
    ticks++;
}

static void rtt_setup(void)
{
    _SEGGER_RTT.MaxNumUpBuffers = 2;
    _SEGGER_RTT.MaxNumDownBuffers = 1;
    _SEGGER_RTT.aUp[0] = (rtt_buffer){ "Terminal", up0_buf, UP0_SIZE, 0, 0, 0 };
    _SEGGER_RTT.aUp[1] = (rtt_buffer){ "Echo", up1_buf, UP1_SIZE, 0, 0, 0 };
    _SEGGER_RTT.aDown[0] = (rtt_buffer){ "Terminal", down0_buf, DOWN0_SIZE, 0, 0, 0 };
    rtt_barrier();
    rtt_init_id(_SEGGER_RTT.acID);
}

/* Decimal digits of v at p; returns the count. */
static unsigned put_u32(char *p, uint32_t v)
{
    char tmp[10];
    unsigned n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10u);
        v /= 10u;
    } while (v != 0);
    for (unsigned i = 0; i < n; i++) {
        p[i] = tmp[n - 1 - i];
    }
    return n;
}

int main(void)
{
    static const char tick_word[] = "tick ";
    static const char echo_word[] = "echo: ";
    char line[LINE_MAX + 8];
    unsigned len = 0;
    char out[LINE_MAX + 8];
    uint32_t last = 0;

    rtt_setup();
    systick_start_100ms();
    for (;;) {
        uint32_t t = ticks;
        if (t != last) {
            last = t;
            unsigned n = 0;
            for (unsigned i = 0; i < sizeof tick_word - 1; i++) {
                out[n++] = tick_word[i];
            }
            n += put_u32(out + n, t);
            out[n++] = '\n';
            rtt_write(&_SEGGER_RTT.aUp[0], out, n);
        }
        char in[16];
        unsigned got;
        while ((got = rtt_read(&_SEGGER_RTT.aDown[0], in, sizeof in)) != 0) {
            for (unsigned i = 0; i < got; i++) {
                char c = in[i];
                if (c == '\n' || c == '\r') {
                    if (len != 0) {
                        unsigned n = 0;
                        for (unsigned k = 0; k < sizeof echo_word - 1; k++) {
                            out[n++] = echo_word[k];
                        }
                        for (unsigned k = 0; k < len; k++) {
                            out[n++] = line[k];
                        }
                        out[n++] = '\n';
                        rtt_write(&_SEGGER_RTT.aUp[1], out, n);
                        len = 0;
                    }
                } else if (len < LINE_MAX) {
                    line[len++] = c;
                }
            }
        }
        __asm__ volatile ("wfi");
    }
}
