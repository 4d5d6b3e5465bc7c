/*
 * Double-precision checks for the Cortex-M7's FPv5-D16 unit (h743-fpu
 * only): the same kind of arithmetic as fpu_float.c, in f64.  Results in
 * dbl[] as pairs of words, low word first (README.md has the list).
 */
#include "fpu_result.h"

static volatile const double dfir_h[8] = {0.02, -0.05, 0.11, 0.42, 0.42, 0.11, -0.05, 0.02};
static volatile const double dfir_x[11] = {
    1.0, 0.5, -0.25, 2.0, -1.5, 0.75, 3.25, -2.125, 0.1, -0.3, 1.7,
};
static volatile const double dpoly_c[6] = {0.3, -1.7, 2.2, 0.9, -0.45, 0.07};
static volatile const double dpoly_x[2] = {0.5, -1.25};
static volatile const double d_in[4] = {2.0, 22.0, 7.0, -2.75};
static volatile const int32_t d_int = 123456789;
static volatile const float d_f32 = 0.1f;
static volatile const double d_tenth = 0.1;
static volatile const uint64_t dfma_bits[3] = {
    0x3FF0000000000001ull, 0x3FEFFFFFFFFFFFFFull, 0xBFF0000000000000ull,
};

static void put(uint32_t slot, double d)
{
    union { double d; uint64_t u; } v = {.d = d};
    fpu_result.dbl[2u * slot] = (uint32_t)v.u;
    fpu_result.dbl[2u * slot + 1u] = (uint32_t)(v.u >> 32);
}

static double from_bits(uint64_t u)
{
    union { uint64_t u; double d; } v = {.u = u};
    return v.d;
}

void fpu_double_checks(void);

void fpu_double_checks(void)
{
    /* slots 0-3: y[n] = sum over k = 0..7 of h[k] * x[n + 7 - k], n = 0..3 */
    for (uint32_t n = 0; n < 4u; n++) {
        double acc = 0.0;
        for (uint32_t k = 0; k < 8u; k++) {
            acc = acc + dfir_h[k] * dfir_x[n + 7u - k];
        }
        put(n, acc);
    }
    /* slots 4-5: Horner p = c5; p = p * x + c[i], i = 4..0 */
    for (uint32_t i = 0; i < 2u; i++) {
        double x = dpoly_x[i];
        double p = dpoly_c[5];
        for (int32_t j = 4; j >= 0; j--) {
            p = p * x + dpoly_c[j];
        }
        put(4u + i, p);
    }
    put(6, __builtin_sqrt(d_in[0]));             /* sqrt(2.0) */
    put(7, d_in[1] / d_in[2]);                   /* 22.0 / 7.0 */
    put(8, (double)d_int);                       /* 123456789.0 */
    put(9, (double)d_f32);                       /* 0.1f widened */
    fpu_result.dbl[20] = (uint32_t)(int32_t)d_in[3];   /* -2 */
    fpu_result.dbl[21] = f32_bits((float)d_tenth);     /* 0.1 narrowed */
    put(11, __builtin_fma(from_bits(dfma_bits[0]), from_bits(dfma_bits[1]),
                          from_bits(dfma_bits[2])));
}
