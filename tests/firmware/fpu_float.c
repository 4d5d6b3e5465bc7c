/*
 * Single-precision checks both FPU images run (VMUL, VADD, VSQRT, VDIV,
 * VFMA, VCVT).  Inputs are read through volatile objects so the compiler
 * cannot fold them; -ffp-contract=off keeps each a * b + c a separate
 * VMUL and VADD, so every result is the IEEE 754 round-to-nearest value
 * of exactly the operations written here, in this order.  README.md
 * repeats the expressions for the host-side check.
 */
#include "fpu_result.h"

static volatile const float fir_h[8] = {
    0.02f, -0.05f, 0.11f, 0.42f, 0.42f, 0.11f, -0.05f, 0.02f,
};
static volatile const float fir_x[16] = {
    1.0f, 0.5f, -0.25f, 2.0f, -1.5f, 0.75f, 3.25f, -2.125f,
    0.1f, -0.3f, 1.7f, 2.9f, -0.6f, 0.01f, 5.5f, -4.4f,
};
static volatile const float poly_c[6] = {0.3f, -1.7f, 2.2f, 0.9f, -0.45f, 0.07f};
static volatile const float poly_x[4] = {0.5f, -1.25f, 3.0f, 0.1f};
static volatile const float sqrt_in[4] = {2.0f, 0.5f, 12345.678f, 1e-10f};
static volatile const float div_a[4] = {1.0f, 22.0f, -5.5f, 1e30f};
static volatile const float div_b[4] = {3.0f, 7.0f, 0.3f, 1e-10f};
static volatile const int32_t conv_i[2] = {123456789, -7};
static volatile const uint32_t conv_u[2] = {0xFFFFFFFFu, 16777217u};
static volatile const float conv_f[4] = {-2.75f, 3.99f, 3e9f, -0.5f};
static volatile const uint32_t fma_bits[3] = {0x3F800001u, 0x3F7FFFFFu, 0xBF800000u};

static float from_bits(uint32_t u)
{
    union { uint32_t u; float f; } v = {.u = u};
    return v.f;
}

/* y[n] = sum over k = 0..7 of h[k] * x[n + 7 - k], accumulated from 0.0f
   in increasing k. */
static void fir(void)
{
    for (uint32_t n = 0; n < 8u; n++) {
        float acc = 0.0f;
        for (uint32_t k = 0; k < 8u; k++) {
            acc = acc + fir_h[k] * fir_x[n + 7u - k];
        }
        fpu_result.fir[n] = f32_bits(acc);
    }
}

/* Horner: p = c5; then p = p * x + c[i] for i = 4, 3, 2, 1, 0. */
static void poly(void)
{
    for (uint32_t i = 0; i < 4u; i++) {
        float x = poly_x[i];
        float p = poly_c[5];
        for (int32_t j = 4; j >= 0; j--) {
            p = p * x + poly_c[j];
        }
        fpu_result.poly[i] = f32_bits(p);
    }
}

static void roots_and_quotients(void)
{
    for (uint32_t i = 0; i < 4u; i++) {
        fpu_result.sqrt[i] = f32_bits(__builtin_sqrtf(sqrt_in[i]));
        fpu_result.div[i] = f32_bits(div_a[i] / div_b[i]);
    }
}

static void conversions(void)
{
    fpu_result.conv[0] = f32_bits((float)conv_i[0]);
    fpu_result.conv[1] = f32_bits((float)conv_i[1]);
    fpu_result.conv[2] = f32_bits((float)conv_u[0]);
    fpu_result.conv[3] = f32_bits((float)conv_u[1]);
    fpu_result.conv[4] = (uint32_t)(int32_t)conv_f[0];   /* toward zero */
    fpu_result.conv[5] = (uint32_t)(int32_t)conv_f[1];
    fpu_result.conv[6] = (uint32_t)conv_f[2];
    fpu_result.conv[7] = (uint32_t)(int32_t)conv_f[3];
}

static void multiply_add(void)
{
    float a = from_bits(fma_bits[0]);
    float b = from_bits(fma_bits[1]);
    float c = from_bits(fma_bits[2]);
    fpu_result.fma[0] = f32_bits(__builtin_fmaf(a, b, c));
    fpu_result.fma[1] = f32_bits(a * b + c);
}

void fpu_float_checks(void)
{
    fir();
    poly();
    roots_and_quotients();
    conversions();
    multiply_add();
}
