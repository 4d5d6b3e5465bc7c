/*
 * f103-faults: provokes ten faults in turn, twice (HSI 8 MHz, no other
 * set-up):
 *   phase 1 (records 0-9): MemManage, BusFault and UsageFault disabled in
 *     SHCSR, so each escalates to HardFault with HFSR.FORCED;
 *   phase 2 (records 10-19): SHCSR.MEMFAULTENA, BUSFAULTENA and
 *     USGFAULTENA set, so the configurable handler runs instead.
 * The cases (faults_cases.S): 0 UDF (16-bit), 1 UDF.W (32-bit), 2 load
 * from 0x60000000, 3 store to 0x60000000, 4 SDIV by zero, 5 unaligned
 * LDM, 6 unaligned LDR with CCR.UNALIGN_TRP, 7 BLX to an even address
 * (INVSTATE), 8 BLX into the XN peripheral region, 9 BLX to 0x60000000.
 * CCR.DIV_0_TRP is set throughout, and ACTLR.DISDEFWBUF so the store fault
 * is precise on a real Cortex-M3 (its write buffer would make it imprecise).
 * For each fault the handler records the exception number, EXC_RETURN,
 * CFSR, HFSR, BFAR, MMFAR, SHCSR and the stacked PC, LR and xPSR, clears
 * CFSR and HFSR (write-one-to-clear), moves the stacked PC past the
 * faulting instruction (or, for a bad branch target, back to the caller)
 * and returns.
 * Results in fault_result at 0x20000000; README.md lists the expected
 * value of every field.
 */
#include "stm32f103xb.h"
#include "results.h"

#define CASES 10u

typedef struct {
    uint32_t exc;           /* IPSR in the handler: 3 HardFault, 4 MemManage, 5 BusFault, 6 UsageFault */
    uint32_t exc_return;    /* LR on entry */
    uint32_t cfsr;
    uint32_t hfsr;
    uint32_t bfar;          /* meaningful only with CFSR.BFARVALID */
    uint32_t mmfar;         /* meaningful only with CFSR.MMARVALID */
    uint32_t shcsr;
    uint32_t pc;            /* stacked return address */
    uint32_t lr;            /* stacked LR */
    uint32_t xpsr;          /* stacked xPSR */
    uint32_t count;         /* handler entries for this case: 1 */
} fault_rec_t;

typedef struct {
    result_header_t h;      /* 0x000 "FLT1"; stage = cases run (20) */
    uint32_t ccr;           /* 0x010 CCR after set-up */
    uint32_t actlr;         /* 0x014 ACTLR after set-up */
    uint32_t shcsr_phase2;  /* 0x018 SHCSR after enabling the handlers */
    uint32_t stray;         /* 0x01C faults with no case running */
    fault_rec_t rec[2 * CASES];   /* 0x020, 44 bytes each */
} fault_result_t;

RESULTS volatile fault_result_t fault_result;

_Static_assert(sizeof(fault_rec_t) == 44, "fault_rec_t size");
_Static_assert(__builtin_offsetof(fault_result_t, rec) == 0x20, "fault_result layout");

/* Scratch words for the unaligned cases (faults_cases.S). */
uint32_t fault_scratch[4] __attribute__((aligned(8)));

static volatile uint32_t fault_current = 0xFFFFFFFFu;

void fault_record(uint32_t *frame, uint32_t exc_return);

void fault_record(uint32_t *frame, uint32_t exc_return)
{
    uint32_t n = fault_current;
    if (n >= 2u * CASES) {
        fault_result.stray++;
        fault_result.h.error = RESULT_ERR_IMAGE + 0u;   /* a fault outside the cases */
        for (;;) {
        }
    }
    volatile fault_rec_t *r = &fault_result.rec[n];
    r->count++;
    if (r->count > 1u) {
        fault_result.h.error = RESULT_ERR_IMAGE + 1u;   /* the resume went wrong */
        for (;;) {
        }
    }
    r->exc = __get_IPSR();
    r->exc_return = exc_return;
    r->cfsr = SCB->CFSR;
    r->hfsr = SCB->HFSR;
    r->bfar = SCB->BFAR;
    r->mmfar = SCB->MMFAR;
    r->shcsr = SCB->SHCSR;
    r->pc = frame[6];
    r->lr = frame[5];
    r->xpsr = frame[7];

    SCB->CFSR = r->cfsr;    /* write one to clear (B3.2.15, B3.2.16) */
    SCB->HFSR = r->hfsr;

    if ((r->cfsr & (SCB_CFSR_INVSTATE | SCB_CFSR_IACCVIOL | SCB_CFSR_IBUSERR)) != 0u) {
        /* The branch target faulted: return to the caller, in Thumb state. */
        frame[6] = frame[5] & ~1u;
        frame[7] |= 1u << 24;
    } else {
        /* Skip the instruction: 32-bit if its first halfword is 0b111xx
           with xx != 00 (DDI 0403E A5.1). */
        uint16_t hw = *(const volatile uint16_t *)frame[6];
        frame[6] += (hw & 0xF800u) >= 0xE800u ? 4u : 2u;
    }
}

void fault_case_udf16(void);
void fault_case_udf32(void);
void fault_case_ldr_bus(void);
void fault_case_str_bus(void);
void fault_case_sdiv0(void);
void fault_case_ldm_unaligned(void);
void fault_case_ldr_unaligned(void);
void fault_case_invstate(void);
void fault_case_xn(void);
void fault_case_ibuserr(void);

static void (*const cases[CASES])(void) = {
    fault_case_udf16, fault_case_udf32, fault_case_ldr_bus, fault_case_str_bus,
    fault_case_sdiv0, fault_case_ldm_unaligned, fault_case_ldr_unaligned,
    fault_case_invstate, fault_case_xn, fault_case_ibuserr,
};

static void run_cases(uint32_t first)
{
    for (uint32_t i = 0; i < CASES; i++) {
        fault_current = first + i;
        if (i == 6u) {
            SCB->CCR |= SCB_CCR_UNALIGN_TRP;
        }
        cases[i]();
        if (i == 6u) {
            SCB->CCR &= ~SCB_CCR_UNALIGN_TRP;
        }
        fault_current = 0xFFFFFFFFu;
        fault_result.h.stage++;
    }
}

int main(void)
{
    fault_result.h.magic = RESULT_TAG('F', 'L', 'T', '1');
    SCB->CCR |= SCB_CCR_DIV_0_TRP;
    SCnSCB_ACTLR |= SCnSCB_ACTLR_DISDEFWBUF;
    fault_result.ccr = SCB->CCR;
    fault_result.actlr = SCnSCB_ACTLR;

    run_cases(0);

    SCB->SHCSR |= SCB_SHCSR_MEMFAULTENA | SCB_SHCSR_BUSFAULTENA | SCB_SHCSR_USGFAULTENA;
    __DSB();
    __ISB();
    fault_result.shcsr_phase2 = SCB->SHCSR;
    run_cases(CASES);

    fault_result.h.done = RESULT_DONE;
    for (;;) {
        __asm__ volatile ("");
    }
}
