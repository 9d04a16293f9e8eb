// Winograd F(4x4, 2x2): a 4 x 4 tile of a 2 x 2, stride-1 correlation in 25 multiplies instead
// of 64 (included, not linked, like product.h). In one dimension, the 4 outputs of a 2-tap
// correlation, y_i = d_i g_0 + d_(i+1) g_1, are the products at the points 0, 1, -1, 2 and
// infinity of the 5 inputs times B^T and the 2 taps times G, summed by A^T:
//   B^T = [2 -1 -2 1 0; 0 -2 -1 1 0; 0 2 -3 1 0; 0 -1 0 1 0; 0 2 -1 -2 1]
//   G   = [1/2 0; -1/2 -1/2; -1/6 1/6; 1/6 1/3; 0 1]
//   A^T = [1 1 1 1 0; 0 1 -1 2 0; 0 1 1 4 0; 0 1 -1 8 1]
// (Toom-Cook; G takes the fractions because filters are transformed once per call, inputs once
// per tile.) Nested in two dimensions, a 5 x 5 input tile and a 2 x 2 filter each go to 25
// points; with channels, the sum over input channels at each point is a matrix product of
// [tiles][channels in] by [channels in][channels out]. The filter gradient is the same identity
// read backwards: dg = G^T ((B^T d B) . (A dy A^T)) G, so its points are products of transformed
// input tiles and transformed dy tiles, summed over tiles. F(2x2, 2x2), the smaller version,
// needs 36 multiplies for every 64: F(4x4, 2x2) does 1.44x fewer, and its transforms touch each
// input 1.44x less often too (bench/README.md, "Winograd F(4x4, 2x2)").
#ifndef MODEL_LAB_WINOGRAD_H
#define MODEL_LAB_WINOGRAD_H
#include <stdint.h>
#include <wasm_simd128.h>

#define WINOGRAD_TILE 4    // output tile side
#define WINOGRAD_INPUT 5   // input tile side
#define WINOGRAD_POINTS 25 // point xi = 5 alpha + beta
// Output tiles per block: a block's transformed inputs and products stay in L2.
#define WINOGRAD_BLOCK 32

// Floats from one point to the next in a transformed operand of `size` floats per point. A
// transform writes or reads all 25 points at once, and with sizes of 4 KB multiples those 25
// streams would share one set of the 8-way L1 cache; one cache line of skew spreads them (it made
// the conv3 forward 2.4x faster).
static long winograd_stride(long size) { return size + 16; }

// Scratch bytes of one operand at the 25 points.
#define WINOGRAD_BYTES(size) (4 * (uintptr_t)WINOGRAD_POINTS * (uintptr_t)winograd_stride(size))

#define V_TWICE(x) wasm_f32x4_add(x, x)
#define V_TIMES(x, k) wasm_f32x4_mul(x, wasm_f32x4_splat(k))

// t = B^T d
static inline void winograd_input_1d(const v128_t d[5], v128_t t[5]) {
  const v128_t s = wasm_f32x4_sub(d[3], d[1]);
  t[0] = wasm_f32x4_add(V_TWICE(wasm_f32x4_sub(d[0], d[2])), s);
  t[1] = wasm_f32x4_sub(s, wasm_f32x4_add(d[1], d[2]));
  t[2] = wasm_f32x4_add(s, V_TIMES(wasm_f32x4_sub(d[1], d[2]), 3));
  t[3] = s;
  t[4] = wasm_f32x4_sub(wasm_f32x4_sub(d[4], d[2]), V_TWICE(s));
}

// y = A^T m
static inline void winograd_output_1d(const v128_t m[5], v128_t y[4]) {
  const v128_t p = wasm_f32x4_add(m[1], m[2]), q = wasm_f32x4_sub(m[1], m[2]);
  y[0] = wasm_f32x4_add(wasm_f32x4_add(m[0], p), m[3]);
  y[1] = wasm_f32x4_add(q, V_TWICE(m[3]));
  y[2] = wasm_f32x4_add(p, V_TIMES(m[3], 4));
  y[3] = wasm_f32x4_add(wasm_f32x4_add(q, V_TIMES(m[3], 8)), m[4]);
}

// u = A dy (a 4-long dy to the points, for the filter gradient)
static inline void winograd_gradient_1d(const v128_t d[4], v128_t u[5]) {
  const v128_t e = wasm_f32x4_add(d[0], d[2]), f = wasm_f32x4_add(d[1], d[3]);
  u[0] = d[0];
  u[1] = wasm_f32x4_add(e, f);
  u[2] = wasm_f32x4_sub(e, f);
  u[3] = wasm_f32x4_add(wasm_f32x4_add(d[0], V_TWICE(d[1])), wasm_f32x4_add(V_TIMES(d[2], 4), V_TIMES(d[3], 8)));
  u[4] = d[3];
}

// g = G^T m (the points back to 2 taps, for the filter gradient)
static inline void winograd_taps_1d(const v128_t m[5], v128_t g[2]) {
  const v128_t sixth = wasm_f32x4_splat(1.0f / 6);
  g[0] = wasm_f32x4_add(V_TIMES(wasm_f32x4_sub(m[0], m[1]), 0.5f), wasm_f32x4_mul(sixth, wasm_f32x4_sub(m[3], m[2])));
  g[1] = wasm_f32x4_add(wasm_f32x4_sub(m[4], V_TIMES(m[1], 0.5f)), wasm_f32x4_mul(sixth, wasm_f32x4_add(m[2], V_TWICE(m[3]))));
}

// g at the points, G g (for four filters at once).
static inline void winograd_filter_1d(v128_t g0, v128_t g1, v128_t out[5]) {
  const v128_t sixth = wasm_f32x4_splat(1.0f / 6);
  out[0] = V_TIMES(g0, 0.5f);
  out[1] = V_TIMES(wasm_f32x4_add(g0, g1), -0.5f);
  out[2] = wasm_f32x4_mul(sixth, wasm_f32x4_sub(g1, g0));
  out[3] = wasm_f32x4_mul(sixth, wasm_f32x4_add(g0, V_TWICE(g1)));
  out[4] = g1;
}

// out[point * xi] (four floats each): four 2 x 2 filters g at the 25 points, G g G^T.
static void winograd_filter_points(v128_t g00, v128_t g01, v128_t g10, v128_t g11, float *out, long point) {
  v128_t row0[5], row1[5];
  winograd_filter_1d(g00, g01, row0);
  winograd_filter_1d(g10, g11, row1);
  for (int beta = 0; beta < 5; beta++) {
    v128_t column[5];
    winograd_filter_1d(row0[beta], row1[beta], column);
    for (int alpha = 0; alpha < 5; alpha++) wasm_v128_store(out + (5 * alpha + beta) * point, column[alpha]);
  }
}

// out[point * xi + c] for c < channels (a multiple of 4): the 5 x 5 input tile whose element
// (i, j) starts at d + i row + j col, at the 25 points, B^T d B.
static void winograd_input_tile(const float *d, long row, long col, float *out, long point, int channels) {
  for (int c = 0; c < channels; c += 4, d += 4, out += 4) {
    v128_t rows[5][5];
    for (int i = 0; i < 5; i++) {
      v128_t line[5];
      for (int j = 0; j < 5; j++) line[j] = wasm_v128_load(d + i * row + j * col);
      winograd_input_1d(line, rows[i]);
    }
    for (int beta = 0; beta < 5; beta++) {
      v128_t line[5] = {rows[0][beta], rows[1][beta], rows[2][beta], rows[3][beta], rows[4][beta]}, points[5];
      winograd_input_1d(line, points);
      for (int alpha = 0; alpha < 5; alpha++) wasm_v128_store(out + (5 * alpha + beta) * point, points[alpha]);
    }
  }
}

// out[point * xi + c] for c < channels (a multiple of 4): scale times the 4 x 4 dy tile whose
// element (i, j) starts at d + i row + j col, at the 25 points, A dy A^T.
static void winograd_gradient_tile(const float *d, long row, long col, float *out, long point, int channels, float scale) {
  const v128_t scales = wasm_f32x4_splat(scale);
  for (int c = 0; c < channels; c += 4, d += 4, out += 4) {
    v128_t rows[4][5];
    for (int i = 0; i < 4; i++) {
      v128_t line[4];
      for (int j = 0; j < 4; j++) line[j] = wasm_f32x4_mul(scales, wasm_v128_load(d + i * row + j * col));
      winograd_gradient_1d(line, rows[i]);
    }
    for (int beta = 0; beta < 5; beta++) {
      v128_t line[4] = {rows[0][beta], rows[1][beta], rows[2][beta], rows[3][beta]}, points[5];
      winograd_gradient_1d(line, points);
      for (int alpha = 0; alpha < 5; alpha++) wasm_v128_store(out + (5 * alpha + beta) * point, points[alpha]);
    }
  }
}

// The 4 x 4 output tile whose element (i, j) starts at y + i row + j col, for c < channels (a
// multiple of 4), from the products at the 25 points, m[point * xi + c]: bias (zeros without
// one) plus scale times A^T m A, through a ReLU when relu.
static void winograd_output_tile(const float *m, long point, const float *bias, float scale, int relu, float *y, long row, long col,
                                 int channels) {
  const v128_t zero = wasm_f32x4_splat(0), scales = wasm_f32x4_splat(scale);
  for (int c = 0; c < channels; c += 4, m += 4, y += 4) {
    v128_t rows[5][4];
    for (int alpha = 0; alpha < 5; alpha++) {
      v128_t line[5];
      for (int beta = 0; beta < 5; beta++) line[beta] = wasm_v128_load(m + (5 * alpha + beta) * point);
      winograd_output_1d(line, rows[alpha]);
    }
    const v128_t b = bias ? wasm_v128_load(bias + c) : zero;
    for (int j = 0; j < 4; j++) {
      v128_t line[5] = {rows[0][j], rows[1][j], rows[2][j], rows[3][j], rows[4][j]}, column[4];
      winograd_output_1d(line, column);
      for (int i = 0; i < 4; i++) {
        const v128_t z = wasm_f32x4_add(b, wasm_f32x4_mul(scales, column[i]));
        wasm_v128_store(y + i * row + j * col, relu ? wasm_f32x4_max(z, zero) : z);
      }
    }
  }
}

// The 2 x 2 filter-gradient tile whose element (i, j) starts at g + i row + j col, for c <
// channels (a multiple of 4): scale times G^T m G from the summed products m[point * xi + c].
static void winograd_taps_tile(const float *m, long point, float scale, float *g, long row, long col, int channels) {
  const v128_t scales = wasm_f32x4_splat(scale);
  for (int c = 0; c < channels; c += 4, m += 4, g += 4) {
    v128_t rows[5][2];
    for (int alpha = 0; alpha < 5; alpha++) {
      v128_t line[5];
      for (int beta = 0; beta < 5; beta++) line[beta] = wasm_v128_load(m + (5 * alpha + beta) * point);
      winograd_taps_1d(line, rows[alpha]);
    }
    for (int j = 0; j < 2; j++) {
      v128_t line[5] = {rows[0][j], rows[1][j], rows[2][j], rows[3][j], rows[4][j]}, column[2];
      winograd_taps_1d(line, column);
      for (int i = 0; i < 2; i++) wasm_v128_store(g + i * row + j * col, wasm_f32x4_mul(scales, column[i]));
    }
  }
}

#endif
