/*
 * newlib's string functions, linked from the compiler's multilib for the
 * image's core: on ARMv7E-M, strlen, memchr and strcmp are the word-at-a-
 * time versions built on UADD8/SEL, and memcpy copies by words, so
 * unaligned starts and tails matter.  Results (str[] in fpu_result):
 *   0-3  strlen(buf + k) for k = 0..3 after memcpy(buf + k, text, 44): 43
 *   4    bytes differing after memcpy(dst + 1, text + 2, 37): 0
 *   5    memchr(text, 'z', 43) - text: 37
 *   6    memchr(text, 'Q', 43) == NULL: 0xFFFFFFFF
 *   7    sign of strcmp("apple", "apricot"): 0xFFFFFFFF (-1)
 *   8    sign of strcmp(text, a copy of text at buf + 3): 0
 *   9    sign of strcmp("b", "a"): 1
 *   10   strlen(""): 0
 *   11   sign of strcmp(text + 1, a copy of text + 1 at buf2 + 2): 0
 */
#include <string.h>
#include "fpu_result.h"

static const char text[] = "The quick brown fox jumps over the lazy dog";   /* 43 chars */
static char buf[64] __attribute__((aligned(8)));
static char buf2[64] __attribute__((aligned(8)));
static volatile const char *volatile str_apple = "apple";
static volatile const char *volatile str_apricot = "apricot";
static volatile const char *volatile str_b = "b";
static volatile const char *volatile str_a = "a";
static volatile const char *volatile str_empty = "";

static uint32_t sign(int v)
{
    return v < 0 ? 0xFFFFFFFFu : v > 0 ? 1u : 0u;
}

void fpu_string_checks(void)
{
    for (uint32_t k = 0; k < 4u; k++) {
        memset(buf, 0x55, sizeof buf);
        memcpy(buf + k, text, sizeof text);
        fpu_result.str[k] = strlen(buf + k);
    }

    memset(buf2, 0, sizeof buf2);
    memcpy(buf2 + 1, text + 2, 37);
    uint32_t diff = 0;
    for (uint32_t i = 0; i < 37u; i++) {
        diff += buf2[1 + i] != text[2 + i];
    }
    diff += buf2[0] != 0 || buf2[38] != 0;
    fpu_result.str[4] = diff;

    const char *z = memchr(text, 'z', 43);
    fpu_result.str[5] = z != NULL ? (uint32_t)(z - text) : 0xFFFFFFFFu;
    fpu_result.str[6] = memchr(text, 'Q', 43) == NULL ? 0xFFFFFFFFu : 0u;

    fpu_result.str[7] = sign(strcmp((const char *)str_apple, (const char *)str_apricot));
    memcpy(buf + 3, text, sizeof text);
    fpu_result.str[8] = sign(strcmp(text, buf + 3));
    fpu_result.str[9] = sign(strcmp((const char *)str_b, (const char *)str_a));
    fpu_result.str[10] = strlen((const char *)str_empty);
    memcpy(buf2 + 2, text + 1, sizeof text - 1);
    fpu_result.str[11] = sign(strcmp(text + 1, buf2 + 2));
}
