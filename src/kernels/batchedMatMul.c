// Batched float32 matrix product for small matrices (8-128 per side), wasm32 + SIMD128:
//   C[b] = op(A[b]) op(B[b]),  op(X) = X or X^T,  C[b] is m x n, the inner dimension is k.
// tfjs's wasm backend runs such batched products on a generic path at 2-3 GFLOP/s; here each
// batch entry is a register-blocked 4x8 loop. B is repacked to k x n (row-major, contiguous
// along n) when it comes transposed, so the inner loop always loads B rows as vectors;
// A is read through strides, one broadcast scalar per row and k.
#include <wasm_simd128.h>
#include "product.h"

// A[b] is m x k (or k x m when transpose_a), B[b] is k x n (or n x k when transpose_b), C[b] is
// m x n, all row-major and contiguous per batch entry. `pack` holds k x n floats (used only
// when transpose_b).
__attribute__((export_name("batched_matmul")))
void batched_matmul(const float *a, const float *b, float *c, float *pack, int batch, int m, int n, int k,
                    int transpose_a, int transpose_b) {
  const int ai = transpose_a ? 1 : k, ap = transpose_a ? m : 1;
  for (int e = 0; e < batch; e++) {
    const float *ae = a + (long)e * m * k, *be = b + (long)e * k * n;
    if (transpose_b) {
      transpose(be, n, k, pack);
      be = pack;
    }
    product(ae, ai, ap, be, c + (long)e * m * n, m, n, k);
  }
}
