/*
 * h743-stop, h743-standby (built from this file, the latter with
 * -DENTER_STANDBY): the STM32H743 enters a low-power mode with the debug
 * bits of DBGMCU_CR cleared, so the debug link does not survive it (like
 * f103-stop on the F103).
 *
 * main: DBGMCU_CR (0x5C001004) = 0: no DBGSLEEP/DBGSTOP/DBGSTBY_D1 (bits
 * 0-2), no D1DBGCKEN/D3DBGCKEN (21, 22), whatever a debugger's
 * examine-end wrote (RM0433 §60.5.8), and reads it back (stage 1); then
 * waits LOWPOWER_AFTER_MS ms of SysTick time (SYST_RVR = 63999 at the
 * 64 MHz reset clock, CLKSOURCE = processor clock, no interrupt: COUNTFLAG
 * polled, `ms` counts) so a debugger attached at reset has time to see it
 * run (stage 2); stops SysTick; SCB_SCR.SLEEPDEEP = 1; PWR_CPUCR
 * (0x58024810, RM0433 §6.8.5): PDDS_D1 = 0 selects D1 Stop (the system
 * enters Stop, D2 and D3 having nothing running) or, with ENTER_STANDBY,
 * PDDS_D1 = PDDS_D2 = PDDS_D3 = 1 selects Standby (RM0433 §6.6: the system
 * enters Standby only when every domain may); `cpucr` records PWR_CPUCR
 * as written; stage 3, `done`, then `wfi` in a loop (wfi_count++ before each).
 * No interrupt is enabled, so nothing wakes the core: only a reset (NRST,
 * a debugger's connect under reset) ends Stop; Standby ends with a reset
 * anyway (RM0433 §6.6: the exit from Standby is a system reset).
 *
 * Results in lowpower_result at 0x20000000 (README.md).
 */
#include "chip.h"
#include "results.h"

#define LOWPOWER_AFTER_MS 50u
/* SCB_SCR.SLEEPDEEP (DDI 0403E B3.2.7). */
#define SCB_SCR_SLEEPDEEP (1u << 2)

typedef struct {
    result_header_t h;   /* 0x00 "H7ST" / "H7SB"; stage 3; done; error 0 */
    uint32_t dbgmcu_cr;  /* 0x10 DBGMCU_CR read back after writing 0: 0 */
    uint32_t ms;         /* 0x14 SysTick periods waited: LOWPOWER_AFTER_MS */
    uint32_t cpucr;      /* 0x18 PWR_CPUCR as written (PDDS bits; flags as found) */
    uint32_t wfi_count;  /* 0x1C wfi executed (1 if the core never woke) */
} lowpower_result_t;

_Static_assert(sizeof(lowpower_result_t) == 0x20, "lowpower_result size");

RESULTS volatile lowpower_result_t lowpower_result;

#ifdef ENTER_STANDBY
#define IMAGE_TAG RESULT_TAG('H', '7', 'S', 'B')
#define PDDS_SELECT (PWR_CPUCR_PDDS_D1 | PWR_CPUCR_PDDS_D2 | PWR_CPUCR_PDDS_D3)
#else
#define IMAGE_TAG RESULT_TAG('H', '7', 'S', 'T')
#define PDDS_SELECT 0u
#endif

int main(void)
{
    lowpower_result.h.magic = IMAGE_TAG;
    REG32(DBGMCU_CR) = 0u;
    lowpower_result.dbgmcu_cr = REG32(DBGMCU_CR);
    lowpower_result.h.stage = 1;

    SysTick->LOAD = CHIP_HCLK_HZ / 1000u - 1u;
    SysTick->VAL = 0u;
    SysTick->CTRL = SysTick_CTRL_CLKSOURCE | SysTick_CTRL_ENABLE;
    while (lowpower_result.ms < LOWPOWER_AFTER_MS) {
        if (SysTick->CTRL & SysTick_CTRL_COUNTFLAG) {
            lowpower_result.ms++;
        }
    }
    SysTick->CTRL = 0u;
    lowpower_result.h.stage = 2;

    SCB->SCR |= SCB_SCR_SLEEPDEEP;
    uint32_t cpucr = (REG32(PWR_CPUCR) & ~(PWR_CPUCR_PDDS_D1 | PWR_CPUCR_PDDS_D2 |
                                           PWR_CPUCR_PDDS_D3 | PWR_CPUCR_CSSF)) |
                     PDDS_SELECT;
    REG32(PWR_CPUCR) = cpucr;
    lowpower_result.cpucr = cpucr;
    lowpower_result.h.stage = 3;
    lowpower_result.h.done = RESULT_DONE;
    __DSB();

    for (;;) {
        lowpower_result.wfi_count++;
        __asm__ volatile ("wfi" ::: "memory");
    }
}
