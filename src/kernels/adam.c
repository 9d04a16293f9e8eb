// Adam's update of one parameter, wasm32 + SIMD128, in the float32 operations and the order that
// src/core/optimizers.ts writes with tfjs ops, so that both give the same bits:
//   m' = m * beta1 + g * (1 - beta1)
//   v' = v * beta2 + (g * g) * (1 - beta2)
//   p' = p - m' / (sqrt(v') / correction + epsilon) * step_size
// As tfjs ops that is 13 kernels per parameter and step, each a pass over it; here one pass.
#include <wasm_simd128.h>

__attribute__((export_name("adam")))
void adam(const float *p, const float *g, const float *m, const float *v, float *p_out, float *m_out, float *v_out, int n,
          float beta1, float one_minus_beta1, float beta2, float one_minus_beta2, float correction, float epsilon,
          float step_size) {
  const v128_t b1 = wasm_f32x4_splat(beta1), c1 = wasm_f32x4_splat(one_minus_beta1);
  const v128_t b2 = wasm_f32x4_splat(beta2), c2 = wasm_f32x4_splat(one_minus_beta2);
  const v128_t corr = wasm_f32x4_splat(correction), eps = wasm_f32x4_splat(epsilon), rate = wasm_f32x4_splat(step_size);
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    const v128_t gi = wasm_v128_load(g + i);
    const v128_t mi = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(m + i), b1), wasm_f32x4_mul(gi, c1));
    const v128_t vi = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(v + i), b2), wasm_f32x4_mul(wasm_f32x4_mul(gi, gi), c2));
    const v128_t denominator = wasm_f32x4_add(wasm_f32x4_div(wasm_f32x4_sqrt(vi), corr), eps);
    wasm_v128_store(m_out + i, mi);
    wasm_v128_store(v_out + i, vi);
    wasm_v128_store(p_out + i, wasm_f32x4_sub(wasm_v128_load(p + i), wasm_f32x4_mul(wasm_f32x4_div(mi, denominator), rate)));
  }
  for (; i < n; i++) {
    const float mi = m[i] * beta1 + g[i] * one_minus_beta1;
    const float vi = v[i] * beta2 + (g[i] * g[i]) * one_minus_beta2;
    m_out[i] = mi;
    v_out[i] = vi;
    p_out[i] = p[i] - mi / (__builtin_sqrtf(vi) / correction + epsilon) * step_size;
  }
}
