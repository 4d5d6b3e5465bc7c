/*
 * f103-usart: serial I/O the CubeMX way, on the 72 MHz HAL base.
 * USART1 at 115200 8N1 on PA9 (TX) / PA10 (RX), BRR for PCLK2 = 72 MHz:
 * sends "hello\r\n", then "count N\r\n" (N = 1, 2, ...) every 100 ms, and
 * echoes every byte it receives (RXNE interrupt into a ring buffer, sent
 * back from the main loop between whole lines).  Before the loop, one
 * SPI1 master transfer of 4 bytes (PA5/PA6/PA7, no slave) and one I2C1
 * master transmit to address 0x50 with nobody on the bus (PB6/PB7),
 * both with HAL-style timeouts, so they finish whatever the bus does.
 * Results in usart_result at 0x20000000; README.md lists every field.
 */
#include "stm32f1_hal.h"
#include "results.h"

typedef struct {
    result_header_t h;      /* 0x00 "UAR1"; done once hello, SPI and I2C are recorded */
    uint32_t usart_brr;     /* 0x10 USART1_BRR */
    uint32_t usart_cr1;     /* 0x14 USART1_CR1 */
    uint32_t gpioa_crl;     /* 0x18 PA5-PA7 (SPI1) */
    uint32_t gpioa_crh;     /* 0x1C PA9/PA10 (USART1) */
    uint32_t gpiob_crl;     /* 0x20 PB6/PB7 (I2C1) */
    uint32_t hello_status;  /* 0x24 HAL_UART_Transmit of "hello\r\n" */
    uint32_t spi_status;    /* 0x28 HAL_SPI_TransmitReceive */
    uint32_t spi_cr1;       /* 0x2C SPI1_CR1 after the transfer */
    uint32_t spi_sr;        /* 0x30 SPI1_SR after the transfer */
    uint8_t spi_tx[4];      /* 0x34 bytes sent */
    uint8_t spi_rx[4];      /* 0x38 bytes received */
    uint32_t i2c_status;    /* 0x3C HAL_I2C_Master_Transmit */
    uint32_t i2c_error;     /* 0x40 hi2c1.ErrorCode */
    uint32_t i2c_ticks;     /* 0x44 ms the transmit took */
    uint32_t i2c_cr1;       /* 0x48 I2C1_CR1, 2 ms later */
    uint32_t i2c_sr1;       /* 0x4C I2C1_SR1, 2 ms later */
    uint32_t i2c_sr2;       /* 0x50 I2C1_SR2, 2 ms later */
    uint32_t i2c_ccr;       /* 0x54 I2C1_CCR */
    uint32_t i2c_trise;     /* 0x58 I2C1_TRISE */
    uint32_t lines;         /* 0x5C "count N" lines sent */
    uint32_t rx_count;      /* 0x60 bytes received */
    uint32_t rx_last;       /* 0x64 last byte received */
    uint32_t echo_count;    /* 0x68 bytes echoed */
    uint32_t rx_overruns;   /* 0x6C interrupts that saw USART_SR.ORE */
    uint32_t tx_timeouts;   /* 0x70 HAL_UART_Transmit calls that timed out */
} usart_result_t;

RESULTS volatile usart_result_t usart_result;

_Static_assert(__builtin_offsetof(usart_result_t, tx_timeouts) == 0x70, "usart_result layout");

static UART_HandleTypeDef huart1 = {.Instance = USART1, .BaudRate = 115200u};
static SPI_HandleTypeDef hspi1 = {.Instance = SPI1, .BaudRatePrescaler = 5u};   /* /64: 1.125 MHz */
static I2C_HandleTypeDef hi2c1 = {.Instance = I2C1, .ClockSpeed = 100000u};

static volatile uint8_t rx_ring[64];
static volatile uint32_t rx_head, rx_tail;

void HAL_UART_MspInit(UART_HandleTypeDef *huart)
{
    (void)huart;
    __HAL_RCC_USART1_CLK_ENABLE();
    __HAL_RCC_GPIOA_CLK_ENABLE();
    GPIO_InitTypeDef tx = {.Pin = GPIO_PIN_9, .Mode = GPIO_MODE_AF_PP,
                           .Speed = GPIO_SPEED_FREQ_HIGH};
    HAL_GPIO_Init(GPIOA, &tx);
    GPIO_InitTypeDef rx = {.Pin = GPIO_PIN_10, .Mode = GPIO_MODE_INPUT, .Pull = GPIO_NOPULL};
    HAL_GPIO_Init(GPIOA, &rx);
}

void HAL_SPI_MspInit(SPI_HandleTypeDef *hspi)
{
    (void)hspi;
    __HAL_RCC_SPI1_CLK_ENABLE();
    __HAL_RCC_GPIOA_CLK_ENABLE();
    GPIO_InitTypeDef out = {.Pin = GPIO_PIN_5 | GPIO_PIN_7, .Mode = GPIO_MODE_AF_PP,
                            .Speed = GPIO_SPEED_FREQ_HIGH};
    HAL_GPIO_Init(GPIOA, &out);
    GPIO_InitTypeDef miso = {.Pin = GPIO_PIN_6, .Mode = GPIO_MODE_INPUT, .Pull = GPIO_NOPULL};
    HAL_GPIO_Init(GPIOA, &miso);
}

void HAL_I2C_MspInit(I2C_HandleTypeDef *hi2c)
{
    (void)hi2c;
    __HAL_RCC_GPIOB_CLK_ENABLE();
    GPIO_InitTypeDef pins = {.Pin = GPIO_PIN_6 | GPIO_PIN_7, .Mode = GPIO_MODE_AF_OD,
                             .Speed = GPIO_SPEED_FREQ_HIGH};
    HAL_GPIO_Init(GPIOB, &pins);
    __HAL_RCC_I2C1_CLK_ENABLE();
}

void USART1_IRQHandler(void)
{
    uint32_t sr = USART1->SR;
    if ((sr & (USART_SR_RXNE | USART_SR_ORE)) != 0u) {
        uint8_t b = (uint8_t)USART1->DR;    /* SR then DR: clears RXNE and ORE */
        if ((sr & USART_SR_ORE) != 0u) {
            usart_result.rx_overruns++;
        }
        uint32_t next = (rx_head + 1u) % sizeof rx_ring;
        if (next != rx_tail) {
            rx_ring[rx_head] = b;
            rx_head = next;
        }
        usart_result.rx_count++;
        usart_result.rx_last = b;
    }
}

static void send(const uint8_t *p, uint16_t n)
{
    if (HAL_UART_Transmit(&huart1, p, n, 10u) != HAL_OK) {
        usart_result.tx_timeouts++;
    }
}

/* "count N\r\n" */
static void send_count(uint32_t n)
{
    uint8_t line[24] = "count ";
    uint8_t digits[10];
    uint32_t len = 6, nd = 0;
    do {
        digits[nd++] = (uint8_t)('0' + n % 10u);
        n /= 10u;
    } while (n != 0u);
    while (nd > 0u) {
        line[len++] = digits[--nd];
    }
    line[len++] = '\r';
    line[len++] = '\n';
    send(line, (uint16_t)len);
}

static void spi_check(void)
{
    static const uint8_t tx[4] = {0x9F, 0x00, 0x55, 0xAA};
    uint8_t rx[4] = {0};
    HAL_SPI_Init(&hspi1);
    usart_result.spi_status = HAL_SPI_TransmitReceive(&hspi1, tx, rx, 4u, 10u);
    usart_result.spi_cr1 = SPI1->CR1;
    usart_result.spi_sr = SPI1->SR;
    for (uint32_t i = 0; i < 4u; i++) {
        usart_result.spi_tx[i] = tx[i];
        usart_result.spi_rx[i] = rx[i];
    }
    usart_result.gpioa_crl = GPIOA->CRL;
}

static void i2c_check(void)
{
    static const uint8_t data[2] = {0x00, 0x10};
    HAL_I2C_Init(&hi2c1);
    usart_result.i2c_ccr = I2C1->CCR;
    usart_result.i2c_trise = I2C1->TRISE;
    uint32_t t0 = HAL_GetTick();
    usart_result.i2c_status = HAL_I2C_Master_Transmit(&hi2c1, 0x50u << 1, data, 2u, 10u);
    usart_result.i2c_ticks = HAL_GetTick() - t0;
    usart_result.i2c_error = hi2c1.ErrorCode;
    HAL_Delay(2);                          /* let the STOP condition finish */
    usart_result.i2c_cr1 = I2C1->CR1;
    usart_result.i2c_sr1 = I2C1->SR1;
    usart_result.i2c_sr2 = I2C1->SR2;
    usart_result.gpiob_crl = GPIOB->CRL;
}

int main(void)
{
    usart_result.h.magic = RESULT_TAG('U', 'A', 'R', '1');
    HAL_Init();
    SystemClock_Config();
    HAL_UART_Init(&huart1);
    usart_result.usart_brr = USART1->BRR;
    usart_result.gpioa_crh = GPIOA->CRH;
    usart_result.h.stage = 1;

    static const uint8_t hello[] = "hello\r\n";
    usart_result.hello_status = HAL_UART_Transmit(&huart1, hello, sizeof hello - 1u, 10u);
    usart_result.h.stage = 2;
    spi_check();
    usart_result.h.stage = 3;
    i2c_check();
    usart_result.h.stage = 4;

    USART1->CR1 |= USART_CR1_RXNEIE;
    HAL_NVIC_SetPriority(USART1_IRQn, 5u, 0u);
    HAL_NVIC_EnableIRQ(USART1_IRQn);
    usart_result.usart_cr1 = USART1->CR1;
    usart_result.h.done = RESULT_DONE;

    uint32_t next = HAL_GetTick() + 100u;
    for (;;) {
        if ((int32_t)(HAL_GetTick() - next) >= 0) {
            next += 100u;
            usart_result.lines++;
            send_count(usart_result.lines);
        }
        while (rx_tail != rx_head) {
            uint8_t b = rx_ring[rx_tail];
            rx_tail = (rx_tail + 1u) % sizeof rx_ring;
            send(&b, 1u);
            usart_result.echo_count++;
        }
    }
}
