/*
 * f103-irq: interrupts the way firmware uses them, on the 72 MHz HAL
 * base (HAL_Init + SystemClock_Config, SysTick at priority 15).  In turn:
 *   A. TIM2 update interrupt at 1 kHz (PSC 71, ARR 999 on the 72 MHz
 *      APB1 timer clock), counted for 100 HAL ticks;
 *   B. EXTI line 0 raised by software (EXTI_SWIER);
 *   C. NVIC_ISPR/ICPR: pend and clear an interrupt that is disabled, then
 *      the level-sensitive trap (ICPR cannot clear a line still asserted);
 *   D. BASEPRI masking;
 *   E. AIRCR.PRIGROUP: preemption, tail-chaining, sub-priority order and
 *      exception-number order;
 *   G. SVC with the immediate read back from the stacked PC.
 * The scheduling scenarios log into strings: main writes digits, the
 * software interrupts A, B, C (EXTI2/3/4 vectors, pended through the
 * NVIC) write their letter on entry and the lower-case letter on exit.
 * Results in irq_result at 0x20000000; README.md lists every field.
 */
#include "stm32f1_hal.h"
#include "results.h"

/* One scheduling scenario: its log, and for A, B, C the MSP and the
   EXC_RETURN seen at their (last) entry. */
typedef struct {
    char log[16];
    uint32_t msp[3];
    uint32_t exc_return[3];
} sched_t;

typedef struct {
    result_header_t h;              /* 0x000 "IRQ1" */
    uint32_t tim2_psc;              /* 0x010 */
    uint32_t tim2_arr;              /* 0x014 */
    uint32_t tim2_prio;             /* 0x018 NVIC_IPR28 byte */
    uint32_t tim2_ipsr;             /* 0x01C IPSR inside TIM2_IRQHandler */
    uint32_t tim2_count;            /* 0x020 TIM2 ISR entries in the window */
    uint32_t tim2_ticks;            /* 0x024 HAL ticks in the window */
    uint32_t tim2_cycles;           /* 0x028 DWT cycles in the window */
    uint32_t exti_count;            /* 0x02C EXTI0 ISR entries */
    uint32_t exti_pr_in_isr;        /* 0x030 EXTI_PR read in the ISR */
    uint32_t exti_pr_after;         /* 0x034 EXTI_PR after the ISR */
    uint32_t exti_swier_after;      /* 0x038 EXTI_SWIER after the ISR */
    uint32_t exti_ipsr;             /* 0x03C IPSR inside EXTI0_IRQHandler */
    uint32_t pend_set_ispr;         /* 0x040 ISPR0 & EXTI1 bit after SetPending (disabled) */
    uint32_t pend_clear_ispr;       /* 0x044 ... after ClearPending */
    uint32_t pend_enable_count;     /* 0x048 EXTI1 ISR entries after enabling it */
    uint32_t pend_repend_count;     /* 0x04C ... after SetPending while enabled */
    uint32_t pend_stir_count;       /* 0x050 ... after a write of 7 to NVIC_STIR */
    uint32_t level_ispr;            /* 0x054 ISPR0 & TIM2 bit with UIF=UIE=1, TIM2 disabled in NVIC */
    uint32_t level_ispr_after_icpr; /* 0x058 ... after ICPR (UIF still set) */
    uint32_t level_ispr_after_fix;  /* 0x05C ... after clearing UIF, then ICPR */
    uint32_t level_enable_count;    /* 0x060 TIM2 ISR entries after re-enabling it */
    uint32_t basepri_read;          /* 0x064 BASEPRI read back */
    uint32_t basepri_masked_ispr;   /* 0x068 ISPR0 & A's bit while BASEPRI masks A */
    uint32_t group2_aircr;          /* 0x06C AIRCR with NVIC_PRIORITYGROUP_2 */
    uint32_t group2_prio[3];        /* 0x070 IPR bytes of A, B, C in scenario E2 */
    uint32_t svc_count;             /* 0x07C SVC_Handler entries */
    uint32_t svc_imm[2];            /* 0x080 immediates read back */
    uint32_t svc_pc[2];             /* 0x088 stacked PCs */
    uint32_t svc_r0[2];             /* 0x090 stacked r0 */
    uint32_t svc_r1[2];             /* 0x098 stacked r1 */
    uint32_t svc_exc_return[2];     /* 0x0A0 EXC_RETURN */
    uint32_t svc_ipsr;              /* 0x0A8 IPSR in the handler */
    uint32_t svc_ret[2];            /* 0x0AC values the SVC calls returned */
    uint32_t reserved;              /* 0x0B4 */
    sched_t basepri;                /* 0x0B8 D */
    sched_t nest;                   /* 0x0E0 E1: PRIGROUP 3, B preempts A */
    sched_t tail;                   /* 0x108 E2: PRIGROUP 5, B tail-chains after A */
    sched_t order;                  /* 0x130 E3: PRIGROUP 5, C, B, A by group then sub */
    sched_t same;                   /* 0x158 E4: equal priority, lower IRQ number first */
} irq_result_t;

RESULTS volatile irq_result_t irq_result;

_Static_assert(__builtin_offsetof(irq_result_t, basepri) == 0xB8, "irq_result layout");
_Static_assert(sizeof(irq_result_t) == 0x180, "irq_result size");

/* ---- software interrupts A, B, C ---- */

static const IRQn_Type sw_irqn[3] = {EXTI2_IRQn, EXTI3_IRQn, EXTI4_IRQn};
static volatile sched_t *cur;
static uint32_t log_pos;
static volatile uint32_t action[3];   /* bit j: handler i pends j */

static void log_put(char c)
{
    if (log_pos < sizeof cur->log - 1u) {
        cur->log[log_pos++] = c;
    }
}

static void begin(volatile sched_t *s)
{
    cur = s;
    log_pos = 0;
}

static void sync(void)
{
    __DSB();
    __ISB();
}

static void sw_handler(uint32_t id, uint32_t exc_return)
{
    log_put((char)('A' + id));
    cur->msp[id] = __get_MSP();
    cur->exc_return[id] = exc_return;
    uint32_t act = action[id];
    action[id] = 0;
    for (uint32_t j = 0; j < 3u; j++) {
        if ((act & (1u << j)) != 0u) {
            NVIC_SetPendingIRQ(sw_irqn[j]);
        }
    }
    sync();
    log_put((char)('a' + id));
}

#define LR_AT_ENTRY() ({ uint32_t lr_; __asm__ volatile ("mov %0, lr" : "=r" (lr_)); lr_; })

void EXTI2_IRQHandler(void) { sw_handler(0, LR_AT_ENTRY()); }
void EXTI3_IRQHandler(void) { sw_handler(1, LR_AT_ENTRY()); }
void EXTI4_IRQHandler(void) { sw_handler(2, LR_AT_ENTRY()); }

static void sw_prio(uint32_t id, uint32_t preempt, uint32_t sub)
{
    HAL_NVIC_SetPriority(sw_irqn[id], preempt, sub);
}

static void sw_pend(uint32_t id)
{
    HAL_NVIC_SetPendingIRQ(sw_irqn[id]);
}

/* ---- peripheral handlers ---- */

void TIM2_IRQHandler(void)
{
    if ((TIM2->SR & TIM_SR_UIF) != 0u) {
        TIM2->SR = ~TIM_SR_UIF;        /* rc_w0: clear only UIF */
        irq_result.tim2_count++;
    }
    irq_result.tim2_ipsr = __get_IPSR();
}

void EXTI0_IRQHandler(void)
{
    irq_result.exti_pr_in_isr = EXTI->PR;
    EXTI->PR = 1u;                     /* rc_w1; also clears SWIER0 */
    irq_result.exti_ipsr = __get_IPSR();
    irq_result.exti_count++;
}

static volatile uint32_t exti1_count;

void EXTI1_IRQHandler(void)
{
    exti1_count++;
}

/* ---- SVC (irq_asm.S) ---- */

uint32_t svc_call_2a(uint32_t a, uint32_t b);
uint32_t svc_call_07(uint32_t a, uint32_t b);
void SVC_Handler_Main(uint32_t *frame, uint32_t exc_return);

/* frame: r0 r1 r2 r3 r12 lr pc xpsr, as stacked on entry. */
void SVC_Handler_Main(uint32_t *frame, uint32_t exc_return)
{
    uint32_t pc = frame[6];
    uint32_t imm = *(const volatile uint16_t *)(pc - 2u) & 0xFFu;   /* SVC T1: 0xDFxx */
    uint32_t n = irq_result.svc_count;
    if (n < 2u) {
        irq_result.svc_imm[n] = imm;
        irq_result.svc_pc[n] = pc;
        irq_result.svc_r0[n] = frame[0];
        irq_result.svc_r1[n] = frame[1];
        irq_result.svc_exc_return[n] = exc_return;
    }
    irq_result.svc_ipsr = __get_IPSR();
    irq_result.svc_count = n + 1u;
    if (imm == 0x2Au) {
        frame[0] = frame[0] + frame[1];
    } else if (imm == 0x07u) {
        frame[0] = frame[0] ^ frame[1];
    } else {
        frame[0] = 0xFFFFFFFFu;
    }
}

/* ---- the scenarios ---- */

static void tim2_1khz(void)
{
    __HAL_RCC_TIM2_CLK_ENABLE();
    TIM2->PSC = 71u;                   /* 72 MHz / 72 = 1 MHz */
    TIM2->ARR = 999u;                  /* 1 MHz / 1000 = 1 kHz */
    TIM2->EGR = TIM_EGR_UG;            /* load PSC now; sets UIF */
    TIM2->SR = 0u;                     /* so the first interrupt is a real one */
    TIM2->DIER = TIM_DIER_UIE;
    HAL_NVIC_SetPriority(TIM2_IRQn, 1u, 0u);
    irq_result.tim2_psc = TIM2->PSC;
    irq_result.tim2_arr = TIM2->ARR;
    irq_result.tim2_prio = NVIC->IP[TIM2_IRQn];
    HAL_NVIC_EnableIRQ(TIM2_IRQn);
    TIM2->CR1 = TIM_CR1_CEN;

    uint32_t t0 = HAL_GetTick();
    while (HAL_GetTick() == t0) {
    }
    uint32_t c0 = DWT->CYCCNT;
    uint32_t n0 = irq_result.tim2_count;
    t0 = HAL_GetTick();
    while (HAL_GetTick() - t0 < 100u) {
    }
    irq_result.tim2_cycles = DWT->CYCCNT - c0;
    irq_result.tim2_count -= n0;
    irq_result.tim2_ticks = HAL_GetTick() - t0;
    TIM2->CR1 = 0u;
    HAL_NVIC_DisableIRQ(TIM2_IRQn);
}

static void exti_software(void)
{
    EXTI->IMR |= 1u;
    HAL_NVIC_SetPriority(EXTI0_IRQn, 2u, 0u);
    HAL_NVIC_EnableIRQ(EXTI0_IRQn);
    EXTI->SWIER = 1u;
    sync();
    irq_result.exti_pr_after = EXTI->PR;
    irq_result.exti_swier_after = EXTI->SWIER;
}

static void pend_and_clear(void)
{
    HAL_NVIC_SetPriority(EXTI1_IRQn, 3u, 0u);
    HAL_NVIC_SetPendingIRQ(EXTI1_IRQn);
    irq_result.pend_set_ispr = NVIC->ISPR[0] & (1u << EXTI1_IRQn);
    HAL_NVIC_ClearPendingIRQ(EXTI1_IRQn);
    irq_result.pend_clear_ispr = NVIC->ISPR[0] & (1u << EXTI1_IRQn);
    HAL_NVIC_EnableIRQ(EXTI1_IRQn);
    sync();
    irq_result.pend_enable_count = exti1_count;
    HAL_NVIC_SetPendingIRQ(EXTI1_IRQn);
    sync();
    irq_result.pend_repend_count = exti1_count;
    NVIC->STIR = EXTI1_IRQn;
    sync();
    irq_result.pend_stir_count = exti1_count;
    HAL_NVIC_DisableIRQ(EXTI1_IRQn);

    /* TIM2 (stopped, disabled in the NVIC) with UIE set: an update event
       asserts its level-sensitive request line. */
    uint32_t count = irq_result.tim2_count;
    TIM2->EGR = TIM_EGR_UG;
    sync();
    irq_result.level_ispr = NVIC->ISPR[0] & (1u << TIM2_IRQn);
    HAL_NVIC_ClearPendingIRQ(TIM2_IRQn);
    sync();
    irq_result.level_ispr_after_icpr = NVIC->ISPR[0] & (1u << TIM2_IRQn);
    TIM2->SR = ~TIM_SR_UIF;
    sync();
    HAL_NVIC_ClearPendingIRQ(TIM2_IRQn);
    sync();
    irq_result.level_ispr_after_fix = NVIC->ISPR[0] & (1u << TIM2_IRQn);
    HAL_NVIC_EnableIRQ(TIM2_IRQn);
    sync();
    irq_result.level_enable_count = irq_result.tim2_count - count;
    HAL_NVIC_DisableIRQ(TIM2_IRQn);
    TIM2->DIER = 0u;
}

static void basepri_masking(void)
{
    sw_prio(0, 5u, 0u);                /* A: 0x50, masked by BASEPRI 0x40 */
    sw_prio(1, 2u, 0u);                /* B: 0x20, not masked */
    for (uint32_t i = 0; i < 3u; i++) {
        HAL_NVIC_EnableIRQ(sw_irqn[i]);
    }
    begin(&irq_result.basepri);
    log_put('1');
    __set_BASEPRI(0x40u);
    __ISB();
    irq_result.basepri_read = __get_BASEPRI();
    sw_pend(0);
    sync();
    irq_result.basepri_masked_ispr = NVIC->ISPR[0] & (1u << sw_irqn[0]);
    log_put('2');
    sw_pend(1);
    sync();
    log_put('3');
    __set_BASEPRI(0u);
    __ISB();
    log_put('4');
}

static void grouping(void)
{
    /* E1: 4 bits of group priority.  A = 0x90, B = 0x80: B preempts A. */
    sw_prio(0, 9u, 0u);
    sw_prio(1, 8u, 0u);
    begin(&irq_result.nest);
    log_put('1');
    action[0] = 1u << 1;
    sw_pend(0);
    sync();
    log_put('2');

    /* E2: NVIC_PRIORITYGROUP_2, two bits of group priority.  The same
       bytes (A = group 2 sub 1 = 0x90, B = group 2 sub 0 = 0x80) are now
       one group: B waits for A and tail-chains. */
    HAL_NVIC_SetPriorityGrouping(NVIC_PRIORITYGROUP_2);
    irq_result.group2_aircr = SCB->AIRCR;
    sw_prio(0, 2u, 1u);
    sw_prio(1, 2u, 0u);
    sw_prio(2, 1u, 0u);
    for (uint32_t i = 0; i < 3u; i++) {
        irq_result.group2_prio[i] = NVIC->IP[sw_irqn[i]];
    }
    begin(&irq_result.tail);
    log_put('1');
    action[0] = 1u << 1;
    sw_pend(0);
    sync();
    log_put('2');

    /* E3: all three pending at once: group first (C), then sub-priority
       (B before A). */
    begin(&irq_result.order);
    log_put('1');
    __disable_irq();
    sw_pend(0);
    sw_pend(1);
    sw_pend(2);
    sync();
    log_put('2');
    __enable_irq();
    __ISB();
    log_put('3');

    /* E4: equal priority: the lower exception number first (A = IRQ 8). */
    sw_prio(0, 2u, 0u);
    sw_prio(1, 2u, 0u);
    begin(&irq_result.same);
    log_put('1');
    __disable_irq();
    sw_pend(1);
    sw_pend(0);
    sync();
    log_put('2');
    __enable_irq();
    __ISB();
    log_put('3');

    HAL_NVIC_SetPriorityGrouping(NVIC_PRIORITYGROUP_4);
    for (uint32_t i = 0; i < 3u; i++) {
        HAL_NVIC_DisableIRQ(sw_irqn[i]);
    }
}

static void svc_calls(void)
{
    irq_result.svc_ret[0] = svc_call_2a(7u, 5u);
    irq_result.svc_ret[1] = svc_call_07(0x1234u, 0x1111u);
}

int main(void)
{
    irq_result.h.magic = RESULT_TAG('I', 'R', 'Q', '1');
    HAL_Init();
    SystemClock_Config();
    CoreDebug_DEMCR |= CoreDebug_DEMCR_TRCENA;
    DWT->CYCCNT = 0;
    DWT->CTRL |= DWT_CTRL_CYCCNTENA;
    irq_result.h.stage = 1;

    tim2_1khz();
    irq_result.h.stage = 2;
    exti_software();
    irq_result.h.stage = 3;
    pend_and_clear();
    irq_result.h.stage = 4;
    basepri_masking();
    irq_result.h.stage = 5;
    grouping();
    irq_result.h.stage = 6;
    svc_calls();
    irq_result.h.stage = 7;
    irq_result.h.done = RESULT_DONE;

    for (;;) {
        __asm__ volatile ("wfi");
    }
}
