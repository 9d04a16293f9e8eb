// The register-blocked product shared by Model Lab's wasm kernels (included, not linked: each
// kernel is its own module). c = op(a) b for one m x n block of results:
//   a(i, p) = a[i * ai + p * ap]  (strides let a be read transposed without a copy)
//   b is k x n row-major, c is m x n row-major and is overwritten (product) or added to
//   (product_add, for sums over blocks without a pass that adds each block's result).
// Each 4 x 8 block of c stays in eight SIMD registers while p runs over k.
#ifndef MODEL_LAB_PRODUCT_H
#define MODEL_LAB_PRODUCT_H
#include <wasm_simd128.h>

// c + s, or s, at c.
#define PUT(c, s) wasm_v128_store(c, add ? wasm_f32x4_add(wasm_v128_load(c), s) : (s))

static inline void product_into(const float *a, int ai, int ap, const float *b, float *c, int m, int n, int k, int add) {
  int i = 0;
  for (; i + 4 <= m; i += 4) {
    const float *a0 = a + i * ai, *a1 = a0 + ai, *a2 = a1 + ai, *a3 = a2 + ai;
    float *c0 = c + i * n, *c1 = c0 + n, *c2 = c1 + n, *c3 = c2 + n;
    int j = 0;
    for (; j + 8 <= n; j += 8) {
      v128_t s00 = wasm_f32x4_splat(0), s01 = s00, s10 = s00, s11 = s00;
      v128_t s20 = s00, s21 = s00, s30 = s00, s31 = s00;
      const float *bp = b + j;
      for (int p = 0; p < k; p++, bp += n) {
        v128_t b0 = wasm_v128_load(bp), b1 = wasm_v128_load(bp + 4);
        v128_t x0 = wasm_f32x4_splat(a0[p * ap]), x1 = wasm_f32x4_splat(a1[p * ap]);
        v128_t x2 = wasm_f32x4_splat(a2[p * ap]), x3 = wasm_f32x4_splat(a3[p * ap]);
        s00 = wasm_f32x4_add(s00, wasm_f32x4_mul(x0, b0)); s01 = wasm_f32x4_add(s01, wasm_f32x4_mul(x0, b1));
        s10 = wasm_f32x4_add(s10, wasm_f32x4_mul(x1, b0)); s11 = wasm_f32x4_add(s11, wasm_f32x4_mul(x1, b1));
        s20 = wasm_f32x4_add(s20, wasm_f32x4_mul(x2, b0)); s21 = wasm_f32x4_add(s21, wasm_f32x4_mul(x2, b1));
        s30 = wasm_f32x4_add(s30, wasm_f32x4_mul(x3, b0)); s31 = wasm_f32x4_add(s31, wasm_f32x4_mul(x3, b1));
      }
      PUT(c0 + j, s00); PUT(c0 + j + 4, s01);
      PUT(c1 + j, s10); PUT(c1 + j + 4, s11);
      PUT(c2 + j, s20); PUT(c2 + j + 4, s21);
      PUT(c3 + j, s30); PUT(c3 + j + 4, s31);
    }
    for (; j + 4 <= n; j += 4) {
      v128_t s0 = wasm_f32x4_splat(0), s1 = s0, s2 = s0, s3 = s0;
      const float *bp = b + j;
      for (int p = 0; p < k; p++, bp += n) {
        v128_t b0 = wasm_v128_load(bp);
        s0 = wasm_f32x4_add(s0, wasm_f32x4_mul(wasm_f32x4_splat(a0[p * ap]), b0));
        s1 = wasm_f32x4_add(s1, wasm_f32x4_mul(wasm_f32x4_splat(a1[p * ap]), b0));
        s2 = wasm_f32x4_add(s2, wasm_f32x4_mul(wasm_f32x4_splat(a2[p * ap]), b0));
        s3 = wasm_f32x4_add(s3, wasm_f32x4_mul(wasm_f32x4_splat(a3[p * ap]), b0));
      }
      PUT(c0 + j, s0); PUT(c1 + j, s1);
      PUT(c2 + j, s2); PUT(c3 + j, s3);
    }
    for (; j < n; j++) {
      float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (int p = 0; p < k; p++) {
        float x = b[p * n + j];
        s0 += a0[p * ap] * x; s1 += a1[p * ap] * x; s2 += a2[p * ap] * x; s3 += a3[p * ap] * x;
      }
      c0[j] = add ? c0[j] + s0 : s0; c1[j] = add ? c1[j] + s1 : s1;
      c2[j] = add ? c2[j] + s2 : s2; c3[j] = add ? c3[j] + s3 : s3;
    }
  }
  for (; i < m; i++) {
    const float *ar = a + i * ai;
    float *cr = c + i * n;
    int j = 0;
    for (; j + 4 <= n; j += 4) {
      v128_t s = wasm_f32x4_splat(0);
      for (int p = 0; p < k; p++) s = wasm_f32x4_add(s, wasm_f32x4_mul(wasm_f32x4_splat(ar[p * ap]), wasm_v128_load(b + p * n + j)));
      PUT(cr + j, s);
    }
    for (; j < n; j++) {
      float s = 0;
      for (int p = 0; p < k; p++) s += ar[p * ap] * b[p * n + j];
      cr[j] = add ? cr[j] + s : s;
    }
  }
}

static void product(const float *a, int ai, int ap, const float *b, float *c, int m, int n, int k) { product_into(a, ai, ap, b, c, m, n, k, 0); }
static void product_add(const float *a, int ai, int ap, const float *b, float *c, int m, int n, int k) { product_into(a, ai, ap, b, c, m, n, k, 1); }

// dst [cols][rows] = src [rows][cols] transposed, in 4 x 4 blocks of SIMD shuffles: about 4x
// fewer instructions than one element at a time (operands packed for product's B, e.g. w^T).
static void transpose(const float *src, int rows, int cols, float *dst) {
  int r = 0;
  for (; r + 4 <= rows; r += 4) {
    int c = 0;
    for (; c + 4 <= cols; c += 4) {
      const float *s = src + r * cols + c;
      const v128_t x0 = wasm_v128_load(s), x1 = wasm_v128_load(s + cols), x2 = wasm_v128_load(s + 2 * cols), x3 = wasm_v128_load(s + 3 * cols);
      const v128_t t0 = wasm_i32x4_shuffle(x0, x1, 0, 4, 1, 5), t1 = wasm_i32x4_shuffle(x2, x3, 0, 4, 1, 5);
      const v128_t t2 = wasm_i32x4_shuffle(x0, x1, 2, 6, 3, 7), t3 = wasm_i32x4_shuffle(x2, x3, 2, 6, 3, 7);
      float *d = dst + c * rows + r;
      wasm_v128_store(d, wasm_i32x4_shuffle(t0, t1, 0, 1, 4, 5));
      wasm_v128_store(d + rows, wasm_i32x4_shuffle(t0, t1, 2, 3, 6, 7));
      wasm_v128_store(d + 2 * rows, wasm_i32x4_shuffle(t2, t3, 0, 1, 4, 5));
      wasm_v128_store(d + 3 * rows, wasm_i32x4_shuffle(t2, t3, 2, 3, 6, 7));
    }
    for (; c < cols; c++)
      for (int i = r; i < r + 4; i++) dst[c * rows + i] = src[i * cols + c];
  }
  for (; r < rows; r++)
    for (int c = 0; c < cols; c++) dst[c * rows + r] = src[r * cols + c];
}

#endif
