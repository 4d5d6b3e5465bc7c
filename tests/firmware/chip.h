/*
 * The chip the flash images of startup_m4.c are built for, chosen by the
 * Makefile with -DCHIP_F303, -DCHIP_G474, -DCHIP_L476 (Cortex-M4F) or
 * -DCHIP_H743 (Cortex-M7), plus what they share: the core peripherals
 * (cortex_m.h) and the GPIO and USART register layouts, which are the same
 * on the STM32F3, G4, L4 and H7 (GPIO: RM0316 §11.4, RM0440 §9.4, RM0351
 * §8, RM0433 §11.4; USART with ISR/TDR: RM0316 §29, RM0440 §37, RM0351
 * §40, RM0433 §48).
 */
#ifndef CHIP_H
#define CHIP_H

#include <stdint.h>

#if defined(CHIP_F303)
#include "chip_f303.h"
#elif defined(CHIP_G474)
#include "chip_g474.h"
#elif defined(CHIP_L476)
#include "chip_l476.h"
#elif defined(CHIP_H743)
#include "chip_h743.h"
#else
#error "build with -DCHIP_F303, -DCHIP_G474, -DCHIP_L476 or -DCHIP_H743"
#endif

#define __NVIC_PRIO_BITS 4u
typedef enum { SysTick_IRQn = -1 } IRQn_Type;
#include "cortex_m.h"

#define REG32(addr) (*(volatile uint32_t *)(uintptr_t)(addr))

/* GPIO port registers (offsets from the port base). */
#define GPIO_MODER(port)   REG32((port) + 0x00u)   /* 2 bits per pin: 00 in, 01 out, 10 AF, 11 analog */
#define GPIO_OTYPER(port)  REG32((port) + 0x04u)
#define GPIO_OSPEEDR(port) REG32((port) + 0x08u)
#define GPIO_PUPDR(port)   REG32((port) + 0x0Cu)
#define GPIO_IDR(port)     REG32((port) + 0x10u)
#define GPIO_ODR(port)     REG32((port) + 0x14u)
#define GPIO_BSRR(port)    REG32((port) + 0x18u)   /* bits 15:0 set, 31:16 reset */
#define GPIO_AFRL(port)    REG32((port) + 0x20u)   /* 4 bits per pin 0..7 */
#define GPIO_AFRH(port)    REG32((port) + 0x24u)   /* 4 bits per pin 8..15 */
#define GPIO_MODE_OUTPUT   1u
#define GPIO_MODE_AF       2u

/* USART registers of the ISR/TDR generation (offsets from the base). */
#define USART_CR1(base)    REG32((base) + 0x00u)
#define USART_BRR(base)    REG32((base) + 0x0Cu)
#define USART_ISR(base)    REG32((base) + 0x1Cu)
#define USART_TDR(base)    REG32((base) + 0x28u)
#define USART_CR1_UE       (1u << 0)
#define USART_CR1_RE       (1u << 2)
#define USART_CR1_TE       (1u << 3)
#define USART_ISR_TC       (1u << 6)
#define USART_ISR_TXE      (1u << 7)   /* TXFNF on the G4/H7 with the FIFO off: same bit */

/* The alternate-function register of the USART pins (the chip header
   overrides it where they are pins 8..15). */
#ifndef UART_AFR
#define UART_AFR(port)     GPIO_AFRL(port)
#endif

/* Baud rate: 115200, 8N1, oversampling by 16: BRR = USARTDIV =
   f_ck / baud, rounded to nearest as ST's HAL does (UART_DIV_SAMPLING16). */
#define UART_BAUD          115200u
#define UART_BRR_VALUE     ((UART_KERNEL_HZ + UART_BAUD / 2u) / UART_BAUD)

/* SysTick at 1 kHz from the processor clock (CLKSOURCE = 1). */
#define SYSTICK_RELOAD     (CHIP_HCLK_HZ / 1000u - 1u)

#endif /* CHIP_H */
