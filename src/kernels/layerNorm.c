// Layer normalisation over the last axis, forward and backward, wasm32 + SIMD128, for rows of
// `dim` floats (PyTorch's definition: biased variance, eps inside the square root):
//   forward:  xh = (x - mean) / sqrt(var + eps), y = xh * gain + bias
//   backward: from x, gain and dy (mean and variance recomputed: a row is a few cache lines),
//             dbias = sum over rows of dy, dgain = sum of dy * xh,
//             dx = (g - mean(g) - xh * mean(g * xh)) / sqrt(var + eps), g = dy * gain.
// As tfjs ops that is a dozen kernels each way, each a pass over the activations.
#include <wasm_simd128.h>

// Mean and 1 / sqrt(var + eps) of one row.
static void row_stats(const float *x, int dim, float epsilon, float *mean, float *inverse_std) {
  float sum = 0;
  for (int c = 0; c < dim; c++) sum += x[c];
  const float m = sum / dim;
  float squares = 0;
  for (int c = 0; c < dim; c++) squares += (x[c] - m) * (x[c] - m);
  *mean = m;
  *inverse_std = 1 / __builtin_sqrtf(squares / dim + epsilon);
}

__attribute__((export_name("layer_norm_forward")))
void layer_norm_forward(const float *x, const float *gain, const float *bias, float *y, int rows, int dim, float epsilon) {
  for (int r = 0; r < rows; r++) {
    const float *xr = x + (long)r * dim;
    float *yr = y + (long)r * dim;
    float mean, inverse_std;
    row_stats(xr, dim, epsilon, &mean, &inverse_std);
    int c = 0;
    const v128_t m = wasm_f32x4_splat(mean), s = wasm_f32x4_splat(inverse_std);
    for (; c + 4 <= dim; c += 4) {
      const v128_t normalised = wasm_f32x4_mul(wasm_f32x4_sub(wasm_v128_load(xr + c), m), s);
      wasm_v128_store(yr + c, wasm_f32x4_add(wasm_f32x4_mul(normalised, wasm_v128_load(gain + c)), wasm_v128_load(bias + c)));
    }
    for (; c < dim; c++) yr[c] = (xr[c] - mean) * inverse_std * gain[c] + bias[c];
  }
}

__attribute__((export_name("layer_norm_backward")))
void layer_norm_backward(const float *x, const float *gain, const float *dy, float *dx, float *dgain, float *dbias,
                         int rows, int dim, float epsilon) {
  for (int c = 0; c < dim; c++) dgain[c] = dbias[c] = 0;
  for (int r = 0; r < rows; r++) {
    const float *xr = x + (long)r * dim, *dyr = dy + (long)r * dim;
    float *dxr = dx + (long)r * dim;
    float mean, inverse_std;
    row_stats(xr, dim, epsilon, &mean, &inverse_std);
    float g_sum = 0, gx_sum = 0;
    for (int c = 0; c < dim; c++) {
      const float normalised = (xr[c] - mean) * inverse_std, g = dyr[c] * gain[c];
      dbias[c] += dyr[c];
      dgain[c] += dyr[c] * normalised;
      g_sum += g;
      gx_sum += g * normalised;
    }
    const float g_mean = g_sum / dim, gx_mean = gx_sum / dim;
    for (int c = 0; c < dim; c++) {
      const float normalised = (xr[c] - mean) * inverse_std;
      dxr[c] = (dyr[c] * gain[c] - g_mean - normalised * gx_mean) * inverse_std;
    }
  }
}
