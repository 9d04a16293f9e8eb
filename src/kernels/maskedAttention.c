// Multi-head attention with a key padding mask, forward and backward, wasm32 + SIMD128.
//
// Layout as the models hold it, tokens major: q [B][Tq][H * d], k and v [B][T][H * d], mask [B][T]
// (1 = attend, 0 = padding), out [B][Tq][H * d]; the queries carry the 1/sqrt(d) scale already.
// With mask_diagonal (self-attention, Tq = T), query i's score for key i gets -1e9 added, as the
// multi-head attention model's op chain adds -1e9 times the identity: a token cannot find itself.
// Per batch entry and head, over its n valid keys only (gathered, padded to a multiple of 4):
//   forward:  s = q k^T, p = softmax(s) over keys, out = p v
//   backward: p again from q and k (never stored: the [Tq, n] maps stay in this kernel's
//             scratch), dp = dout v^T, ds = p (dp - rowsum(dp * p)), dq = ds k, dk = ds^T q,
//             dv = p^T dout.
// Every product is product.h's register-blocked loop. A padded key gets probability exactly 0,
// as exp(-1e9 - max) is in float32 in the op chain; a data set with no valid key attends
// uniformly to all keys, as the op chain's equal scores do.
#include <wasm_simd128.h>
#include "product.h"

// exp(x) for x <= 0 (scores minus their maximum), 4 lanes: x = n ln2 + r, |r| <= ln2 / 2,
// exp(r) by its degree-6 Taylor polynomial (relative error below 2e-7), 2^n through the exponent
// bits. Below -87 the result is 0.
static v128_t exp_nonpositive(v128_t x) {
  const v128_t lowest = wasm_f32x4_splat(-87.0f);
  const v128_t underflow = wasm_f32x4_lt(x, lowest);
  x = wasm_f32x4_max(x, lowest);
  const v128_t n = wasm_f32x4_nearest(wasm_f32x4_mul(x, wasm_f32x4_splat(1.44269504088896341f)));
  // r = x - n ln2, with ln2 split in two for accuracy.
  v128_t r = wasm_f32x4_sub(x, wasm_f32x4_mul(n, wasm_f32x4_splat(0.693359375f)));
  r = wasm_f32x4_sub(r, wasm_f32x4_mul(n, wasm_f32x4_splat(-2.12194440e-4f)));
  v128_t poly = wasm_f32x4_splat(1.0f / 720);
  poly = wasm_f32x4_add(wasm_f32x4_mul(poly, r), wasm_f32x4_splat(1.0f / 120));
  poly = wasm_f32x4_add(wasm_f32x4_mul(poly, r), wasm_f32x4_splat(1.0f / 24));
  poly = wasm_f32x4_add(wasm_f32x4_mul(poly, r), wasm_f32x4_splat(1.0f / 6));
  poly = wasm_f32x4_add(wasm_f32x4_mul(poly, r), wasm_f32x4_splat(0.5f));
  poly = wasm_f32x4_add(wasm_f32x4_mul(poly, r), wasm_f32x4_splat(1.0f));
  poly = wasm_f32x4_add(wasm_f32x4_mul(poly, r), wasm_f32x4_splat(1.0f));
  const v128_t scale = wasm_i32x4_shl(wasm_i32x4_add(wasm_i32x4_trunc_sat_f32x4(n), wasm_i32x4_splat(127)), 23);
  return wasm_v128_andnot(wasm_f32x4_mul(poly, scale), underflow);
}

static float lane_sum(v128_t v) {
  return wasm_f32x4_extract_lane(v, 0) + wasm_f32x4_extract_lane(v, 1) + wasm_f32x4_extract_lane(v, 2) + wasm_f32x4_extract_lane(v, 3);
}

// One head of one batch entry, gathered into scratch. Rows of the [tq][width] maps are `width`
// floats: the n valid keys, then zeros up to a multiple of 4.
struct Head {
  int tq, n, width, d;
  int uniform;                   // no valid key: all scores are taken as equal
  float *q, *k, *kt, *v, *vt;    // q [tq][d], k and v [width][d], kt and vt [d][width]
  float *s, *ds;                 // maps [tq][width]
  float *go;                     // dout of this head [tq][d] (backward)
  float *gk, *gv;                // dk and dv of this head [width][d] (backward)
  int *keys;                     // indices of the valid keys
};

// Floats of scratch the kernels need (the key indices included).
__attribute__((export_name("attention_scratch")))
int attention_scratch(int tq, int t, int d) {
  const int width = (t + 3) & ~3;
  return 2 * tq * d + 6 * width * d + 2 * tq * width + t + 16;
}

static void carve(struct Head *h, float *scratch, int tq, int t, int d) {
  const int width = (t + 3) & ~3;
  h->d = d;
  h->q = scratch;
  h->go = h->q + tq * d;
  h->k = h->go + tq * d;
  h->kt = h->k + width * d;
  h->v = h->kt + width * d;
  h->vt = h->v + width * d;
  h->gk = h->vt + width * d;
  h->gv = h->gk + width * d;
  h->s = h->gv + width * d;
  h->ds = h->s + tq * width;
  h->keys = (int *)(h->ds + tq * width);
}

// Copies head `head` of batch entry `b` in: its valid keys (all keys when none is valid).
static void gather(struct Head *h, const float *q, const float *k, const float *v, const float *mask,
                   int b, int head, int tq, int t, int heads) {
  const int d = h->d, stride = heads * d;
  int n = 0;
  for (int j = 0; j < t; j++)
    if (mask[(long)b * t + j] != 0) h->keys[n++] = j;
  h->uniform = n == 0;
  if (n == 0)
    for (; n < t; n++) h->keys[n] = n;
  h->tq = tq;
  h->n = n;
  h->width = (n + 3) & ~3;
  for (int i = 0; i < tq; i++)
    for (int c = 0; c < d; c++) h->q[i * d + c] = q[((long)b * tq + i) * stride + head * d + c];
  for (int j = 0; j < h->width; j++)
    for (int c = 0; c < d; c++) {
      const long at = ((long)b * t + h->keys[j < n ? j : 0]) * stride + head * d + c;
      const float key = j < n ? k[at] : 0, value = j < n ? v[at] : 0;
      h->k[j * d + c] = h->kt[c * h->width + j] = key;
      h->v[j * d + c] = h->vt[c * h->width + j] = value;
    }
}

// s = softmax of q k^T over the valid keys, row by row (padding columns 0).
static void probabilities(struct Head *h, int mask_diagonal) {
  const int width = h->width;
  if (h->uniform) {
    for (int e = 0; e < h->tq * width; e++) h->s[e] = 0;
  } else {
    product(h->q, h->d, 1, h->kt, h->s, h->tq, width, h->d);
  }
  if (mask_diagonal)
    for (int j = 0; j < h->n; j++)
      if (h->keys[j] < h->tq) h->s[h->keys[j] * width + j] += -1e9f;
  for (int i = 0; i < h->tq; i++) {
    float *row = h->s + i * width;
    float max = row[0];
    for (int j = 1; j < h->n; j++) max = row[j] > max ? row[j] : max;
    for (int j = h->n; j < width; j++) row[j] = -__builtin_inff(); // padding: exp gives exactly 0
    const v128_t shift = wasm_f32x4_splat(max);
    v128_t total = wasm_f32x4_splat(0);
    for (int j = 0; j < width; j += 4) {
      const v128_t e = exp_nonpositive(wasm_f32x4_sub(wasm_v128_load(row + j), shift));
      wasm_v128_store(row + j, e);
      total = wasm_f32x4_add(total, e);
    }
    const float sum = lane_sum(total);
    const v128_t inverse = wasm_f32x4_splat(1 / sum);
    for (int j = 0; j < width; j += 4) wasm_v128_store(row + j, wasm_f32x4_mul(wasm_v128_load(row + j), inverse));
  }
}

__attribute__((export_name("attention_forward")))
void attention_forward(const float *q, const float *k, const float *v, const float *mask, float *out,
                       float *scratch, int batch, int tq, int t, int heads, int d, int mask_diagonal) {
  struct Head h;
  carve(&h, scratch, tq, t, d);
  const int stride = heads * d;
  float *o = h.go; // the head's output, [tq][d]
  for (int b = 0; b < batch; b++)
    for (int head = 0; head < heads; head++) {
      gather(&h, q, k, v, mask, b, head, tq, t, heads);
      probabilities(&h, mask_diagonal);
      product(h.s, h.width, 1, h.v, o, tq, d, h.width);
      for (int i = 0; i < tq; i++)
        for (int c = 0; c < d; c++) out[((long)b * tq + i) * stride + head * d + c] = o[i * d + c];
    }
}

__attribute__((export_name("attention_backward")))
void attention_backward(const float *q, const float *k, const float *v, const float *mask, const float *dout,
                        float *dq, float *dk, float *dv, float *scratch, int batch, int tq, int t, int heads, int d,
                        int mask_diagonal) {
  struct Head h;
  carve(&h, scratch, tq, t, d);
  const int stride = heads * d;
  for (long e = 0, total = (long)batch * t * stride; e < total; e++) dk[e] = dv[e] = 0;
  float *dq_head = h.q; // written over q's scratch after q's last use (dk = ds^T q)
  for (int b = 0; b < batch; b++)
    for (int head = 0; head < heads; head++) {
      gather(&h, q, k, v, mask, b, head, tq, t, heads);
      for (int i = 0; i < tq; i++)
        for (int c = 0; c < d; c++) h.go[i * d + c] = dout[((long)b * tq + i) * stride + head * d + c];
      probabilities(&h, mask_diagonal);
      const int width = h.width;
      // dp = dout v^T, then ds = p (dp - rowsum(dp * p)) in place.
      product(h.go, d, 1, h.vt, h.ds, tq, width, d);
      for (int i = 0; i < tq; i++) {
        const float *p = h.s + i * width;
        float *row = h.ds + i * width;
        v128_t weighted = wasm_f32x4_splat(0);
        for (int j = 0; j < width; j += 4) weighted = wasm_f32x4_add(weighted, wasm_f32x4_mul(wasm_v128_load(row + j), wasm_v128_load(p + j)));
        const v128_t delta = wasm_f32x4_splat(lane_sum(weighted));
        for (int j = 0; j < width; j += 4) wasm_v128_store(row + j, wasm_f32x4_mul(wasm_v128_load(p + j), wasm_f32x4_sub(wasm_v128_load(row + j), delta)));
      }
      // dk = ds^T q and dv = p^T dout (both maps read transposed), then dq = ds k over q's scratch.
      product(h.ds, 1, width, h.q, h.gk, width, d, tq);
      product(h.s, 1, width, h.go, h.gv, width, d, tq);
      product(h.ds, width, 1, h.k, dq_head, tq, d, width);
      for (int i = 0; i < tq; i++)
        for (int c = 0; c < d; c++) dq[((long)b * tq + i) * stride + head * d + c] = dq_head[i * d + c];
      for (int j = 0; j < h.n; j++)
        for (int c = 0; c < d; c++) {
          const long at = ((long)b * t + h.keys[j]) * stride + head * d + c;
          dk[at] = h.gk[j * d + c];
          dv[at] = h.gv[j * d + c];
        }
    }
}
