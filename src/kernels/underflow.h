// Gradients can sit next to float32's underflow. On same-diff, CoRelNet's encoder receives
// |dy| < 1e-30: context normalisation of two objects saturates the similarity softmax. Their
// products with weights are subnormal, and x86 takes a microcode assist for each subnormal
// result: the convolution gradients ran 1.6-1.8x slower on such a dy than on a random one
// (bench/README.md, "Subnormal gradients"). A kernel multiplies an operand that sits that close
// to underflow by an exact power of two that brings its largest magnitude into [1, 2), and its
// results by the inverse. Both are exact for normal numbers, so results are bit for bit those of
// the unscaled arithmetic wherever it does not underflow, and more accurate where it does. Any
// other operand is left as it is, at no cost beyond finding its largest magnitude.
#ifndef MODEL_LAB_UNDERFLOW_H
#define MODEL_LAB_UNDERFLOW_H
#include <wasm_simd128.h>

// Below this largest magnitude an operand is near underflow: its products with factors under
// 2^-62 (rare in a network) would be subnormal.
#define UNDERFLOW_NEAR_EXPONENT (127 - 64)

// 2^k with max |v| 2^k in [1, 2), k <= 126 (2^-k stays normal), when max |v| < 2^-64; else 1,
// as for v holding only zeros, or an inf or a NaN.
static float underflow_scale(const float *v, long size) {
  const v128_t magnitude = wasm_i32x4_splat(0x7fffffff);
  v128_t top = wasm_i32x4_splat(0); // as unsigned bits, |x| orders like x, and NaN above inf
  long i = 0;
  for (; i + 4 <= size; i += 4) top = wasm_u32x4_max(top, wasm_v128_and(wasm_v128_load(v + i), magnitude));
  for (; i < size; i++) top = wasm_u32x4_max(top, wasm_v128_and(wasm_v128_load32_splat(v + i), magnitude));
  top = wasm_u32x4_max(top, wasm_i32x4_shuffle(top, top, 2, 3, 0, 1));
  top = wasm_u32x4_max(top, wasm_i32x4_shuffle(top, top, 1, 0, 3, 2));
  const unsigned bits = (unsigned)wasm_i32x4_extract_lane(top, 0), exponent = bits >> 23;
  if (bits == 0 || exponent >= UNDERFLOW_NEAR_EXPONENT) return 1;
  const unsigned k = exponent == 0 ? 126 : 127 - exponent < 126 ? 127 - exponent : 126;
  return wasm_f32x4_extract_lane(wasm_i32x4_splat((int)((127 + k) << 23)), 0);
}

// v *= scale, in place.
static void scale_in_place(float *v, long size, float scale) {
  const v128_t scales = wasm_f32x4_splat(scale);
  long i = 0;
  for (; i + 4 <= size; i += 4) wasm_v128_store(v + i, wasm_f32x4_mul(wasm_v128_load(v + i), scales));
  for (; i < size; i++) v[i] *= scale;
}

#endif
