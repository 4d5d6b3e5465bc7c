/* Start-up for the vfp64 test image: everything in RAM at 0 (the test loads
 * the ELF's segments into rsemu's RAM), a two-entry vector table, CP10/CP11
 * enabled in CPACR (ARMv7-M ARM B3.2.20), dp_run(), then a parking loop at
 * dp_done that the test stops on. */
#include <stdint.h>

#define DP_OUT_MAX 1024

unsigned dp_run(uint64_t *out);

uint64_t dp_out[DP_OUT_MAX];
unsigned dp_count;

extern uint32_t _estack;
void dp_reset(void);

__attribute__((section(".vectors"), used)) const uintptr_t dp_vectors[2] = {
    (uintptr_t)&_estack,
    (uintptr_t)dp_reset,
};

__attribute__((noreturn, naked)) void dp_done(void)
{
    __asm volatile("b .");
}

__attribute__((noreturn)) void dp_reset(void)
{
    *(volatile uint32_t *)0xE000ED88 |= 0xFu << 20; /* CPACR: CP10, CP11 full access */
    __asm volatile("dsb\n\tisb" ::: "memory");
    dp_count = dp_run(dp_out);
    dp_done();
}
