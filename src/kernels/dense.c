// A dense layer, y = act(x w + bias) with act = identity or ReLU, forward and backward, wasm32 +
// SIMD128, for x [m][k], w [k][n], bias [n], y [m][n] (row-major):
//   forward:  y = x w (product.h), then bias and ReLU in one pass over y while it is in cache
//   backward: g = dy * (y > 0) with ReLU (else dy), dbias = column sums of g, dw = x^T g,
//             dx = g w^T
// As tfjs ops that is a product, a broadcast add and a ReLU forward, and three products, the
// ReLU gradient's step and multiply and a reshape backward, each a kernel and a pass.
// bias_relu_backward is the same backward without the products, for a layer whose product is a
// convolution (src/core/relational/layers.ts).
#include <wasm_simd128.h>
#include "product.h"
#include "underflow.h"

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

__attribute__((export_name("dense_forward")))
void dense_forward(const float *x, const float *w, const float *bias, float *y, int m, int n, int k, int relu) {
  product(x, k, 1, w, y, m, n, k);
  const v128_t zero = wasm_f32x4_splat(0);
  for (int i = 0; i < m; i++) {
    float *row = y + (long)i * n;
    int j = 0;
    for (; j + 4 <= n; j += 4) {
      v128_t v = wasm_f32x4_add(wasm_v128_load(row + j), wasm_v128_load(bias + j));
      wasm_v128_store(row + j, relu ? wasm_f32x4_max(v, zero) : v);
    }
    for (; j < n; j++) {
      const float v = row[j] + bias[j];
      row[j] = relu && v < 0 ? 0 : v;
    }
  }
}

// Bytes of scratch dense_backward needs: w^T, and g, which may differ from dy.
__attribute__((export_name("dense_backward_scratch")))
int dense_backward_scratch(int m, int n, int k, int relu) {
  (void)relu;
  return 4 * (n * k + m * n);
}

__attribute__((export_name("dense_backward")))
void dense_backward(const float *x, const float *w, const float *y, const float *dy, float *dx, float *dw, float *dbias,
                    float *scratch, int m, int n, int k, int relu) {
  float *wt = scratch;
  const float scale = underflow_scale(dy, (long)m * n); // g is dy times scale (underflow.h)
  const float *g = dy;
  if (relu || scale != 1) {
    float *masked = scratch + n * k;
    relu_mask(relu ? y : 0, dy, masked, (long)m * n, scale);
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
