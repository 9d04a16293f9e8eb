/**
 * Model Lab's own batched float32 matMul for small matrices (src/kernels/batchedMatMul.c, built
 * into dist/batched-matmul.wasm by scripts/build.mjs when clang and lld are installed), plugged
 * into tfjs's wasm backend as its BatchMatMul kernel. tfjs runs batched products of small
 * matrices (attention: [B, H, T, d] x [B, H, d, T], and the transposed products of their
 * gradients) on a generic path at 2-3 GFLOP/s; the kernel register-blocks each batch entry.
 *
 * Only products with a batch of several matrices and no broadcasting take the kernel; every other
 * call (the 2-D products of linear layers, which tfjs runs fast) goes to tfjs's own kernel. The
 * worker turns it on once per process (`enableBatchedMatMulKernel`, recorded in the run's
 * environment); tests and in-process CLI commands keep tfjs's kernel unless they enable it.
 */
import * as tf from '@tensorflow/tfjs';
import * as fs from 'node:fs';
import * as path from 'node:path';

export const KERNEL_FILE = 'batched-matmul.wasm';

interface KernelExports {
  memory: WebAssembly.Memory;
  heap_base(): number;
  batched_matmul(a: number, b: number, c: number, pack: number, batch: number, m: number, n: number, k: number, transposeA: number, transposeB: number): void;
}

/** The parts of tfjs's wasm backend a kernel uses: views of a tensor in its heap, new outputs. */
interface WasmBackend {
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array;
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
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

/** Where the .wasm is looked for: beside the bundle (dist/), then the repo's dist/ (tests run from src/). */
export function defaultKernelPaths(): string[] {
  return [path.join(__dirname, KERNEL_FILE), path.join(__dirname, '..', '..', '..', 'dist', KERNEL_FILE)];
}

/**
 * Instantiates the kernel synchronously (Node allows any size off the browser main thread).
 * Returns undefined when loaded, otherwise the reason it could not be.
 */
export function loadBatchedMatMulKernel(candidates: string[] = defaultKernelPaths()): string | undefined {
  if (kernel) return undefined;
  const file = candidates.find((f) => fs.existsSync(f));
  if (!file) return `${KERNEL_FILE} was not built (looked in ${candidates.join(', ')}; scripts/build.mjs builds it when clang and lld are installed)`;
  try {
    const instance = new WebAssembly.Instance(new WebAssembly.Module(fs.readFileSync(file)), {});
    kernel = instance.exports as unknown as KernelExports;
    return undefined;
  } catch (error) {
    return `${file} could not be instantiated: ${(error as Error).message}`;
  }
}

const align16 = (bytes: number) => Math.ceil(bytes / 16) * 16;

/** Grows the kernel's linear memory so that `bytes` fit after its own data; returns the first free byte. */
function reserve(k: KernelExports, bytes: number): number {
  const base = align16(k.heap_base());
  const missing = base + bytes - k.memory.buffer.byteLength;
  if (missing > 0) k.memory.grow(Math.ceil(missing / 65536));
  return base;
}

/** [m, n, k, batch] of op(a) op(b) when the kernel takes it: same rank >= 3, equal batch dims, batch > 1. */
function kernelShape({ inputs: { a, b }, attrs }: BatchMatMulArgs): [number, number, number, number] | undefined {
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 3 || a.shape.length !== b.shape.length) return undefined;
  const rank = a.shape.length;
  if (a.shape.slice(0, -2).some((d, i) => d !== b.shape[i])) return undefined;
  const batch = a.shape.slice(0, -2).reduce((p, d) => p * d, 1);
  if (batch < 2) return undefined;
  const [m, ka] = attrs.transposeA ? [a.shape[rank - 1], a.shape[rank - 2]] : [a.shape[rank - 2], a.shape[rank - 1]];
  const [kb, n] = attrs.transposeB ? [b.shape[rank - 1], b.shape[rank - 2]] : [b.shape[rank - 2], b.shape[rank - 1]];
  return ka === kb ? [m, n, ka, batch] : undefined; // a mismatch goes to tfjs for its error message
}

/**
 * Copies a and b from tfjs's heap into the kernel's, multiplies there and copies the result into
 * a new tfjs output: two wasm instances cannot share one memory, so the copies are the price.
 */
function batchMatMulOnKernel(args: BatchMatMulArgs, [m, n, k, batch]: [number, number, number, number]): tf.TensorInfo {
  const { inputs, backend, attrs } = args;
  const own = kernel!;
  const aBytes = align16(batch * m * k * 4);
  const bBytes = align16(batch * k * n * 4);
  const cBytes = align16(batch * m * n * 4);
  const base = reserve(own, aBytes + bBytes + cBytes + k * n * 4);
  const heap = new Float32Array(own.memory.buffer);
  heap.set(backend.typedArrayFromHeap(inputs.a), base / 4);
  heap.set(backend.typedArrayFromHeap(inputs.b), (base + aBytes) / 4);
  const c = base + aBytes + bBytes;
  own.batched_matmul(base, base + aBytes, c, c + cBytes, batch, m, n, k, attrs.transposeA ? 1 : 0, attrs.transposeB ? 1 : 0);
  const out = backend.makeOutput([...inputs.a.shape.slice(0, -2), m, n], 'float32');
  backend.typedArrayFromHeap(out).set(new Float32Array(own.memory.buffer, c, batch * m * n));
  return out;
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

export const batchedMatMulKernelCalls = (): number => kernelCalls;
