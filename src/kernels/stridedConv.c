// The relational encoder's convolution and its gradients: 4x4 kernel, stride 2, padding 1, NHWC,
// filter w[4][4][C][O], x [N][H][W][C] -> y [N][H/2][W/2][O], wasm32 + SIMD128.
//
// tfjs's wasm backend has no kernel for the gradients; written as stride-1 convolutions they
// cost 4x the multiply-adds (zero-inserted dy) plus pads, transposes and reverses; its forward
// (XNNPACK) runs at about half our products' rate. Here each is one "gathered" matrix product,
// C = A B, where A is read through two offset tables, a(i, p) = src[a_row[i] + a_col[p]], so no
// im2col matrix is ever written:
//   forward:         y[pixel][o] = bias[o] + sum over (tap, c) of x_padded[pixel's window + tap][c] w[tap][c][o],
//                    then the ReLU
//   input gradient:  for each of the 4 parities of (y, x), a pixel receives exactly 2x2 taps:
//                    dx[pixel][c] = sum over (tap, o) of dy_padded[pixel's tap position][o] w[tap][c][o]
//   filter gradient: dw[tap][c][o] = sum over positions p of x_padded[p's tap window][c] dy[p][o]
// All read a zero-padded copy of their gathered operand, which removes all bounds checks. All
// three run as Winograd F(4x4, 2x2) instead (winograd.h, below) where the shapes allow, which the
// relational encoder's conv2 and conv3 do: 25 multiplies for every 64.
#include <wasm_simd128.h>
#include <stdint.h>
#include "product.h"
#include "underflow.h"
#include "winograd.h"

#define ACC(s, x, b) s = wasm_f32x4_add(s, wasm_f32x4_mul(x, b))

// How gathered_product writes a result: added to C, or over it after adding the bias (zeros
// without one), then through a ReLU with SET_RELU. Writing over C saves a pass that fills it first.
enum store { ADD, SET, SET_RELU };

// One result of gathered_product, from scale times its sum and C's old value.
static float finish(float scaled, float old, const float *bias, int j, enum store store) {
  const float v = store == ADD ? old + scaled : bias ? bias[j] + scaled : scaled;
  return store == SET_RELU && v < 0 ? 0 : v;
}

// Four results of gathered_product at c, columns j to j + 3.
#define STORE(c, j, s)                                                                                    \
  do {                                                                                                    \
    v128_t v = wasm_f32x4_mul(scales, s);                                                                 \
    if (store == ADD) v = wasm_f32x4_add(wasm_v128_load(c), v);                                           \
    else if (bias) v = wasm_f32x4_add(wasm_v128_load(bias + (j)), v);                                     \
    wasm_v128_store(c, store == SET_RELU ? wasm_f32x4_max(v, wasm_f32x4_splat(0)) : v);                   \
  } while (0)

// C[c_row[i] + j] = store(scale * sum_p src[a_row[i] + a_col[p]] * b[p * n + j]) for i < m, j < n,
// p < k, with store as above.
static void gathered_product(const float *src, const int *a_row, const int *a_col, const float *b, float *c,
                             const int *c_row, int m, int n, int k, enum store store, const float *bias, float scale) {
  const v128_t scales = wasm_f32x4_splat(scale);
  int i = 0;
  for (; i + 4 <= m; i += 4) {
    const float *a0 = src + a_row[i], *a1 = src + a_row[i + 1], *a2 = src + a_row[i + 2], *a3 = src + a_row[i + 3];
    float *c0 = c + c_row[i], *c1 = c + c_row[i + 1], *c2 = c + c_row[i + 2], *c3 = c + c_row[i + 3];
    int j = 0;
    for (; j + 8 <= n; j += 8) {
      v128_t s00 = wasm_f32x4_splat(0), s01 = s00, s10 = s00, s11 = s00, s20 = s00, s21 = s00, s30 = s00, s31 = s00;
      const float *bp = b + j;
      for (int p = 0; p < k; p++, bp += n) {
        const int q = a_col[p];
        v128_t b0 = wasm_v128_load(bp), b1 = wasm_v128_load(bp + 4);
        v128_t x0 = wasm_f32x4_splat(a0[q]), x1 = wasm_f32x4_splat(a1[q]);
        v128_t x2 = wasm_f32x4_splat(a2[q]), x3 = wasm_f32x4_splat(a3[q]);
        ACC(s00, x0, b0); ACC(s01, x0, b1); ACC(s10, x1, b0); ACC(s11, x1, b1);
        ACC(s20, x2, b0); ACC(s21, x2, b1); ACC(s30, x3, b0); ACC(s31, x3, b1);
      }
      STORE(c0 + j, j, s00); STORE(c0 + j + 4, j + 4, s01); STORE(c1 + j, j, s10); STORE(c1 + j + 4, j + 4, s11);
      STORE(c2 + j, j, s20); STORE(c2 + j + 4, j + 4, s21); STORE(c3 + j, j, s30); STORE(c3 + j + 4, j + 4, s31);
    }
    for (; j < n; j++) {
      float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      for (int p = 0; p < k; p++) {
        const int q = a_col[p];
        const float x = b[p * n + j];
        s0 += a0[q] * x; s1 += a1[q] * x; s2 += a2[q] * x; s3 += a3[q] * x;
      }
      c0[j] = finish(scale * s0, c0[j], bias, j, store); c1[j] = finish(scale * s1, c1[j], bias, j, store);
      c2[j] = finish(scale * s2, c2[j], bias, j, store); c3[j] = finish(scale * s3, c3[j], bias, j, store);
    }
  }
  for (; i < m; i++) {
    const float *a = src + a_row[i];
    float *cr = c + c_row[i];
    int j = 0;
    for (; j + 4 <= n; j += 4) {
      v128_t s = wasm_f32x4_splat(0);
      for (int p = 0; p < k; p++) ACC(s, wasm_f32x4_splat(a[a_col[p]]), wasm_v128_load(b + p * n + j));
      STORE(cr + j, j, s);
    }
    for (; j < n; j++) {
      float s = 0;
      for (int p = 0; p < k; p++) s += a[a_col[p]] * b[p * n + j];
      cr[j] = finish(scale * s, cr[j], bias, j, store);
    }
  }
}

// dst [n][h + 2][w + 2][ch] = scale * src [n][h][w][ch] with a border of zeros.
static void pad_one(const float *src, float *dst, int n, int h, int w, int ch, float scale) {
  const int row = (w + 2) * ch;
  for (long e = 0, total = (long)n * (h + 2) * row; e < total; e++) dst[e] = 0;
  for (int b = 0; b < n; b++)
    for (int y = 0; y < h; y++) {
      const float *s = src + ((long)(b * h + y) * w) * ch;
      float *d = dst + ((long)(b * (h + 2) + y + 1) * (w + 2) + 1) * ch;
      for (int e = 0; e < w * ch; e++) d[e] = scale * s[e];
    }
}

static uintptr_t align16(uintptr_t bytes) { return (bytes + 15) & ~(uintptr_t)15; }

// w[ky][kx][c][q]
static float tap(const float *w, int ky, int kx, int c, int q, int ch, int o) { return w[((ky * 4 + kx) * ch + c) * o + q]; }

// w[ky][kx][c][q .. q + 3]
static v128_t taps_out(const float *w, int ky, int kx, int c, int q, int ch, int o) { return wasm_v128_load(w + ((ky * 4 + kx) * ch + c) * o + q); }

// w[ky][kx][c .. c + 3][q]
static v128_t taps_in(const float *w, int ky, int kx, int c, int q, int ch, int o) {
  return wasm_f32x4_make(tap(w, ky, kx, c, q, ch, o), tap(w, ky, kx, c + 1, q, ch, o), tap(w, ky, kx, c + 2, q, ch, o), tap(w, ky, kx, c + 3, q, ch, o));
}

// Tile `tile` of n images of th x tw tiles: its image b and position (ti, tj).
#define DECODE_TILE(tile, th, tw) const int b = (tile) / ((th) * (tw)), ti = (tile) % ((th) * (tw)) / (tw), tj = (tile) % (tw)

// The Winograd forward and input gradient work in blocks of tiles (winograd.h) and need these
// scratch bytes for products of [tiles][k] by [k][n]: the filters at the points, and a block's
// transformed inputs and products.
static uintptr_t winograd_scratch(int k, int n) {
  return align16(WINOGRAD_BYTES((long)k * n)) + align16(WINOGRAD_BYTES((long)WINOGRAD_BLOCK * k)) + align16(WINOGRAD_BYTES((long)WINOGRAD_BLOCK * n));
}

// The input gradient as Winograd (winograd.h), for dy sides in whole 4 x 4 tiles and channels in
// vectors of 4.
// Parity p = (py, px) of dx is a 2 x 2, stride-1 correlation of dy_pad shifted by (py, px) with
// the flipped sub-filter G_p[r][s][q][c] = w[3 - py - 2r][3 - px - 2s][c][q]:
//   dx[2a + py][2b + px][c] = sum over r, s, q of dy_pad[a + py + r][b + px + s][q] G_p[r][s][q][c].
static int input_gradient_fits(int oh, int ow, int ch, int o) { return oh % 4 == 0 && ow % 4 == 0 && ch % 4 == 0 && o % 4 == 0; }

static void winograd_input_gradient(const float *dy_pad, const float *w, float *dx, float scale, unsigned char *scratch, int n, int oh, int ow,
                                    int ch, int o) {
  const int th = oh / 4, tw = ow / 4, tiles = n * th * tw, pw = ow + 2, wd = 2 * ow;
  const long us = winograd_stride((long)o * ch), vs = winograd_stride((long)WINOGRAD_BLOCK * o), ms = winograd_stride((long)WINOGRAD_BLOCK * ch);
  float *u = (float *)scratch;
  float *v = (float *)(scratch + align16(WINOGRAD_BYTES((long)o * ch)));
  float *m = (float *)((unsigned char *)v + align16(WINOGRAD_BYTES((long)WINOGRAD_BLOCK * o)));
  for (int p = 0; p < 4; p++) {
    const int py = p >> 1, px = p & 1;
    for (int q = 0; q < o; q++)
      for (int c = 0; c < ch; c += 4)
        winograd_filter_points(taps_in(w, 3 - py, 3 - px, c, q, ch, o), taps_in(w, 3 - py, 1 - px, c, q, ch, o), taps_in(w, 1 - py, 3 - px, c, q, ch, o),
                               taps_in(w, 1 - py, 1 - px, c, q, ch, o), u + q * ch + c, us);
    for (int first = 0; first < tiles; first += WINOGRAD_BLOCK) {
      const int count = tiles - first < WINOGRAD_BLOCK ? tiles - first : WINOGRAD_BLOCK;
      for (int t = 0; t < count; t++) {
        DECODE_TILE(first + t, th, tw);
        winograd_input_tile(dy_pad + ((long)(b * (oh + 2) + 4 * ti + py) * pw + 4 * tj + px) * o, (long)pw * o, o, v + (long)t * o, vs, o);
      }
      for (int xi = 0; xi < WINOGRAD_POINTS; xi++) product(v + xi * vs, o, 1, u + xi * us, m + xi * ms, count, ch, o);
      for (int t = 0; t < count; t++) {
        DECODE_TILE(first + t, th, tw);
        float *corner = dx + ((long)(b * 2 * oh + 8 * ti + py) * wd + 8 * tj + px) * ch;
        winograd_output_tile(m + (long)t * ch, ms, 0, 1 / scale, 0, corner, 2L * wd * ch, 2L * ch, ch);
      }
    }
  }
}

// The forward as Winograd, for output sides in whole 4 x 4 tiles and channels in vectors of 4.
// A 4 x 4, stride-2 convolution of x_pad is a 2 x 2, stride-1 one of its four phases side by
// side as channels, Q[u][v][(p, c)] = x_pad[2u + py][2v + px][c] for p = (py, px), with the
// sub-filters G[ty][tx][(p, c)][o] = w[2 ty + py][2 tx + px][c][o].
static int forward_fits(int h, int w, int ch, int o) { return h % 8 == 0 && w % 8 == 0 && ch % 4 == 0 && o % 4 == 0; }

// out[point * xi + p ch + c]: the 5 x 5 input tiles of the four phases p of x_pad [n][h + 2][pw][ch]
// under output tile `tile` of n images of th x tw tiles, at the points.
static void phase_tiles(const float *x_pad, int tile, int th, int tw, int h, int pw, int ch, float *out, long point) {
  DECODE_TILE(tile, th, tw);
  for (int p = 0; p < 4; p++) {
    const float *corner = x_pad + ((long)(b * (h + 2) + 8 * ti + (p >> 1)) * pw + 8 * tj + (p & 1)) * ch;
    winograd_input_tile(corner, 2L * pw * ch, 2L * ch, out + p * ch, point, ch);
  }
}

static void winograd_forward(const float *x_pad, const float *w, const float *bias, float *y, unsigned char *scratch, int n, int h, int wd, int ch,
                             int o, int relu) {
  const int oh = h / 2, ow = wd / 2, th = oh / 4, tw = ow / 4, tiles = n * th * tw, k = 4 * ch, pw = wd + 2;
  const long us = winograd_stride((long)k * o), vs = winograd_stride((long)WINOGRAD_BLOCK * k), ms = winograd_stride((long)WINOGRAD_BLOCK * o);
  float *u = (float *)scratch;
  float *v = (float *)(scratch + align16(WINOGRAD_BYTES((long)k * o)));
  float *m = (float *)((unsigned char *)v + align16(WINOGRAD_BYTES((long)WINOGRAD_BLOCK * k)));
  for (int p = 0; p < 4; p++) {
    const int py = p >> 1, px = p & 1;
    for (int c = 0; c < ch; c++)
      for (int q = 0; q < o; q += 4)
        winograd_filter_points(taps_out(w, py, px, c, q, ch, o), taps_out(w, py, px + 2, c, q, ch, o), taps_out(w, py + 2, px, c, q, ch, o),
                               taps_out(w, py + 2, px + 2, c, q, ch, o), u + (p * ch + c) * o + q, us);
  }
  for (int first = 0; first < tiles; first += WINOGRAD_BLOCK) {
    const int count = tiles - first < WINOGRAD_BLOCK ? tiles - first : WINOGRAD_BLOCK;
    for (int t = 0; t < count; t++) phase_tiles(x_pad, first + t, th, tw, h, pw, ch, v + (long)t * k, vs);
    for (int xi = 0; xi < WINOGRAD_POINTS; xi++) product(v + xi * vs, k, 1, u + xi * us, m + xi * ms, count, o, k);
    for (int t = 0; t < count; t++) {
      DECODE_TILE(first + t, th, tw);
      winograd_output_tile(m + (long)t * o, ms, bias, 1, relu, y + ((long)(b * oh + 4 * ti) * ow + 4 * tj) * o, (long)ow * o, o, o);
    }
  }
}

// Scratch bytes input_gradient needs for dy [n][oh][ow][o] and dx channels ch.
__attribute__((export_name("input_gradient_scratch")))
uintptr_t input_gradient_scratch(int n, int oh, int ow, int ch, int o) {
  const uintptr_t padded = align16(4 * (uintptr_t)n * (oh + 2) * (ow + 2) * o);
  if (input_gradient_fits(oh, ow, ch, o)) return padded + winograd_scratch(o, ch);
  const uintptr_t pixels = (uintptr_t)n * oh * ow; // of each parity
  return padded + align16(4 * 16 * (uintptr_t)ch * o) + 2 * align16(4 * pixels) + align16(4 * 4 * (uintptr_t)o);
}

// dx [n][2 oh][2 ow][ch] from dy [n][oh][ow][o] and w [4][4][ch][o].
__attribute__((export_name("input_gradient")))
void input_gradient(const float *dy, const float *w, float *dx, unsigned char *scratch, int n, int oh, int ow, int ch, int o) {
  const int h = 2 * oh, wd = 2 * ow, pw = ow + 2;
  float *dy_pad = (float *)scratch;
  unsigned char *rest = scratch + align16(4 * (uintptr_t)n * (oh + 2) * pw * o);
  const float scale = underflow_scale(dy, (long)n * oh * ow * o);
  pad_one(dy, dy_pad, n, oh, ow, o, scale);
  if (input_gradient_fits(oh, ow, ch, o)) return winograd_input_gradient(dy_pad, w, dx, scale, rest, n, oh, ow, ch, o);
  float *packed = (float *)rest;
  int *a_row = (int *)((unsigned char *)packed + align16(4 * 16 * (uintptr_t)ch * o));
  int *c_row = (int *)((unsigned char *)a_row + align16(4 * (uintptr_t)n * oh * ow));
  int *a_col = (int *)((unsigned char *)c_row + align16(4 * (uintptr_t)n * oh * ow));
  for (int py = 0; py < 2; py++)
    for (int px = 0; px < 2; px++) {
      // Taps of this parity: ky = 1 - py + 2 ty reaches dy row a + (py + 1 - ky) / 2 = a + py - ty.
      for (int ty = 0; ty < 2; ty++)
        for (int tx = 0; tx < 2; tx++) {
          const int ky = 1 - py + 2 * ty, kx = 1 - px + 2 * tx, t = ty * 2 + tx;
          for (int q = 0; q < o; q++) {
            a_col[t * o + q] = ((py - ty) * pw + (px - tx)) * o + q;
            for (int c = 0; c < ch; c++) packed[(t * o + q) * ch + c] = w[((ky * 4 + kx) * ch + c) * o + q];
          }
        }
      int m = 0;
      for (int b = 0; b < n; b++)
        for (int a = 0; a < oh; a++)
          for (int bx = 0; bx < ow; bx++, m++) {
            a_row[m] = ((b * (oh + 2) + a + 1) * pw + bx + 1) * o;
            c_row[m] = ((b * h + 2 * a + py) * wd + 2 * bx + px) * ch;
          }
      gathered_product(dy_pad, a_row, a_col, packed, dx, c_row, m, ch, 4 * o, SET, 0, 1 / scale); // each pixel has one parity
    }
}

// Scratch bytes forward needs for x [n][h][w][ch] and o output channels.
__attribute__((export_name("forward_scratch")))
uintptr_t forward_scratch(int n, int h, int w, int ch, int o) {
  const uintptr_t padded = align16(4 * (uintptr_t)n * (h + 2) * (w + 2) * ch);
  if (forward_fits(h, w, ch, o)) return padded + winograd_scratch(4 * ch, o);
  const uintptr_t pixels = (uintptr_t)n * (h / 2) * (w / 2);
  return padded + 2 * align16(4 * pixels) + align16(4 * 16 * (uintptr_t)ch);
}

// y [n][h/2][w/2][o] = conv(x, w) + bias, then max(y, 0) when relu. Winograd where it fits; else
// one gathered product whose B is w as it is, [16 ch][o] row-major.
__attribute__((export_name("forward")))
void forward(const float *x, const float *w, const float *bias, float *y, unsigned char *scratch, int n, int h, int wd, int ch, int o,
             int relu) {
  const int oh = h / 2, ow = wd / 2, pw = wd + 2, m = n * oh * ow;
  float *x_pad = (float *)scratch;
  unsigned char *rest = scratch + align16(4 * (uintptr_t)n * (h + 2) * pw * ch);
  pad_one(x, x_pad, n, h, wd, ch, 1);
  if (forward_fits(h, wd, ch, o)) return winograd_forward(x_pad, w, bias, y, rest, n, h, wd, ch, o, relu);
  int *a_row = (int *)rest;
  int *c_row = (int *)((unsigned char *)a_row + align16(4 * (uintptr_t)m));
  int *a_col = (int *)((unsigned char *)c_row + align16(4 * (uintptr_t)m));
  for (int ky = 0; ky < 4; ky++)
    for (int kx = 0; kx < 4; kx++)
      for (int c = 0; c < ch; c++) a_col[(ky * 4 + kx) * ch + c] = (ky * pw + kx) * ch + c;
  for (int i = 0; i < m; i++) {
    const int b = i / (oh * ow), yx = i % (oh * ow);
    a_row[i] = ((b * (h + 2) + 2 * (yx / ow)) * pw + 2 * (yx % ow)) * ch; // the window's corner, padded coordinates
    c_row[i] = i * o;
  }
  gathered_product(x_pad, a_row, a_col, w, y, c_row, m, o, 16 * ch, relu ? SET_RELU : SET, bias, 1);
}

// The filter gradient as Winograd, where the forward is: with the forward's Q and G, each 4 x 4
// tile of dy adds to dG[ty][tx] = sum over (i, j) in the tile of Q[i + ty][j + tx] dy[i][j], which
// is G^T ((B^T Q_tile B) . (A dy_tile A^T)) G (winograd.h). Summed over tiles at each point, that
// is a product of the transformed inputs, transposed ([4 ch][tiles]), by the transformed dy tiles
// ([tiles][o]); dG is the sum through G^T . G.
#define FILTER_TILE_BLOCK 64

static uintptr_t winograd_filter_gradient_scratch(int ch, int o) {
  const uintptr_t k = 4 * (uintptr_t)ch;
  return align16(WINOGRAD_BYTES(k * o)) + align16(WINOGRAD_BYTES(FILTER_TILE_BLOCK * k)) + align16(WINOGRAD_BYTES((long)FILTER_TILE_BLOCK * o));
}

static void winograd_filter_gradient(const float *x_pad, const float *dy, float *dw, unsigned char *scratch, int n, int h, int wd, int ch, int o) {
  const int oh = h / 2, ow = wd / 2, th = oh / 4, tw = ow / 4, tiles = n * th * tw, k = 4 * ch, pw = wd + 2;
  const long ss = winograd_stride((long)k * o), vs = winograd_stride((long)FILTER_TILE_BLOCK * k), us = winograd_stride((long)FILTER_TILE_BLOCK * o);
  const long sum_size = WINOGRAD_POINTS * ss;
  float *sums = (float *)scratch; // [points][k][o], over all tiles
  float *v = (float *)(scratch + align16(4 * sum_size));
  float *u = (float *)((unsigned char *)v + align16(WINOGRAD_BYTES((long)FILTER_TILE_BLOCK * k)));
  const float scale = underflow_scale(dy, (long)n * oh * ow * o);
  for (int first = 0; first < tiles; first += FILTER_TILE_BLOCK) {
    const int count = tiles - first < FILTER_TILE_BLOCK ? tiles - first : FILTER_TILE_BLOCK;
    for (int t = 0; t < count; t++) {
      DECODE_TILE(first + t, th, tw);
      phase_tiles(x_pad, first + t, th, tw, h, pw, ch, v + (long)t * k, vs);
      winograd_gradient_tile(dy + ((long)(b * oh + 4 * ti) * ow + 4 * tj) * o, (long)ow * o, o, u + (long)t * o, us, o, scale);
    }
    for (int xi = 0; xi < WINOGRAD_POINTS; xi++) (first == 0 ? product : product_add)(v + xi * vs, 1, k, u + xi * us, sums + xi * ss, k, o, count);
  }
  // Point xi of (p, c) and o to dw[2 ty + py][2 tx + px][c][o].
  for (int p = 0; p < 4; p++)
    for (int c = 0; c < ch; c++) {
      float *tap00 = dw + ((long)((p >> 1) * 4 + (p & 1)) * ch + c) * o;
      winograd_taps_tile(sums + (long)(p * ch + c) * o, ss, 1 / scale, tap00, 8L * ch * o, 2L * ch * o, o);
    }
}

// Positions per block of the filter gradient: its slices of dy and x stay in cache.
#define FILTER_BLOCK 256

// Scratch bytes filter_gradient needs for x [n][h][w][ch] and o output channels.
__attribute__((export_name("filter_gradient_scratch")))
uintptr_t filter_gradient_scratch(int n, int h, int w, int ch, int o) {
  if (forward_fits(h, w, ch, o)) return align16(4 * (uintptr_t)n * (h + 2) * (w + 2) * ch) + winograd_filter_gradient_scratch(ch, o);
  return align16(4 * (uintptr_t)n * (h + 2) * (w + 2) * ch) + 2 * align16(4 * 16 * (uintptr_t)ch) + align16(4 * FILTER_BLOCK) +
         align16(4 * FILTER_BLOCK * (uintptr_t)o);
}

// dw [4][4][ch][o] from x [n][h][w][ch] and dy [n][h/2][w/2][o].
__attribute__((export_name("filter_gradient")))
void filter_gradient(const float *x, const float *dy, float *dw, unsigned char *scratch, int n, int h, int w, int ch, int o) {
  const int oh = h / 2, ow = w / 2, pw = w + 2, m = 16 * ch;
  float *x_pad = (float *)scratch;
  unsigned char *rest = scratch + align16(4 * (uintptr_t)n * (h + 2) * pw * ch);
  pad_one(x, x_pad, n, h, w, ch, 1);
  if (forward_fits(h, w, ch, o)) return winograd_filter_gradient(x_pad, dy, dw, rest, n, h, w, ch, o);
  int *a_row = (int *)rest;
  int *c_row = (int *)((unsigned char *)a_row + align16(4 * (uintptr_t)m));
  int *a_col = (int *)((unsigned char *)c_row + align16(4 * (uintptr_t)m));
  float *dy_block = (float *)((unsigned char *)a_col + align16(4 * FILTER_BLOCK)); // scaled against underflow
  for (int e = 0; e < m * o; e++) dw[e] = 0;
  for (int ky = 0; ky < 4; ky++)
    for (int kx = 0; kx < 4; kx++)
      for (int c = 0; c < ch; c++) {
        const int i = (ky * 4 + kx) * ch + c;
        a_row[i] = (ky * pw + kx) * ch + c;
        c_row[i] = i * o;
      }
  const int positions = n * oh * ow;
  for (int start = 0; start < positions; start += FILTER_BLOCK) {
    const int k = positions - start < FILTER_BLOCK ? positions - start : FILTER_BLOCK;
    for (int p = 0; p < k; p++) {
      const int at = start + p, b = at / (oh * ow), yx = at % (oh * ow);
      a_col[p] = ((b * (h + 2) + 2 * (yx / ow)) * pw + 2 * (yx % ow)) * ch;
    }
    // Each block's sums are added to dw unscaled, so each block may have its own scale.
    const float *dy_start = dy + (long)start * o, scale = underflow_scale(dy_start, (long)k * o);
    if (scale != 1)
      for (int e = 0; e < k * o; e++) dy_block[e] = scale * dy_start[e];
    gathered_product(x_pad, a_row, a_col, scale != 1 ? dy_block : dy_start, dw, c_row, m, o, k, ADD, 0, 1 / scale);
  }
}
