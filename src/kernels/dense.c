// A dense layer, y = act(x w + bias) with act = identity, ReLU or GELU, forward and backward,
// wasm32 + SIMD128, for x [m][k], w [k][n], bias [n], y [m][n] (row-major):
//   forward:  y = x w (product.h), then bias and the activation in one pass over y while it is in
//             cache; with GELU also its slope s = gelu'(z) at the pre-activation z (gelu.h), so
//             that the backward needs no transcendental function
//   backward: g = dy * (y > 0) with ReLU, dy * s with GELU (else dy), dbias = column sums of g,
//             dw = x^T g, dx = g w^T
// As tfjs ops that is a product, a broadcast add and a ReLU forward, and three products, the
// ReLU gradient's step and multiply and a reshape backward, each a kernel and a pass; GELU in its
// exact erf form is five more ops forward (erf among them) and about ten backward (an exp).
// bias_relu_backward is the same backward without the products, for a layer whose product is a
// convolution (src/core/relational/layers.ts); gelu_forward is the activation alone, for a GELU
// whose input is not one product (the diffusion sampler's state + time embedding).
#include <wasm_simd128.h>
#include "gelu.h"
#include "product.h"
#include "underflow.h"

// The activation codes of the entry points (src/core/kernels/dense.ts passes them).
enum { IDENTITY = 0, RELU = 1, GELU = 2 };

// out = scale dy where y > 0 (everywhere without y), else 0. Branch-free: the signs of y are as
// good as random, and a branch per element mispredicts.
static void relu_mask(const float *y, const float *dy, float *out, long size, float scale) {
  const v128_t zero = wasm_f32x4_splat(0), scales = wasm_f32x4_splat(scale);
  long i = 0;
  for (; i + 4 <= size; i += 4) {
    const v128_t g = wasm_f32x4_mul(wasm_v128_load(dy + i), scales);
    wasm_v128_store(out + i, y ? wasm_v128_and(g, wasm_f32x4_gt(wasm_v128_load(y + i), zero)) : g);
  }
  for (; i < size; i++) out[i] = !y || y[i] > 0 ? scale * dy[i] : 0;
}

// out = scale dy s: the GELU's chain rule with its slope s saved by the forward.
static void slope_product(const float *s, const float *dy, float *out, long size, float scale) {
  const v128_t scales = wasm_f32x4_splat(scale);
  long i = 0;
  for (; i + 4 <= size; i += 4) wasm_v128_store(out + i, wasm_f32x4_mul(wasm_f32x4_mul(wasm_v128_load(dy + i), scales), wasm_v128_load(s + i)));
  for (; i < size; i++) out[i] = scale * dy[i] * s[i];
}

// sums[j] = sum over the rows of g [rows][n] of g[i][j].
static void column_sums(const float *g, int rows, int n, float *sums) {
  for (int j = 0; j < n; j++) sums[j] = 0;
  for (int i = 0; i < rows; i++) {
    const float *row = g + (long)i * n;
    int j = 0;
    for (; j + 4 <= n; j += 4) wasm_v128_store(sums + j, wasm_f32x4_add(wasm_v128_load(sums + j), wasm_v128_load(row + j)));
    for (; j < n; j++) sums[j] += row[j];
  }
}

// y = act(x w + bias); with GELU also slope = gelu'(x w + bias) unless slope is 0 (a forward
// that no backward follows: the sampler's draw); without GELU slope is not touched.
__attribute__((export_name("dense_forward")))
void dense_forward(const float *x, const float *w, const float *bias, float *y, float *slope, int m, int n, int k, int activation) {
  product(x, k, 1, w, y, m, n, k);
  const v128_t zero = wasm_f32x4_splat(0);
  for (int i = 0; i < m; i++) {
    float *row = y + (long)i * n;
    int j = 0;
    if (activation == GELU && !slope) {
      for (; j + 4 <= n; j += 4) gelu4_value(wasm_f32x4_add(wasm_v128_load(row + j), wasm_v128_load(bias + j)), row + j);
      for (; j < n; j++) gelu1_value(row[j] + bias[j], row + j);
      continue;
    }
    if (activation == GELU) {
      float *slopes = slope + (long)i * n;
      for (; j + 4 <= n; j += 4) gelu4(wasm_f32x4_add(wasm_v128_load(row + j), wasm_v128_load(bias + j)), row + j, slopes + j);
      for (; j < n; j++) gelu1(row[j] + bias[j], row + j, slopes + j);
      continue;
    }
    for (; j + 4 <= n; j += 4) {
      v128_t v = wasm_f32x4_add(wasm_v128_load(row + j), wasm_v128_load(bias + j));
      wasm_v128_store(row + j, activation == RELU ? wasm_f32x4_max(v, zero) : v);
    }
    for (; j < n; j++) {
      const float v = row[j] + bias[j];
      row[j] = activation == RELU && v < 0 ? 0 : v;
    }
  }
}

// Bytes of scratch dense_backward needs: w^T, and g, which may differ from dy.
__attribute__((export_name("dense_backward_scratch")))
int dense_backward_scratch(int m, int n, int k, int activation) {
  (void)activation;
  return 4 * (n * k + m * n);
}

// `saved` is what the forward left for the activation's gradient: y with ReLU, the slope with
// GELU, nothing (0) without an activation.
__attribute__((export_name("dense_backward")))
void dense_backward(const float *x, const float *w, const float *saved, const float *dy, float *dx, float *dw, float *dbias,
                    float *scratch, int m, int n, int k, int activation) {
  float *wt = scratch;
  const float scale = underflow_scale(dy, (long)m * n); // g is dy times scale (underflow.h)
  const float *g = dy;
  if (activation != IDENTITY || scale != 1) {
    float *masked = scratch + n * k;
    if (activation == GELU) slope_product(saved, dy, masked, (long)m * n, scale);
    else relu_mask(activation == RELU ? saved : 0, dy, masked, (long)m * n, scale);
    g = masked;
  }
  column_sums(g, m, n, dbias);
  // dw [k][n] = x^T g: x read transposed through its strides.
  product(x, 1, k, g, dw, k, n, m);
  // dx [m][k] = g w^T, with w^T packed so that its rows load as vectors.
  transpose(w, k, n, wt);
  product(g, n, 1, wt, dx, m, k, n);
  if (scale != 1) {
    scale_in_place(dbias, n, 1 / scale);
    scale_in_place(dw, (long)k * n, 1 / scale);
    scale_in_place(dx, (long)m * k, 1 / scale);
  }
}

// The backward of y = relu(x + bias) over rows of n (a convolution's output, channels last):
// dx = dy * (y > 0), dbias = column sums of dx.
__attribute__((export_name("bias_relu_backward")))
void bias_relu_backward(const float *y, const float *dy, float *dx, float *dbias, int rows, int n) {
  relu_mask(y, dy, dx, (long)rows * n, 1);
  column_sums(dx, rows, n, dbias);
}

// y = gelu(x) and slope = gelu'(x), elementwise over size values (the backward is dy * slope);
// y alone when slope is 0.
__attribute__((export_name("gelu_forward")))
void gelu_forward(const float *x, float *y, float *slope, long size) {
  long i = 0;
  if (!slope) {
    for (; i + 4 <= size; i += 4) gelu4_value(wasm_v128_load(x + i), y + i);
    for (; i < size; i++) gelu1_value(x[i], y + i);
    return;
  }
  for (; i + 4 <= size; i += 4) gelu4(wasm_v128_load(x + i), y + i, slope + i);
  for (; i < size; i++) gelu1(x[i], y + i, slope + i);
}
