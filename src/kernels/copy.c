// Strided copies of 4-byte elements (float32 or int32; copied as bits), wasm32 + SIMD128: `rows`
// rows of `width` elements from src, rows `src_stride` apart, to dst, rows `dst_stride` apart.
// Concat, Slice and SplitV are such copies; tfjs's wasm backend runs them as JavaScript loops
// that make a typed-array view per row (about 5,000 rows for one [256, 10, 96] split).
#include <wasm_simd128.h>

__attribute__((export_name("copy_rows")))
void copy_rows(const int *src, int src_stride, int *dst, int dst_stride, int rows, int width) {
  for (int r = 0; r < rows; r++) {
    const int *from = src + (long)r * src_stride;
    int *to = dst + (long)r * dst_stride;
    int i = 0;
    for (; i + 4 <= width; i += 4) wasm_v128_store(to + i, wasm_v128_load(from + i));
    for (; i < width; i++) to[i] = from[i];
  }
}
