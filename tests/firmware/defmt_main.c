/*
 * f103-defmt: defmt log frames over RTT, as defmt-rtt sends them.
 *
 * Up channel 0 "defmt" (1024 bytes) carries defmt wire format version 4
 * frames, rzCOBS-encoded, each followed by a 0x00 delimiter.  A frame is
 * the statement's index (u16, little-endian: the address of its symbol in
 * `.defmt`, see defmt_table.S), the timestamp (`{=u32:ms}`: SysTick
 * milliseconds, u32 LE), then the arguments (u32 / u8 / i16 LE).
 *
 *   boot:        INFO  "boot, SystemCoreClock {=u32} Hz"  (8000000), once
 *   tick:        INFO  "tick {=u32}"                      every 100 ms
 *   fifth:       WARN  "tick {=u32} is a multiple of {=u8}" (5) every 5th tick
 *   temp:        DEBUG "temperature {=i16} dC"            (-40 + tick) every 10th tick
 */
#include "rtt.h"

#define UP0_SIZE 1024u

RTT_CONTROL_BLOCK(1, 0) _SEGGER_RTT;

static char up0_buf[UP0_SIZE];

volatile uint32_t ticks;

void SysTick_Handler(void)
{
    ticks++;
}

/* The statement indices: addresses of the one-byte entries of .defmt. */
extern const char _defmt_boot, _defmt_tick, _defmt_fifth, _defmt_temp;
#define INDEX(sym) ((uint16_t)(uintptr_t)&(sym))

/*
 * rzCOBS encoding (the `rzcobs` crate's format, decoded by defmt-decoder's
 * stream/rzcobs.rs, which reads a frame backwards).  Each group of the
 * output is its data bytes followed by a control byte:
 *   0x01..0x7F  seven message bytes, bit j set = byte j is 0x00, the
 *               non-zero ones stored in order;
 *   0x80|(n-7)  n (7..133) non-zero bytes followed by one 0x00;
 *   0xFF        134 non-zero bytes.
 * A group may cover zero bytes past the end of the message (trailing
 * padding, which the frame decoder ignores).  No output byte is 0x00, so
 * 0x00 delimits frames.  Returns the encoded length.
 */
static unsigned rzcobs_encode(const uint8_t *m, unsigned len, uint8_t *out)
{
    unsigned o = 0;
    unsigned pos = 0;
    while (pos < len) {
        unsigned run = 0;
        while (pos + run < len && run < 134u && m[pos + run] != 0) {
            run++;
        }
        if (run == 134u) {
            for (unsigned i = 0; i < run; i++) {
                out[o++] = m[pos + i];
            }
            out[o++] = 0xFF;
            pos += run;
        } else if (run >= 7u) {
            for (unsigned i = 0; i < run; i++) {
                out[o++] = m[pos + i];
            }
            out[o++] = (uint8_t)(0x80u | (run - 7u));
            pos += run + 1u; /* the zero after the run (or one past the end) */
        } else {
            uint8_t ctl = 0;
            for (unsigned j = 0; j < 7u; j++) {
                uint8_t b = pos + j < len ? m[pos + j] : 0;
                if (b == 0) {
                    ctl |= (uint8_t)(1u << j);
                } else {
                    out[o++] = b;
                }
            }
            out[o++] = ctl;
            pos += 7u;
        }
    }
    return o;
}

struct frame {
    uint8_t b[32];
    unsigned n;
};

static void put_le(struct frame *f, uint32_t v, unsigned bytes)
{
    for (unsigned i = 0; i < bytes; i++) {
        f->b[f->n++] = (uint8_t)(v >> (8u * i));
    }
}

static void begin(struct frame *f, uint16_t index)
{
    f->n = 0;
    put_le(f, index, 2);
    put_le(f, ticks * 100u, 4); /* timestamp: milliseconds */
}

static void send(struct frame *f)
{
    uint8_t enc[48];
    unsigned n = rzcobs_encode(f->b, f->n, enc);
    enc[n++] = 0x00;
    rtt_write(&_SEGGER_RTT.aUp[0], enc, n);
}

int main(void)
{
    struct frame f;
    uint32_t last = 0;

    _SEGGER_RTT.MaxNumUpBuffers = 1;
    _SEGGER_RTT.MaxNumDownBuffers = 0;
    _SEGGER_RTT.aUp[0] = (rtt_buffer){ "defmt", up0_buf, UP0_SIZE, 0, 0, 0 };
    rtt_barrier();
    rtt_init_id(_SEGGER_RTT.acID);

    begin(&f, INDEX(_defmt_boot));
    put_le(&f, 8000000u, 4);
    send(&f);
    systick_start_100ms();
    for (;;) {
        uint32_t t = ticks;
        if (t != last) {
            last = t;
            begin(&f, INDEX(_defmt_tick));
            put_le(&f, t, 4);
            send(&f);
            if (t % 5u == 0) {
                begin(&f, INDEX(_defmt_fifth));
                put_le(&f, t, 4);
                put_le(&f, 5u, 1);
                send(&f);
            }
            if (t % 10u == 0) {
                begin(&f, INDEX(_defmt_temp));
                put_le(&f, (uint32_t)(int32_t)(-40 + (int32_t)t), 2);
                send(&f);
            }
        }
        __asm__ volatile ("wfi");
    }
}
