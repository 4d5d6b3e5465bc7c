/*
 * f103-too-big: linked for a 128 KiB STM32F103CB (f103cb.ld).  Its
 * constant table puts .rodata well past 0x08010000, the end of flash on
 * a 64 KiB STM32F103C8, so a debug host must refuse to program it there.
 */
#include "f103.h"
#include "table.h"

#define TOO_BIG_SEED  0x0B16B16Bu
#define TOO_BIG_WORDS 20480u   /* 5*4096 words = 81920 bytes */

const uint32_t too_big_table[TOO_BIG_WORDS] = {
    TABLE_R4K(TOO_BIG_SEED, 0)
    TABLE_R4K(TOO_BIG_SEED, 4096)
    TABLE_R4K(TOO_BIG_SEED, 8192)
    TABLE_R4K(TOO_BIG_SEED, 12288)
    TABLE_R4K(TOO_BIG_SEED, 16384)
};
_Static_assert(sizeof too_big_table == 81920, "too_big_table size");

volatile uint32_t checksum;
volatile uint32_t counter;

int main(void)
{
    checksum = table_checksum(too_big_table, TOO_BIG_WORDS);
    for (;;) {
        counter++;
    }
}
