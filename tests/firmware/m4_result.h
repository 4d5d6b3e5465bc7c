/*
 * The result block of the flash blinky images (f303-blinky, g474-blinky,
 * l476-blinky, g474-swd-off, h743-blinky, h743-swd-off), at 0x20000000: the first
 * thing in SRAM (m4_sections.ld), zeroed by Reset_Handler.  README.md
 * gives the value of every field per chip.
 */
#ifndef M4_RESULT_H
#define M4_RESULT_H

#include <stdint.h>
#include "results.h"

typedef struct {
    result_header_t h;      /* 0x00 "F3BL" / "G4BL" / "L4BL" / "G4SW" / "H7BL" / "H7SW"; stage; done; error */
    uint32_t data_word;     /* 0x10 .data's data_marker as main found it: 0xDA7A5EED */
    uint32_t data_ok;       /* 0x14 words of .data's data_table[8] holding their initial value: 8 */
    uint32_t bss_nonzero;   /* 0x18 words of .bss's bss_probe[16] that were not 0: 0 */
    uint32_t counter;       /* 0x1C main loop iterations */
    uint32_t ticks;         /* 0x20 SysTick interrupts = ms since SysTick started */
    uint32_t toggles;       /* 0x24 LED toggles (one per LED_PERIOD_MS) */
    uint32_t led_odr;       /* 0x28 LED port ODR & LED bit after the last toggle */
    uint32_t cpacr;         /* 0x2C CPACR as main found it: 0x00F00000 */
    uint32_t vtor;          /* 0x30 VTOR as main found it: 0x08000000 */
    uint32_t syst_load;     /* 0x34 SYST_RVR: HCLK / 1000 - 1 */
    uint32_t syst_ctrl;     /* 0x38 SYST_CSR & 7: 7 (ENABLE, TICKINT, CLKSOURCE) */
    uint32_t led_moder;     /* 0x3C LED port MODER after the LED pin became an output */
    uint32_t uart_brr;      /* 0x40 USART_BRR */
    uint32_t uart_cr1;      /* 0x44 USART_CR1: 0xD (UE, RE, TE) */
    uint32_t uart_moder;    /* 0x48 USART pin port MODER after TX/RX became AF */
    uint32_t uart_afr;      /* 0x4C USART pin port AFRL (AFRH on the H743: PD8/PD9) */
    uint32_t lines;         /* 0x50 "tick N" lines started (one per second) */
    uint32_t tx_bytes;      /* 0x54 bytes written to USART_TDR */
    uint32_t tx_timeouts;   /* 0x58 bytes dropped because TXE stayed 0 for TXE_WAIT_LOOPS */
    uint32_t swd_off_tick;  /* 0x5C g474/h743-swd-off: `ticks` when PA13/PA14 became outputs; else 0 */
    uint32_t swd_moder;     /* 0x60 g474/h743-swd-off: GPIOA_MODER after that; else 0 */
} blinky_result_t;

_Static_assert(__builtin_offsetof(blinky_result_t, counter) == 0x1C, "blinky_result layout");
_Static_assert(sizeof(blinky_result_t) == 0x64, "blinky_result size");

extern volatile blinky_result_t blinky_result;

#endif /* M4_RESULT_H */
