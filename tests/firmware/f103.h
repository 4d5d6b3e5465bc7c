/* Register addresses used by the STM32F103 test images (RM0008). */
#ifndef F103_H
#define F103_H

#include <stdint.h>

#define REG32(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

/* RCC */
#define RCC_APB2ENR   REG32(0x40021018u)
#define RCC_APB1ENR   REG32(0x4002101Cu)
#define RCC_APB2ENR_AFIOEN  (1u << 0)
#define RCC_APB2ENR_IOPCEN  (1u << 4)
#define RCC_APB1ENR_PWREN   (1u << 28)

/* GPIOC */
#define GPIOC_CRH     REG32(0x40011004u)
#define GPIOC_ODR     REG32(0x4001100Cu)
#define GPIOC_BSRR    REG32(0x40011010u)
#define GPIOC_BRR     REG32(0x40011014u)

/* AFIO */
#define AFIO_MAPR     REG32(0x40010004u)
#define AFIO_MAPR_SWJ_CFG_MASK    (7u << 24)
#define AFIO_MAPR_SWJ_CFG_ALL_OFF (4u << 24)  /* JTAG-DP and SW-DP disabled */

/* PWR */
#define PWR_CR        REG32(0x40007000u)
#define PWR_CR_LPDS   (1u << 0)
#define PWR_CR_PDDS   (1u << 1)

/* IWDG */
#define IWDG_KR       REG32(0x40003000u)
#define IWDG_PR       REG32(0x40003004u)
#define IWDG_RLR      REG32(0x40003008u)
#define IWDG_KEY_START   0xCCCCu
#define IWDG_KEY_UNLOCK  0x5555u
#define IWDG_KEY_RELOAD  0xAAAAu

/* Cortex-M3 system control block and debug MCU */
#define SCB_SCR       REG32(0xE000ED10u)
#define SCB_SCR_SLEEPDEEP (1u << 2)
#define DBGMCU_CR     REG32(0xE0042004u)

/* Busy-wait for about n loop iterations (defined once per image). */
void delay(uint32_t n);

#endif /* F103_H */
