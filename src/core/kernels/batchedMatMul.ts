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
 * own kernel. The worker turns it on once per process (`enableBatchedMatMulKernel`, recorded in
 * the run's environment); tests and in-process CLI commands keep tfjs's kernel unless they enable it.
 */
import * as tf from '@tensorflow/tfjs';
import { RegisteredKernels, type HeapKernel, type KernelArgs } from './wasmModule';

export const KERNEL_FILE = 'batched-matmul.wasm';

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

const kernels = new RegisteredKernels<KernelExports>(KERNEL_FILE, { BatchMatMul: batchMatMul });

/** Compiles the kernel once; returns undefined when compiled, otherwise the reason it could not be. */
export const loadBatchedMatMulKernel = (candidates?: string[]): string | undefined => kernels.load(candidates);

/**
 * Makes the kernel tfjs's wasm BatchMatMul for this process (every tf.matMul, including those of
 * tfjs's own gradients, dispatches to it). Returns undefined when it is on, otherwise why it
 * could not be (not built, or not compilable).
 */
export const enableBatchedMatMulKernel = (candidates?: string[]): string | undefined => kernels.enable(candidates);

/** Gives the BatchMatMul kernel back to tfjs. */
export const disableBatchedMatMulKernel = (): void => kernels.disable();

export const batchedMatMulKernelEnabled = (): boolean => kernels.enabled();

/** Whether products of the current backend run on the kernel (it is registered for wasm only). */
export const batchedMatMulKernelActive = (): boolean => kernels.active();

export const batchedMatMulKernelCalls = (): number => kernelCalls;
