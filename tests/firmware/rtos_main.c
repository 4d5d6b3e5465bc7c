/*
 * f103-rtos: a two-task round-robin kernel in miniature, shaped like an
 * RTOS port for the Cortex-M3.  The core runs from HSI (8 MHz, no clock
 * set-up); SysTick interrupts every 8000 cycles (1 kHz) at priority 14
 * and pends PendSV (priority 15, the lowest), which switches tasks
 * (rtos_port.S).  Tasks run in Thread mode on their own process stacks
 * (CONTROL.SPSEL = 1, privileged), each calling task_work, which calls
 * regs_hold, so a debugger halted in a task sees a three-deep stack:
 * regs_hold <- task_work <- task_a/task_b.
 * Results in rtos_result at 0x20000000; README.md lists every field.
 */
#include "stm32f103xb.h"
#include "results.h"

#define STACK_WORDS 256u
#define HOLD_LOOPS  2000u   /* regs_hold spins: about 0.5 ms at 8 MHz */

typedef struct {
    uint32_t count;         /* task_work calls completed */
    uint32_t errors;        /* registers regs_hold found changed, summed */
    uint32_t control;       /* CONTROL read in the task */
    uint32_t psp;           /* PSP read in the task */
    uint32_t ipsr;          /* IPSR read in the task (0: Thread mode) */
    uint32_t stack_lo;      /* the task's stack: [stack_lo, stack_hi) */
    uint32_t stack_hi;
} task_state_t;

typedef struct {
    result_header_t h;      /* 0x00 "RTS1"; done once both tasks ran 10 rounds */
    uint32_t ticks;         /* 0x10 SysTick interrupts */
    uint32_t switches;      /* 0x14 context switches made by PendSV */
    uint32_t exit_called;   /* 0x18 a task function returned (must stay 0) */
    uint32_t tick_msp;      /* 0x1C MSP seen in SysTick_Handler */
    uint32_t tick_psp;      /* 0x20 PSP seen in SysTick_Handler */
    uint32_t tick_exc_return; /* 0x24 EXC_RETURN of SysTick_Handler */
    task_state_t a;         /* 0x28 */
    task_state_t b;         /* 0x44 */
} rtos_result_t;

RESULTS volatile rtos_result_t rtos_result;

_Static_assert(__builtin_offsetof(rtos_result_t, b) == 0x44, "rtos_result layout");

typedef struct {
    uint32_t *sp;           /* saved PSP: r4-r11 then the hardware frame */
} tcb_t;

static uint32_t stack_a[STACK_WORDS] __attribute__((aligned(8)));
static uint32_t stack_b[STACK_WORDS] __attribute__((aligned(8)));
static tcb_t tcbs[2];
tcb_t *volatile current_tcb;   /* read by rtos_port.S */

uint32_t regs_hold(uint32_t seed, uint32_t loops);
void rtos_start_first_task(void);
void rtos_switch_context(void);

/* Round robin between the two tasks; called from PendSV_Handler. */
void rtos_switch_context(void)
{
    current_tcb = current_tcb == &tcbs[0] ? &tcbs[1] : &tcbs[0];
    rtos_result.switches++;
}

#define LR_AT_ENTRY() ({ uint32_t lr_; __asm__ volatile ("mov %0, lr" : "=r" (lr_)); lr_; })

void SysTick_Handler(void)
{
    rtos_result.tick_exc_return = LR_AT_ENTRY();
    rtos_result.ticks++;
    rtos_result.tick_msp = __get_MSP();
    rtos_result.tick_psp = __get_PSP();
    if (rtos_result.a.count >= 10u && rtos_result.b.count >= 10u) {
        rtos_result.h.done = RESULT_DONE;
    }
    SCB->ICSR = SCB_ICSR_PENDSVSET;
}

/* A task function returned: never expected. */
static void task_exit_error(void)
{
    rtos_result.exit_called++;
    for (;;) {
        __asm__ volatile ("");
    }
}

__attribute__((noinline)) static void task_work(volatile task_state_t *t, uint32_t seed)
{
    t->errors += regs_hold(seed + t->count, HOLD_LOOPS);
    t->control = __get_CONTROL();
    t->psp = __get_PSP();
    t->ipsr = __get_IPSR();
    t->count++;
}

static void task_a(void *arg)
{
    volatile task_state_t *t = arg;
    for (;;) {
        task_work(t, 0xA0000000u);
    }
}

static void task_b(void *arg)
{
    volatile task_state_t *t = arg;
    for (;;) {
        task_work(t, 0xB0000000u);
    }
}

/* The initial frame: r4-r11, then what exception return pops
   (r0 = arg, r1-r3, r12, lr = task_exit_error, pc = entry, xPSR.T). */
static void task_create(tcb_t *tcb, uint32_t *stack, void (*entry)(void *),
                        volatile task_state_t *state)
{
    uint32_t *sp = stack + STACK_WORDS - 16u;
    for (uint32_t i = 0; i < 8u; i++) {
        sp[i] = 0x04040404u * (i + 4u) & 0xFFFFFFFFu;   /* r4..r11 */
    }
    sp[8] = (uint32_t)(uintptr_t)state;        /* r0 */
    sp[9] = 0x01010101u;                       /* r1 */
    sp[10] = 0x02020202u;                      /* r2 */
    sp[11] = 0x03030303u;                      /* r3 */
    sp[12] = 0x12121212u;                      /* r12 */
    sp[13] = (uint32_t)(uintptr_t)task_exit_error;
    sp[14] = (uint32_t)(uintptr_t)entry & ~1u; /* return address, halfword aligned */
    sp[15] = 0x01000000u;                      /* xPSR: T */
    tcb->sp = sp;
    state->stack_lo = (uint32_t)(uintptr_t)stack;
    state->stack_hi = (uint32_t)(uintptr_t)(stack + STACK_WORDS);
}

int main(void)
{
    rtos_result.h.magic = RESULT_TAG('R', 'T', 'S', '1');
    task_create(&tcbs[0], stack_a, task_a, &rtos_result.a);
    task_create(&tcbs[1], stack_b, task_b, &rtos_result.b);
    current_tcb = &tcbs[0];

    __disable_irq();
    NVIC_SetPriority(PendSV_IRQn, 15u);
    SysTick_Config(8000u);                     /* 1 kHz at HSI 8 MHz */
    NVIC_SetPriority(SysTick_IRQn, 14u);
    rtos_result.h.stage = 1;
    rtos_start_first_task();                   /* enables interrupts; never returns */
    for (;;) {
    }
}
