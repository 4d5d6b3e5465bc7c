/*
 * A minimal SEGGER RTT target side for the test images, written for them
 * from the control-block layout that SEGGER documents (UM08001, "RTT") and
 * that probe-rs and OpenOCD read (probe-rs src/rtt.rs, OpenOCD
 * src/target/rtt.c):
 *
 *   struct { char acID[16]; int MaxNumUpBuffers; int MaxNumDownBuffers;
 *            rtt_buffer aUp[MaxNumUpBuffers]; rtt_buffer aDown[...]; }
 *   rtt_buffer = { const char *sName; char *pBuffer; unsigned SizeOfBuffer;
 *                  unsigned WrOff; unsigned RdOff; unsigned Flags; }
 *
 * Up buffers are written by the target (WrOff) and read by the debugger
 * (RdOff); down buffers the other way round.  A ring holds SizeOfBuffer - 1
 * bytes.  Flags 0 = SEGGER_RTT_MODE_NO_BLOCK_SKIP: a write that does not
 * fit is dropped whole, so a line is never cut.
 *
 * Each image defines the control block itself (its own numbers of
 * buffers) with RTT_CONTROL_BLOCK and calls rtt_init_id() last, after the
 * buffer descriptors: the ID "SEGGER RTT" is what a debugger searches
 * for, so it is written when everything behind it is valid.
 */
#ifndef RTT_H
#define RTT_H

#include <stdint.h>

typedef struct {
    const char *sName;
    char *pBuffer;
    unsigned SizeOfBuffer;
    volatile unsigned WrOff;
    volatile unsigned RdOff;
    unsigned Flags;
} rtt_buffer;

#define RTT_CONTROL_BLOCK(nup, ndown)                                        \
    struct {                                                                 \
        char acID[16];                                                       \
        int MaxNumUpBuffers;                                                 \
        int MaxNumDownBuffers;                                               \
        rtt_buffer aUp[nup];                                                 \
        rtt_buffer aDown[ndown];                                             \
    }

static inline void rtt_barrier(void)
{
    __asm__ volatile ("dmb" ::: "memory");
}

/* Writes the ID "SEGGER RTT" (NUL-padded to 16 bytes) into id[], the last
   step of the initialisation.  The characters are stored from the end so
   the complete ID appears only when the block is ready; the string is
   built from two halves so no other copy of it sits in RAM. */
static inline void rtt_init_id(volatile char *id)
{
    static const char first[] = "SEGGER";
    static const char second[] = " RTT";
    for (int i = 15; i >= 10; i--) {
        id[i] = 0;
    }
    rtt_barrier();
    for (int i = 3; i >= 0; i--) {
        id[6 + i] = second[i];
    }
    rtt_barrier();
    for (int i = 5; i >= 0; i--) {
        id[i] = first[i];
    }
    rtt_barrier();
}

/* Appends n bytes to up buffer b, all of them or none (NO_BLOCK_SKIP).
   Returns the number of bytes written. */
static inline unsigned rtt_write(rtt_buffer *b, const void *data, unsigned n)
{
    const uint8_t *p = data;
    unsigned wr = b->WrOff;
    unsigned rd = b->RdOff;
    unsigned avail = rd > wr ? rd - wr - 1 : b->SizeOfBuffer - (wr - rd) - 1;
    if (n > avail) {
        return 0;
    }
    for (unsigned i = 0; i < n; i++) {
        b->pBuffer[wr] = (char)p[i];
        if (++wr == b->SizeOfBuffer) {
            wr = 0;
        }
    }
    rtt_barrier();
    b->WrOff = wr;
    return n;
}

/* Takes up to max bytes from down buffer b; returns how many. */
static inline unsigned rtt_read(rtt_buffer *b, void *out, unsigned max)
{
    uint8_t *p = out;
    unsigned rd = b->RdOff;
    unsigned wr = b->WrOff;
    unsigned n = 0;
    rtt_barrier();
    while (rd != wr && n < max) {
        p[n++] = (uint8_t)b->pBuffer[rd];
        if (++rd == b->SizeOfBuffer) {
            rd = 0;
        }
    }
    rtt_barrier();
    b->RdOff = rd;
    return n;
}

/* SysTick (ARMv7-M ARM B3.3): 100 ms periods at the 8 MHz HSI clock of
   reset, processor clock, interrupt on. */
#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)
#define SYSTICK_100MS_AT_8MHZ (800000u - 1u)

static inline void systick_start_100ms(void)
{
    SYST_RVR = SYSTICK_100MS_AT_8MHZ;
    SYST_CVR = 0;
    SYST_CSR = 7u; /* ENABLE | TICKINT | CLKSOURCE = processor clock */
}

#endif
