/* Double-precision routines for stdbg's vfp64 end-to-end test
 * (src/sim/vfp64/tests/firmware.rs). The same file is built for the
 * Cortex-M7 with the FPv5-D16 unit (runs on rsemu with the vfp64 layer) and
 * for the host; dp_run() must store bit-identical results on both.
 *
 * Inputs live in writable arrays so the compiler cannot fold the arithmetic
 * away. No input produces a NaN (the host's NaNs differ from Arm's) and every
 * float-to-integer conversion is in range (C leaves the rest undefined).
 * Only builtins are used: the M7 image links no libm and no libgcc, so any
 * operation the FPU cannot do inline fails the link instead of running in
 * software.
 */
#include <stdint.h>

#ifdef __arm__
/* FPSCR.RMode (ARMv7-M ARM A2.5.3): 0 nearest, 1 +inf, 2 -inf, 3 zero. */
static void set_rounding(unsigned mode)
{
    unsigned fpscr;
    __asm volatile("vmrs %0, fpscr" : "=r"(fpscr));
    fpscr = (fpscr & ~(3u << 22)) | (mode << 22);
    __asm volatile("vmsr fpscr, %0" : : "r"(fpscr) : "memory");
}
#else
#include <fenv.h>
static void set_rounding(unsigned mode)
{
    static const int modes[4] = {FE_TONEAREST, FE_UPWARD, FE_DOWNWARD, FE_TOWARDZERO};
    fesetround(modes[mode]);
}
#endif

#define N_IN 16
#define N_INT 8

/* Wide range: normals, a subnormal, values near 1, extremes. */
double dp_in[N_IN] = {
    1.5, -2.75, 3.141592653589793, 1e-300, 1e300, 123456.789, 0.1, -0.3,
    2.5, -2.5, 0.49999999999999994, 4503599627370497.0, 4.9e-310, -7.0e-3,
    65504.0, 6.103515625e-05,
};
/* In range for int32/uint32 conversions, fixed point and rounding. */
double dp_small[N_IN] = {
    0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 1234.5678, -9876.54321,
    0.49999999999999994, 7.0, -7.25, 32767.99, -32768.0, 1e-3, 3.75, -0.0,
};
int32_t dp_int[N_INT] = {0, 1, -1, 2147483647, -2147483647 - 1, 123456789, -42, 65536};
uint32_t dp_uint[N_INT] = {0, 1, 0xffffffffu, 0x80000000u, 123456789, 42, 65535, 3000000000u};
/* IEEE binary16 bit patterns (-mfp16-format=ieee on the M7). */
uint16_t dp_half[N_INT] = {0x3c00, 0x0001, 0xfbff, 0x7bff, 0x8400, 0x7c00, 0x3555, 0x03ff};
float dp_float[N_INT] = {1.0f, -0.1f, 3.4028235e38f, 1.17549435e-38f, 1e-45f, 65504.0f, -2.5f, 0.333f};

static uint64_t bits(double x)
{
    uint64_t u;
    __builtin_memcpy(&u, &x, sizeof u);
    return u;
}

static uint64_t hbits(_Float16 x)
{
    uint16_t u;
    __builtin_memcpy(&u, &x, sizeof u);
    return u;
}

static uint64_t fbits(float x)
{
    uint32_t u;
    __builtin_memcpy(&u, &x, sizeof u);
    return u;
}

/* A degree-7 polynomial by Horner's rule (two roundings per step). */
static double poly(double x)
{
    static const double c[8] = {
        1.0, -0.5, 0.16666666666666666, -0.041666666666666664,
        0.008333333333333333, -0.001388888888888889, 0.0001984126984126984, -2.48015873015873e-05,
    };
    double p = c[7];
    for (int i = 6; i >= 0; i--)
        p = p * x + c[i];
    return p;
}

/* Newton's method for 1/sqrt(a), a > 0: a loop of dependent multiplies. */
static double rsqrt(double a)
{
    double y = 1.0 / __builtin_sqrt(a) + 0.01;
    for (int i = 0; i < 5; i++)
        y = y * (1.5 - 0.5 * a * y * y);
    return y;
}

__attribute__((noinline)) unsigned dp_run(uint64_t *out)
{
    unsigned n = 0;
    for (int i = 0; i < N_IN; i++) {
        double x = dp_in[i], y = dp_in[(i + 5) % N_IN], z = dp_in[(i + 11) % N_IN];
        out[n++] = bits(x + y);
        out[n++] = bits(x - y);
        out[n++] = bits(x * y);
        out[n++] = bits(x / y);
        out[n++] = bits(-(x * y));
        out[n++] = bits(z + x * y);
        out[n++] = bits(z - x * y);
        out[n++] = bits(-z - x * y);
        out[n++] = bits(__builtin_fma(x, y, z));
        out[n++] = bits(__builtin_fma(-x, y, z));
        out[n++] = bits(__builtin_sqrt(__builtin_fabs(x)));
        out[n++] = bits(-x);
        out[n++] = bits(__builtin_fabs(y));
        out[n++] = bits(__builtin_fmax(x, y));
        out[n++] = bits(__builtin_fmin(x, y));
        out[n++] = bits(x > y ? x : z);
        out[n++] = (x < y) | (x <= y) << 1 | (x == y) << 2 | (x >= 0.0) << 3;
        out[n++] = bits(poly(x / 4.0e5));
        out[n++] = bits(rsqrt(__builtin_fabs(x) + 1.0));
        out[n++] = fbits((float)x);
        out[n++] = bits((double)(float)y);
        out[n++] = bits(x * 0.5 + 2.0);
    }
    for (int i = 0; i < N_IN; i++) {
        double s = dp_small[i];
        out[n++] = (uint32_t)(int32_t)s;
        out[n++] = (uint32_t)__builtin_fabs(s);
        out[n++] = (uint32_t)(int32_t)__builtin_lround(s);
        out[n++] = bits(__builtin_floor(s));
        out[n++] = bits(__builtin_ceil(s));
        out[n++] = bits(__builtin_trunc(s));
        out[n++] = bits(__builtin_round(s));
        out[n++] = bits(__builtin_rint(s));
        out[n++] = bits(__builtin_nearbyint(s));
        out[n++] = (uint32_t)(int32_t)(s * 65536.0);
        out[n++] = bits((double)(int32_t)(s * 65536.0) / 65536.0);
        out[n++] = (uint32_t)(int32_t)__builtin_floor(s);
    }
    for (int i = 0; i < N_INT; i++) {
        out[n++] = bits((double)dp_int[i]);
        out[n++] = bits((double)dp_uint[i]);
        out[n++] = bits((double)dp_int[i] / 3.0);
        out[n++] = bits((double)dp_float[i]);
        out[n++] = fbits((float)((double)dp_float[i] * 1.000001));
        _Float16 h;
        __builtin_memcpy(&h, &dp_half[i], sizeof h);
        out[n++] = bits((double)h);
        out[n++] = hbits((_Float16)(dp_in[i] * 1.0e-3));
        out[n++] = hbits((_Float16)dp_small[2 * i]);
    }
    /* The same operations in each FPSCR rounding mode (built with
     * -frounding-math, so the compiler keeps them after the mode change). */
    for (unsigned mode = 0; mode < 4; mode++) {
        set_rounding(mode);
        for (int i = 0; i < N_IN; i += 3) {
            double x = dp_in[i], y = dp_in[(i + 5) % N_IN], z = dp_in[(i + 11) % N_IN];
            double s = dp_small[i];
            out[n++] = bits(x + y);
            out[n++] = bits(x * y);
            out[n++] = bits(x / y);
            out[n++] = bits(z + x * y);
            out[n++] = bits(__builtin_fma(x, y, z));
            out[n++] = bits(__builtin_sqrt(__builtin_fabs(x)));
            out[n++] = fbits((float)x);
            out[n++] = hbits((_Float16)(x * 1.0e-3));
            out[n++] = bits(__builtin_rint(s));
            out[n++] = bits(__builtin_nearbyint(s));
            out[n++] = (uint32_t)(int32_t)__builtin_rint(s);
            out[n++] = bits(poly(x / 4.0e5));
        }
    }
    set_rounding(0);
    return n;
}
