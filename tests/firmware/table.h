/*
 * Compile-time pseudo-random table generator.
 *
 * TABLE_WORD(seed, i) is a constant expression: an integer hash of the
 * index (Weyl step by the golden-ratio constant, then two xor-shift /
 * multiply mixing rounds).  The TABLE_Rn(seed, base) macros expand to n
 * consecutive initialisers TABLE_WORD(seed, base) ... TABLE_WORD(seed,
 * base + n - 1), each followed by a comma.  The compiler folds every entry,
 * so the object file holds only the final 32-bit words.
 *
 * The same table can be recomputed on a host: see README.md.
 */
#ifndef TABLE_H
#define TABLE_H

#include <stdint.h>

#define TABLE_X(seed, i)  ((uint32_t)((uint32_t)(i) * 0x9E3779B9u + (uint32_t)(seed)))
#define TABLE_Y(x)        ((uint32_t)(((x) ^ ((x) >> 15)) * 0x2C1B3C6Du))
#define TABLE_Z(y)        ((uint32_t)((y) ^ ((y) >> 12)))
#define TABLE_WORD(seed, i) TABLE_Z(TABLE_Y(TABLE_X(seed, i)))

#define TABLE_E(s, i)     TABLE_WORD(s, i),
#define TABLE_R4(s, b)    TABLE_E(s, (b) + 0) TABLE_E(s, (b) + 1) \
                          TABLE_E(s, (b) + 2) TABLE_E(s, (b) + 3)
#define TABLE_R16(s, b)   TABLE_R4(s, (b) + 0)  TABLE_R4(s, (b) + 4) \
                          TABLE_R4(s, (b) + 8)  TABLE_R4(s, (b) + 12)
#define TABLE_R64(s, b)   TABLE_R16(s, (b) + 0)  TABLE_R16(s, (b) + 16) \
                          TABLE_R16(s, (b) + 32) TABLE_R16(s, (b) + 48)
#define TABLE_R256(s, b)  TABLE_R64(s, (b) + 0)   TABLE_R64(s, (b) + 64) \
                          TABLE_R64(s, (b) + 128) TABLE_R64(s, (b) + 192)
#define TABLE_R1K(s, b)   TABLE_R256(s, (b) + 0)   TABLE_R256(s, (b) + 256) \
                          TABLE_R256(s, (b) + 512) TABLE_R256(s, (b) + 768)
#define TABLE_R4K(s, b)   TABLE_R1K(s, (b) + 0)    TABLE_R1K(s, (b) + 1024) \
                          TABLE_R1K(s, (b) + 2048) TABLE_R1K(s, (b) + 3072)

/* Order-sensitive checksum over a table: rotate left by 1, then xor.
   Division-free; compiles to ror/eor. */
static inline uint32_t table_checksum(const uint32_t *t, uint32_t n)
{
    uint32_t sum = 0;
    for (uint32_t i = 0; i < n; i++) {
        sum = ((sum << 1) | (sum >> 31)) ^ t[i];
    }
    return sum;
}

#endif /* TABLE_H */
