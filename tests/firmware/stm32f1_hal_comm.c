/*
 * Blocking UART, SPI and I2C transfers in the manner of the CubeF1 HAL:
 * Init calls the board's MspInit (clocks, pins), and every wait on a flag
 * gives up after Timeout ms of HAL_GetTick.  Registers: RM0008 §27.6
 * (USART), §25.5 (SPI), §26.6 (I2C); the I2C master sequence is RM0008
 * §26.3.3 "I2C master mode" (START, SB, address, ADDR or AF, STOP).
 */
#include "stm32f1_hal.h"

/* ---- UART ---- */

/* USARTDIV = PCLK / (16 * baud), as mantissa << 4 | fraction/16,
   rounded to the nearest 1/16 (RM0008 §27.3.4). */
static uint32_t uart_brr(uint32_t pclk, uint32_t baud)
{
    uint32_t div100 = (pclk * 25u) / (4u * baud);   /* USARTDIV * 100 */
    uint32_t mant = div100 / 100u;
    uint32_t frac = ((div100 - mant * 100u) * 16u + 50u) / 100u;
    return (mant << 4) + (frac & 0xF0u) + (frac & 0x0Fu);
}

__attribute__((weak)) void HAL_UART_MspInit(UART_HandleTypeDef *huart)
{
    (void)huart;
}

HAL_StatusTypeDef HAL_UART_Init(UART_HandleTypeDef *huart)
{
    USART_TypeDef *u = huart->Instance;
    HAL_UART_MspInit(huart);
    u->CR1 &= ~USART_CR1_UE;
    u->CR2 &= ~USART_CR2_STOP_Msk;                            /* 1 stop bit */
    u->CR1 = (u->CR1 & ~(USART_CR1_M | USART_CR1_PCE)) | USART_CR1_TE | USART_CR1_RE;
    u->CR3 = 0u;                                              /* no flow control */
    uint32_t pclk = u == USART1 ? HAL_RCC_GetPCLK2Freq() : HAL_RCC_GetPCLK1Freq();
    u->BRR = uart_brr(pclk, huart->BaudRate);
    u->CR2 &= ~(USART_CR2_LINEN | USART_CR2_CLKEN);           /* asynchronous mode */
    u->CR3 &= ~(USART_CR3_SCEN | USART_CR3_HDSEL | USART_CR3_IREN);
    u->CR1 |= USART_CR1_UE;
    return HAL_OK;
}

static HAL_StatusTypeDef wait_flag(volatile uint32_t *reg, uint32_t flag, uint32_t tickstart,
                                   uint32_t timeout)
{
    while ((*reg & flag) == 0u) {
        if (timeout != HAL_MAX_DELAY && (HAL_GetTick() - tickstart) > timeout) {
            return HAL_TIMEOUT;
        }
    }
    return HAL_OK;
}

HAL_StatusTypeDef HAL_UART_Transmit(UART_HandleTypeDef *huart, const uint8_t *pData,
                                    uint16_t Size, uint32_t Timeout)
{
    USART_TypeDef *u = huart->Instance;
    uint32_t tickstart = HAL_GetTick();
    for (uint16_t i = 0; i < Size; i++) {
        if (wait_flag(&u->SR, USART_SR_TXE, tickstart, Timeout) != HAL_OK) {
            return HAL_TIMEOUT;
        }
        u->DR = pData[i];
    }
    return wait_flag(&u->SR, USART_SR_TC, tickstart, Timeout);
}

/* ---- SPI ---- */

__attribute__((weak)) void HAL_SPI_MspInit(SPI_HandleTypeDef *hspi)
{
    (void)hspi;
}

HAL_StatusTypeDef HAL_SPI_Init(SPI_HandleTypeDef *hspi)
{
    SPI_TypeDef *s = hspi->Instance;
    HAL_SPI_MspInit(hspi);
    s->CR1 &= ~SPI_CR1_SPE;
    /* Master, CPOL 0, CPHA 0, 8-bit, MSB first, NSS by software held high
       (SSI) so the master never sees a mode fault. */
    s->CR1 = SPI_CR1_MSTR | ((hspi->BaudRatePrescaler & 7u) << SPI_CR1_BR_Pos)
           | SPI_CR1_SSM | SPI_CR1_SSI;
    s->CR2 = 0u;
    return HAL_OK;
}

/* Full duplex, one byte in flight at a time, as the HAL does for 8 bits. */
HAL_StatusTypeDef HAL_SPI_TransmitReceive(SPI_HandleTypeDef *hspi, const uint8_t *pTxData,
                                          uint8_t *pRxData, uint16_t Size, uint32_t Timeout)
{
    SPI_TypeDef *s = hspi->Instance;
    uint32_t tickstart = HAL_GetTick();
    if ((s->CR1 & SPI_CR1_SPE) == 0u) {
        s->CR1 |= SPI_CR1_SPE;
    }
    uint16_t tx = 0, rx = 0;
    int tx_allowed = 1;
    while (tx < Size || rx < Size) {
        if (tx_allowed && tx < Size && (s->SR & SPI_SR_TXE) != 0u) {
            *(volatile uint8_t *)&s->DR = pTxData[tx++];
            tx_allowed = 0;
        }
        if (rx < Size && (s->SR & SPI_SR_RXNE) != 0u) {
            pRxData[rx++] = (uint8_t)s->DR;
            tx_allowed = 1;
        }
        if (Timeout != HAL_MAX_DELAY && (HAL_GetTick() - tickstart) >= Timeout) {
            return HAL_TIMEOUT;
        }
    }
    /* End of transaction: TXE set and BSY clear (RM0008 §25.3, BSY flag). */
    while ((s->SR & (SPI_SR_TXE | SPI_SR_BSY)) != SPI_SR_TXE) {
        if (Timeout != HAL_MAX_DELAY && (HAL_GetTick() - tickstart) >= Timeout) {
            return HAL_TIMEOUT;
        }
    }
    /* Clear a possible overrun: read DR, then SR. */
    (void)s->DR;
    (void)s->SR;
    return HAL_OK;
}

/* ---- I2C ---- */

__attribute__((weak)) void HAL_I2C_MspInit(I2C_HandleTypeDef *hi2c)
{
    (void)hi2c;
}

HAL_StatusTypeDef HAL_I2C_Init(I2C_HandleTypeDef *hi2c)
{
    I2C_TypeDef *i = hi2c->Instance;
    HAL_I2C_MspInit(hi2c);
    i->CR1 &= ~I2C_CR1_PE;
    i->CR1 |= I2C_CR1_SWRST;          /* reset a possibly stuck peripheral */
    i->CR1 &= ~I2C_CR1_SWRST;
    uint32_t pclk1 = HAL_RCC_GetPCLK1Freq();
    uint32_t freq = pclk1 / 1000000u;  /* CR2.FREQ in MHz */
    i->CR2 = freq;
    i->TRISE = freq + 1u;              /* 1000 ns maximum rise time, standard mode */
    uint32_t ccr = pclk1 / (hi2c->ClockSpeed * 2u);
    i->CCR = ccr < 4u ? 4u : ccr;      /* standard mode, Thigh = Tlow = CCR * Tpclk1 */
    i->OAR1 = 1u << 14;                /* bit 14 kept at 1 (RM0008 §26.6.3), 7-bit address 0 */
    i->OAR2 = 0u;
    i->CR1 |= I2C_CR1_PE;
    hi2c->ErrorCode = HAL_I2C_ERROR_NONE;
    return HAL_OK;
}

/* Waits for SR1 & flag, failing early on AF (no acknowledge): then the
   HAL generates STOP, clears AF and reports HAL_I2C_ERROR_AF. */
static HAL_StatusTypeDef i2c_wait_sr1(I2C_HandleTypeDef *hi2c, uint32_t flag,
                                      uint32_t tickstart, uint32_t timeout)
{
    I2C_TypeDef *i = hi2c->Instance;
    while ((i->SR1 & flag) == 0u) {
        if ((i->SR1 & I2C_SR1_AF) != 0u) {
            i->CR1 |= I2C_CR1_STOP;
            i->SR1 = ~I2C_SR1_AF;      /* rc_w0 */
            hi2c->ErrorCode |= HAL_I2C_ERROR_AF;
            return HAL_ERROR;
        }
        if (timeout != HAL_MAX_DELAY && (HAL_GetTick() - tickstart) > timeout) {
            hi2c->ErrorCode |= HAL_I2C_ERROR_TIMEOUT;
            return HAL_ERROR;
        }
    }
    return HAL_OK;
}

HAL_StatusTypeDef HAL_I2C_Master_Transmit(I2C_HandleTypeDef *hi2c, uint16_t DevAddress,
                                          const uint8_t *pData, uint16_t Size, uint32_t Timeout)
{
    I2C_TypeDef *i = hi2c->Instance;
    uint32_t tickstart = HAL_GetTick();
    while ((i->SR2 & I2C_SR2_BUSY) != 0u) {
        if ((HAL_GetTick() - tickstart) > I2C_TIMEOUT_BUSY_FLAG) {
            return HAL_BUSY;
        }
    }
    if ((i->CR1 & I2C_CR1_PE) == 0u) {
        i->CR1 |= I2C_CR1_PE;
    }
    i->CR1 &= ~I2C_CR1_POS;
    hi2c->ErrorCode = HAL_I2C_ERROR_NONE;

    /* START, then wait for SB (cleared by reading SR1, then writing DR). */
    i->CR1 |= I2C_CR1_START;
    uint32_t t0 = HAL_GetTick();
    while ((i->SR1 & I2C_SR1_SB) == 0u) {
        if ((HAL_GetTick() - t0) > Timeout) {
            if ((i->CR1 & I2C_CR1_START) != 0u) {
                hi2c->ErrorCode = HAL_I2C_ERROR_WRONG_START;
            }
            return HAL_TIMEOUT;
        }
    }
    i->DR = DevAddress & 0xFEu;        /* 7-bit address, write */
    if (i2c_wait_sr1(hi2c, I2C_SR1_ADDR, tickstart, Timeout) != HAL_OK) {
        return HAL_ERROR;
    }
    (void)i->SR1;                      /* clear ADDR: read SR1, then SR2 */
    (void)i->SR2;
    for (uint16_t n = 0; n < Size; n++) {
        if (i2c_wait_sr1(hi2c, I2C_SR1_TXE, tickstart, Timeout) != HAL_OK) {
            return HAL_ERROR;
        }
        i->DR = pData[n];
    }
    if (i2c_wait_sr1(hi2c, I2C_SR1_BTF, tickstart, Timeout) != HAL_OK) {
        return HAL_ERROR;
    }
    i->CR1 |= I2C_CR1_STOP;
    return HAL_OK;
}
