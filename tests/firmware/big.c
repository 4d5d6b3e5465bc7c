/*
 * f103-big: about 59 KiB of flash, almost all of it a constant table of
 * pseudo-random words.  Used to measure flashing throughput; after reset
 * main() checksums the table into `checksum` so that a debugger can
 * verify what was programmed.
 */
#include "f103.h"
#include "table.h"

#define BIG_SEED  0x5EEDB16Bu
#define BIG_WORDS 15104u   /* 3*4096 + 2*1024 + 3*256 words = 60416 bytes */

const uint32_t big_table[BIG_WORDS] = {
    TABLE_R4K(BIG_SEED, 0)
    TABLE_R4K(BIG_SEED, 4096)
    TABLE_R4K(BIG_SEED, 8192)
    TABLE_R1K(BIG_SEED, 12288)
    TABLE_R1K(BIG_SEED, 13312)
    TABLE_R256(BIG_SEED, 14336)
    TABLE_R256(BIG_SEED, 14592)
    TABLE_R256(BIG_SEED, 14848)
};
_Static_assert(sizeof big_table == 60416, "big_table size");

volatile uint32_t checksum;
volatile uint32_t counter;

int main(void)
{
    checksum = table_checksum(big_table, BIG_WORDS);
    for (;;) {
        counter++;
    }
}
