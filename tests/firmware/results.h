/*
 * The result block every test image keeps at a fixed address (0x20000000
 * on the F103 images, 0x20000100 on the RAM-loaded FPU images) so the
 * integration tests can read it back from memory.  Each image's result
 * struct starts with this header; the linker script makes `result_header`
 * an alias of that first member.
 */
#ifndef RESULTS_H
#define RESULTS_H

#include <stdint.h>

typedef struct {
    uint32_t magic;   /* image tag, stored first thing in main (ASCII, little-endian) */
    uint32_t stage;   /* progress counter; its final value is documented per image */
    uint32_t done;    /* 0 while running, RESULT_DONE once every one-shot result is stored */
    uint32_t error;   /* 0, or the RESULT_ERR_* step that failed */
} result_header_t;

#define RESULT_DONE 0x600DD0E5u   /* "good, done" */

/* result_header.error values (shared by the HAL-style images). */
#define RESULT_ERR_OSC_CONFIG   1u   /* HAL_RCC_OscConfig != HAL_OK */
#define RESULT_ERR_CLOCK_CONFIG 2u   /* HAL_RCC_ClockConfig != HAL_OK */
#define RESULT_ERR_IMAGE        16u  /* 16 and up: image-specific, see README */

/* Four ASCII characters as the little-endian word a memory dump shows
   as that text. */
#define RESULT_TAG(a, b, c, d) \
    ((uint32_t)(a) | ((uint32_t)(b) << 8) | ((uint32_t)(c) << 16) | ((uint32_t)(d) << 24))

#define RESULTS __attribute__((section(".results"), used))

extern volatile result_header_t result_header;

#endif /* RESULTS_H */
