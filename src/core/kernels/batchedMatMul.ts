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
import { copyIn, copyOut, defaultKernelPaths, instantiateKernel, reserve, type KernelModule, type WasmBackend } from './wasmModule';

export const KERNEL_FILE = 'batched-matmul.wasm';

interface KernelExports extends KernelModule {
  batched_matmul(a: number, b: number, c: number, pack: number, batch: number, m: number, n: number, k: number, transposeA: number, transposeB: number): void;
}

interface BatchMatMulArgs {
  inputs: { a: tf.TensorInfo; b: tf.TensorInfo };
  backend: WasmBackend;
  attrs: { transposeA: boolean; transposeB: boolean };
}

let kernel: KernelExports | undefined;
/** Products the kernel has computed in this process (tests and benchmarks check it is really used). */
let kernelCalls = 0;
let tfjsBatchMatMul: tf.KernelConfig | undefined;

/** Loads the kernel once; returns undefined when loaded, otherwise the reason it could not be. */
export function loadBatchedMatMulKernel(candidates: string[] = defaultKernelPaths(KERNEL_FILE)): string | undefined {
  if (kernel) return undefined;
  const loaded = instantiateKernel<KernelExports>(KERNEL_FILE, candidates);
  if (typeof loaded === 'string') return loaded;
  kernel = loaded;
  return undefined;
}

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

/** Multiplies in the kernel's memory (the copies in and out are the price of a separate module). */
function batchMatMulOnKernel(args: BatchMatMulArgs, [m, n, k, batch]: [number, number, number, number]): tf.TensorInfo {
  const { inputs, backend, attrs } = args;
  const own = kernel!;
  const [a, b, c, pack] = reserve(own, [batch * m * k * 4, batch * k * n * 4, batch * m * n * 4, k * n * 4]);
  copyIn(own, backend, inputs.a, a);
  copyIn(own, backend, inputs.b, b);
  own.batched_matmul(a, b, c, pack, batch, m, n, k, attrs.transposeA ? 1 : 0, attrs.transposeB ? 1 : 0);
  return copyOut(own, backend, [...inputs.a.shape.slice(0, -2), m, n], c);
}

function batchMatMul(args: BatchMatMulArgs): tf.TensorInfo | tf.TensorInfo[] {
  const shape = kernelShape(args);
  if (shape) {
    kernelCalls++;
    return batchMatMulOnKernel(args, shape);
  }
  return tfjsBatchMatMul!.kernelFunc(args as unknown as Parameters<tf.KernelFunc>[0]);
}

/**
 * Makes the kernel tfjs's wasm BatchMatMul for this process (every tf.matMul, including those of
 * tfjs's own gradients, dispatches to it). Returns undefined when it is on, otherwise why it
 * could not be (not built, or not instantiable).
 */
export function enableBatchedMatMulKernel(candidates?: string[]): string | undefined {
  if (tfjsBatchMatMul) return undefined;
  const problem = loadBatchedMatMulKernel(candidates);
  if (problem) return problem;
  const original = tf.getKernel('BatchMatMul', 'wasm');
  if (!original) return 'the TensorFlow.js wasm backend is not registered';
  tfjsBatchMatMul = original;
  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel({ kernelName: 'BatchMatMul', backendName: 'wasm', kernelFunc: batchMatMul as unknown as tf.KernelFunc });
  return undefined;
}

/** Gives the BatchMatMul kernel back to tfjs. */
export function disableBatchedMatMulKernel(): void {
  if (!tfjsBatchMatMul) return;
  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel(tfjsBatchMatMul);
  tfjsBatchMatMul = undefined;
}

export function batchedMatMulKernelEnabled(): boolean {
  return tfjsBatchMatMul !== undefined;
}

/** Whether products of the current backend run on the kernel (it is registered for wasm only). */
export const batchedMatMulKernelActive = (): boolean => batchedMatMulKernelEnabled() && tf.getBackend() === 'wasm';

export const batchedMatMulKernelCalls = (): number => kernelCalls;
