/**
 * Model Lab's own float32 matMul (src/kernels/batchedMatMul.c, built into
 * dist/batched-matmul.wasm by scripts/build.mjs when clang and lld are installed), plugged into
 * tfjs's wasm backend as its BatchMatMul kernel. tfjs runs batched products of small matrices
 * (attention: [B, H, T, d] x [B, H, d, T], and the transposed products of their gradients) on a
 * generic path at 2-3 GFLOP/s, and 2-D products with a transpose flag (every weight gradient) on
 * the same slow path; its 2-D products repack their right operand whenever it is a new tensor
 * (every step: weights are reassigned, gradients are new). The kernel register-blocks each
 * product and takes any transpose flags at full speed (bench/README.md, "Results (2026-12-06)").
 *
 * Every float32 product without broadcasting takes the kernel; broadcast products go to tfjs's
 * own kernel. The worker turns it on once per process (src/core/kernels/index.ts, recorded in
 * the run's environment); tests and in-process CLI commands keep tfjs's kernel unless they enable it.
 *
 * Models call tf.matMul. What changes with the kernel is chosen here, when it is turned on or off:
 * the gradient of a 2-D product (below), and two row-wise products of compositional attention.
 */
import * as tf from '@tensorflow/tfjs';
import { fusedOp, RegisteredKernels, type HeapKernel, type KernelArgs } from './wasmModule';

interface KernelExports {
  batched_matmul(a: number, b: number, c: number, pack: number, batch: number, m: number, n: number, k: number, transposeA: number, transposeB: number): void;
}

type BatchMatMulArgs = KernelArgs<{ transposeA: boolean; transposeB: boolean }>;

/** Products the kernel has computed in this process (tests and benchmarks check it is really used). */
let kernelCalls = 0;

/** [m, n, k, batch] of op(a) op(b) when the kernel takes it: float32, same rank, equal batch dims (no broadcasting). */
function kernelShape({ inputs: { a, b }, attrs }: BatchMatMulArgs): [number, number, number, number] | undefined {
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length !== b.shape.length) return undefined;
  const rank = a.shape.length;
  if (a.shape.slice(0, -2).some((d, i) => d !== b.shape[i])) return undefined;
  const batch = a.shape.slice(0, -2).reduce((p, d) => p * d, 1);
  const [m, ka] = attrs.transposeA ? [a.shape[rank - 1], a.shape[rank - 2]] : [a.shape[rank - 2], a.shape[rank - 1]];
  const [kb, n] = attrs.transposeB ? [b.shape[rank - 1], b.shape[rank - 2]] : [b.shape[rank - 2], b.shape[rank - 1]];
  return ka === kb ? [m, n, ka, batch] : undefined; // a mismatch goes to tfjs for its error message
}

function batchMatMul(kernel: HeapKernel<KernelExports>, args: BatchMatMulArgs, tfjsBatchMatMul: tf.KernelFunc | undefined): tf.TensorInfo | tf.TensorInfo[] {
  const shape = kernelShape(args);
  if (!shape) return tfjsBatchMatMul!(args as unknown as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
  const [m, n, k, batch] = shape;
  const { inputs: { a, b }, attrs } = args;
  kernelCalls++;
  const [c, cAt] = kernel.output([...a.shape.slice(0, -2), m, n]);
  const pack = attrs.transposeB ? kernel.scratch(k * n * 4) : 0;
  kernel.exports.batched_matmul(kernel.at(a), kernel.at(b), cAt, pack, batch, m, n, k, attrs.transposeA ? 1 : 0, attrs.transposeB ? 1 : 0);
  return c;
}

/** Its registration with tfjs (load, enable, disable, active, calls), which the table turns on (index.ts). */
export const batchedMatMulKernels = new RegisteredKernels<KernelExports>('batched-matmul', { BatchMatMul: batchMatMul });

/** Products the kernel computed (its `calls` also counts the broadcast ones it left to tfjs). */
export const batchedMatMulKernelCalls = (): number => kernelCalls;

/**
 * Gradient of a plain 2-D product y = a b. tfjs's own gradient runs `matMul` with transpose flags
 * (`matMul(dy, b, false, true)`, `matMul(a, dy, true, false)`), which tfjs's wasm kernel runs on a
 * slow path, about 10x slower than a plain product of the same size (bench/README.md); ours takes
 * them at full speed. So without our kernel the gradient uses untransposed products,
 * da = dy b^T and db = a^T dy, and tfjs's gradient serves every other case. Registered
 * process-wide, once, when this module loads: it changes speed, not values beyond float rounding
 * order, and every model that multiplies 2-D matrices benefits.
 */
function registerMatMulGradient(): void {
  const builtin = tf.getGradient('BatchMatMul');
  if (!builtin || (builtin as { untransposed?: boolean }).untransposed) return;
  const untransposed: tf.GradFunc = (dy, saved, attrs) => {
    const [a, b] = saved;
    const { transposeA, transposeB } = attrs as { transposeA: boolean; transposeB: boolean };
    if (transposeA || transposeB || a.rank !== 2 || b.rank !== 2) return builtin.gradFunc(dy, saved, attrs);
    const upstream = dy as tf.Tensor2D;
    return {
      a: () => tf.matMul(upstream, tf.transpose(b as tf.Tensor2D)),
      b: () => tf.matMul(tf.transpose(a as tf.Tensor2D), upstream),
    };
  };
  const config: tf.GradConfig & { untransposed: boolean } = {
    kernelName: 'BatchMatMul',
    inputsToSave: ['a', 'b'],
    untransposed: true,
    gradFunc: fusedOp([batchedMatMulKernels], builtin.gradFunc, untransposed),
  };
  tf.registerGradient(config);
}
registerMatMulGradient();

/**
 * keys [n, R, d] . query [n, 1, d] -> [n, R]: tiny batched products, which run fast on Model Lab's
 * matMul kernel only (tfjs's own takes a slow path for them); otherwise a product-and-sum.
 */
export const rowDotProducts = fusedOp(
  [batchedMatMulKernels],
  (keys: tf.Tensor3D, query: tf.Tensor3D): tf.Tensor2D => tf.matMul(keys, query, false, true).reshape([keys.shape[0], keys.shape[1]]),
  (keys: tf.Tensor3D, query: tf.Tensor3D): tf.Tensor2D => tf.sum(tf.mul(query, keys), -1),
);

/** sum_r weights[i, r] rows[i, r]: weights [n, R], rows [n, R, d] -> [n, d]; a batched product on the kernel, as rowDotProducts. */
export const weightedRowSums = fusedOp(
  [batchedMatMulKernels],
  (weights: tf.Tensor2D, rows: tf.Tensor3D): tf.Tensor2D => tf.matMul(weights.reshape([rows.shape[0], 1, rows.shape[1]]) as tf.Tensor3D, rows).reshape([rows.shape[0], rows.shape[2]]),
  (weights: tf.Tensor2D, rows: tf.Tensor3D): tf.Tensor2D => tf.sum(tf.mul(weights.reshape([rows.shape[0], rows.shape[1], 1]), rows), 1),
);
