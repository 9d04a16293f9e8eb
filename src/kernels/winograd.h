// Winograd F(2x2, 2x2): a 2 x 2 tile of a 2 x 2, stride-1 correlation in 9 multiplies instead of
// 16 (included, not linked, like product.h). In one dimension, 2 outputs of a 2-tap correlation,
// y0 = d0 g0 + d1 g1 and y1 = d1 g0 + d2 g1, take 3 products:
//   m0 = (d0 - d1) g0, m1 = d1 (g0 + g1), m2 = (d2 - d1) g1, y0 = m0 + m1, y1 = m1 + m2,
// that is inputs times B^T = [1 -1 0; 0 1 0; 0 -1 1], filters times G = [1 0; 1 1; 0 1], and the
// products summed by A^T = [1 1 0; 0 1 1]. Nested in two dimensions, a 3 x 3 input tile and a
// 2 x 2 filter each go to 9 points; with channels, the sum over input channels at each point is
// a matrix product of [tiles][channels in] by [channels in][channels out]. The transforms only
// add and subtract, so they cost little next to the products, and lose little precision.
#ifndef MODEL_LAB_WINOGRAD_H
#define MODEL_LAB_WINOGRAD_H
#include <wasm_simd128.h>

// Output tiles per block: a block's transformed inputs and products stay in L2.
#define WINOGRAD_BLOCK 64

// out[point * xi], xi = 3 alpha + beta: the 2 x 2 filter g at the 9 points, G g G^T.
static void winograd_filter_points(float g00, float g01, float g10, float g11, float *out, long point) {
  const float s00 = g00, s01 = g01, s10 = g00 + g10, s11 = g01 + g11, s20 = g10, s21 = g11;
  out[0] = s00; out[point] = s00 + s01; out[2 * point] = s01;
  out[3 * point] = s10; out[4 * point] = s10 + s11; out[5 * point] = s11;
  out[6 * point] = s20; out[7 * point] = s20 + s21; out[8 * point] = s21;
}

// out[point * xi + c] for c < channels (a multiple of 4): scale times the 2 x 2 filter whose
// element (i, j) starts at g + i row + j col, at the 9 points, G g G^T.
static void winograd_filter_tile(const float *g, long row, long col, float *out, long point, int channels, float scale) {
  const v128_t scales = wasm_f32x4_splat(scale);
  for (int c = 0; c < channels; c += 4, g += 4, out += 4) {
    const v128_t g00 = wasm_f32x4_mul(scales, wasm_v128_load(g)), g01 = wasm_f32x4_mul(scales, wasm_v128_load(g + col));
    const v128_t g10 = wasm_f32x4_mul(scales, wasm_v128_load(g + row)), g11 = wasm_f32x4_mul(scales, wasm_v128_load(g + row + col));
    const v128_t s10 = wasm_f32x4_add(g00, g10), s11 = wasm_f32x4_add(g01, g11);
    wasm_v128_store(out, g00);
    wasm_v128_store(out + point, wasm_f32x4_add(g00, g01));
    wasm_v128_store(out + 2 * point, g01);
    wasm_v128_store(out + 3 * point, s10);
    wasm_v128_store(out + 4 * point, wasm_f32x4_add(s10, s11));
    wasm_v128_store(out + 5 * point, s11);
    wasm_v128_store(out + 6 * point, g10);
    wasm_v128_store(out + 7 * point, wasm_f32x4_add(g10, g11));
    wasm_v128_store(out + 8 * point, g11);
  }
}

// out[point * xi + c] for c < channels (a multiple of 4): the 3 x 3 input tile whose element
// (i, j) starts at d + i row + j col, at the 9 points, B^T d B.
static void winograd_input_tile(const float *d, long row, long col, float *out, long point, int channels) {
  for (int c = 0; c < channels; c += 4, d += 4, out += 4) {
    const v128_t d00 = wasm_v128_load(d), d01 = wasm_v128_load(d + col), d02 = wasm_v128_load(d + 2 * col);
    const v128_t d10 = wasm_v128_load(d + row), d11 = wasm_v128_load(d + row + col), d12 = wasm_v128_load(d + row + 2 * col);
    const v128_t d20 = wasm_v128_load(d + 2 * row), d21 = wasm_v128_load(d + 2 * row + col), d22 = wasm_v128_load(d + 2 * row + 2 * col);
    const v128_t e00 = wasm_f32x4_sub(d00, d10), e01 = wasm_f32x4_sub(d01, d11), e02 = wasm_f32x4_sub(d02, d12);
    const v128_t e20 = wasm_f32x4_sub(d20, d10), e21 = wasm_f32x4_sub(d21, d11), e22 = wasm_f32x4_sub(d22, d12);
    wasm_v128_store(out, wasm_f32x4_sub(e00, e01));
    wasm_v128_store(out + point, e01);
    wasm_v128_store(out + 2 * point, wasm_f32x4_sub(e02, e01));
    wasm_v128_store(out + 3 * point, wasm_f32x4_sub(d10, d11));
    wasm_v128_store(out + 4 * point, d11);
    wasm_v128_store(out + 5 * point, wasm_f32x4_sub(d12, d11));
    wasm_v128_store(out + 6 * point, wasm_f32x4_sub(e20, e21));
    wasm_v128_store(out + 7 * point, e21);
    wasm_v128_store(out + 8 * point, wasm_f32x4_sub(e22, e21));
  }
}

// The 2 x 2 output tile whose element (i, j) starts at y + i row + j col, for c < channels (a
// multiple of 4), from the products at the 9 points, m[point * xi + c]: bias (zeros without one)
// plus scale times A^T m A, through a ReLU when relu.
static void winograd_output_tile(const float *m, long point, const float *bias, float scale, int relu, float *y, long row, long col,
                                 int channels) {
  const v128_t zero = wasm_f32x4_splat(0), scales = wasm_f32x4_splat(scale);
  for (int c = 0; c < channels; c += 4, m += 4, y += 4) {
    const v128_t m3 = wasm_v128_load(m + 3 * point), m4 = wasm_v128_load(m + 4 * point), m5 = wasm_v128_load(m + 5 * point);
    const v128_t r00 = wasm_f32x4_add(wasm_v128_load(m), m3), r01 = wasm_f32x4_add(wasm_v128_load(m + point), m4);
    const v128_t r02 = wasm_f32x4_add(wasm_v128_load(m + 2 * point), m5);
    const v128_t r10 = wasm_f32x4_add(m3, wasm_v128_load(m + 6 * point)), r11 = wasm_f32x4_add(m4, wasm_v128_load(m + 7 * point));
    const v128_t r12 = wasm_f32x4_add(m5, wasm_v128_load(m + 8 * point));
    const v128_t b = bias ? wasm_v128_load(bias + c) : zero;
    v128_t z00 = wasm_f32x4_add(b, wasm_f32x4_mul(scales, wasm_f32x4_add(r00, r01)));
    v128_t z01 = wasm_f32x4_add(b, wasm_f32x4_mul(scales, wasm_f32x4_add(r01, r02)));
    v128_t z10 = wasm_f32x4_add(b, wasm_f32x4_mul(scales, wasm_f32x4_add(r10, r11)));
    v128_t z11 = wasm_f32x4_add(b, wasm_f32x4_mul(scales, wasm_f32x4_add(r11, r12)));
    if (relu) {
      z00 = wasm_f32x4_max(z00, zero); z01 = wasm_f32x4_max(z01, zero);
      z10 = wasm_f32x4_max(z10, zero); z11 = wasm_f32x4_max(z11, zero);
    }
    wasm_v128_store(y, z00); wasm_v128_store(y + col, z01);
    wasm_v128_store(y + row, z10); wasm_v128_store(y + row + col, z11);
  }
}

#endif
