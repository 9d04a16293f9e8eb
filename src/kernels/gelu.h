// GELU in PyTorch's exact form (nn.GELU's default), gelu(z) = z Phi(z) with Phi the standard
// normal CDF, and its slope gelu'(z) = Phi(z) + z phi(z), four lanes at a time without branches.
// wasm32 has no libm, so Phi and exp are computed here:
//   Phi(-a) = exp(-a^2 / 2) t P(t) for a = |z| <= 12, t = 1 / (1 + 0.3 a), P of degree 9
//     (the form of Abramowitz and Stegun 7.1.26, which tfjs's erf uses with degree 5 and an
//     absolute error of 1.5e-7; P is fitted to 0.5 erfcx(a / sqrt 2) / t, relative error 3.3e-9:
//     scripts/gelu-fit.py); Phi(z) = 1 - Phi(-z) for z >= 0. The one exp gives phi too.
//   |z| > 12: Phi(-|z|) < 1.8e-33 and phi < 2e-32 are taken as 0, so that no result is subnormal
//     (slow on x86: underflow.h); PyTorch's values there differ by less than 1e-32.
//   exp(-a^2 / 2): a^2 rounded to float32 would be off by up to 7.7e-6 relative at a = 11, so it
//     is split exactly into hi + lo (a's high 12 bits squared are exact); then Cody and Waite's
//     reduction by n ln 2 and Cephes' expf polynomial on [-ln 2 / 2, ln 2 / 2].
// Measured against double precision on 240,001 points of [-12, 12] (test/unit/denseKernel.test.ts):
// gelu within 3.8e-7 absolute (half a float32 ulp at |y| in [8, 12] is 4.8e-7), gelu' within
// 1.7e-7; tfjs's ops 4.5e-7 and 1.3e-7. Phi itself, in a float32 emulation of these steps on 4M
// points: within 6 ulp relative (4.2e-7), also in its tail, where 1 + erf(x) as tfjs and PyTorch
// compute it loses relative precision.
#ifndef MODEL_LAB_GELU_H
#define MODEL_LAB_GELU_H
#include <wasm_simd128.h>

#define GELU_TAIL 12.0f
#define SPLAT(c) wasm_f32x4_splat(c)
#define MUL_ADD(a, b, c) wasm_f32x4_add(wasm_f32x4_mul(a, b), SPLAT(c))

// exp(hi + lo) for hi in [-72, 0] and |lo| small beside it (hi's rounding error, carried apart).
static inline __attribute__((always_inline)) v128_t exp_split(v128_t hi, v128_t lo) {
  // n = hi log2(e) rounded to the nearest integer (ties to even), by adding 1.5 * 2^23: n is then
  // the low bits of the sum, which build 2^n below (nearest + trunc_sat give the same n in more
  // instructions on x86).
  const v128_t shifted = wasm_f32x4_add(wasm_f32x4_mul(hi, SPLAT(1.44269504088896341f)), SPLAT(12582912.0f));
  const v128_t n = wasm_f32x4_sub(shifted, SPLAT(12582912.0f));
  // ln 2 = 0.693359375 - 2.12194440e-4 + ...: n times the first part is exact.
  const v128_t r = wasm_f32x4_add(wasm_f32x4_sub(wasm_f32x4_sub(hi, wasm_f32x4_mul(n, SPLAT(0.693359375f))), wasm_f32x4_mul(n, SPLAT(-2.12194440e-4f))), lo);
  v128_t p = SPLAT(1.9875691500e-4f);
  p = MUL_ADD(p, r, 1.3981999507e-3f);
  p = MUL_ADD(p, r, 8.3334519073e-3f);
  p = MUL_ADD(p, r, 4.1665795894e-2f);
  p = MUL_ADD(p, r, 1.6666665459e-1f);
  p = MUL_ADD(p, r, 5.0000001201e-1f);
  p = wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_mul(wasm_f32x4_mul(p, r), r), r), SPLAT(1));
  // 2^n built in the exponent bits; n >= -104 here, so it is a normal number.
  const v128_t power = wasm_i32x4_shl(wasm_i32x4_add(shifted, wasm_i32x4_splat(127 - 0x4b400000)), 23);
  return wasm_f32x4_mul(p, power);
}

// y = gelu(z), slope = gelu'(z). NaN stays NaN; at z = +-inf, as PyTorch, y is inf or NaN.
static inline __attribute__((always_inline)) void gelu_lanes(v128_t z, v128_t *y, v128_t *slope) {
  const v128_t one = SPLAT(1);
  const v128_t a = wasm_f32x4_abs(z);
  const v128_t inside = wasm_f32x4_le(a, SPLAT(GELU_TAIL));
  const v128_t c = wasm_f32x4_pmin(a, SPLAT(GELU_TAIL)); // pmin: one x86 instruction (a NaN lane is masked by `inside`)
  const v128_t c_hi = wasm_v128_and(c, wasm_i32x4_splat((int)0xfffff000));
  const v128_t c_lo = wasm_f32x4_sub(c, c_hi);
  const v128_t hi = wasm_f32x4_mul(wasm_f32x4_mul(c_hi, c_hi), SPLAT(-0.5f));
  const v128_t lo = wasm_f32x4_mul(wasm_f32x4_mul(c_lo, wasm_f32x4_add(c, c_hi)), SPLAT(-0.5f));
  const v128_t e = wasm_v128_and(exp_split(hi, lo), inside); // exp(-z^2 / 2)
  const v128_t t = wasm_f32x4_div(one, wasm_f32x4_add(one, wasm_f32x4_mul(SPLAT(0.3f), c)));
  v128_t p = SPLAT(-0.0204654522f);
  p = MUL_ADD(p, t, 0.111543179f);
  p = MUL_ADD(p, t, -0.226024032f);
  p = MUL_ADD(p, t, 0.188727066f);
  p = MUL_ADD(p, t, -0.0767507553f);
  p = MUL_ADD(p, t, 0.0946430266f);
  p = MUL_ADD(p, t, 0.0789440498f);
  p = MUL_ADD(p, t, 0.110109083f);
  p = MUL_ADD(p, t, 0.11958804f);
  p = MUL_ADD(p, t, 0.119685799f);
  const v128_t lower = wasm_f32x4_mul(wasm_f32x4_mul(e, t), p); // Phi(-|z|)
  const v128_t cdf = wasm_v128_bitselect(wasm_f32x4_sub(one, lower), lower, wasm_f32x4_ge(z, SPLAT(0)));
  *y = wasm_f32x4_mul(z, cdf);
  *slope = wasm_f32x4_add(cdf, wasm_f32x4_mul(z, wasm_f32x4_mul(e, SPLAT(0.3989422804014327f)))); // phi = e / sqrt(2 pi)
}

// gelu of 4 values into y[0..3] and their slopes into slope[0..3].
static inline __attribute__((always_inline)) void gelu4(v128_t z, float *y, float *slope) {
  v128_t values, slopes;
  gelu_lanes(z, &values, &slopes);
  wasm_v128_store(y, values);
  wasm_v128_store(slope, slopes);
}

// One value, computed as a lane of gelu_lanes: a row's tail gets the same results as its vectors.
static inline __attribute__((always_inline)) void gelu1(float z, float *y, float *slope) {
  v128_t values, slopes;
  gelu_lanes(wasm_f32x4_splat(z), &values, &slopes);
  *y = wasm_f32x4_extract_lane(values, 0);
  *slope = wasm_f32x4_extract_lane(slopes, 0);
}

// gelu of 4 values into y[0..3], without the slopes (a forward that no backward follows).
static inline __attribute__((always_inline)) void gelu4_value(v128_t z, float *y) {
  v128_t values, slopes;
  gelu_lanes(z, &values, &slopes);
  wasm_v128_store(y, values);
}

// One value without its slope, as a lane of gelu_lanes.
static inline __attribute__((always_inline)) void gelu1_value(float z, float *y) {
  v128_t values, slopes;
  gelu_lanes(wasm_f32x4_splat(z), &values, &slopes);
  *y = wasm_f32x4_extract_lane(values, 0);
}

#undef MUL_ADD
#undef SPLAT
#endif
