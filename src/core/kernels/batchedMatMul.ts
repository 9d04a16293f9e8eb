/**
 * Batched float32 matMul through our own wasm kernel (src/kernels/batchedMatMul.c, built into
 * dist/batched-matmul.wasm by scripts/build.mjs when clang is present). tfjs's wasm backend runs
 * batched products of small matrices (attention: [B, H, T, d] x [B, H, d, T]) on a generic
 * path at 2-3 GFLOP/s; the kernel register-blocks each batch entry. Inputs are read with
 * dataSync and the result is a new tensor, so it runs on any backend, at the price of a copy
 * in and out. When the .wasm file is missing, `loadBatchedMatMulKernel` reports why and
 * callers keep tf.matMul.
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

let kernel: KernelExports | undefined;

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

export function batchedMatMulKernelLoaded(): boolean {
  return kernel !== undefined;
}

/** The parts of tfjs's wasm backend read here: where a tensor lives in its linear memory. */
interface WasmBackendView {
  getMemoryOffset(dataId: object): number;
  wasm: { HEAPU8: Uint8Array };
}

/**
 * Copies a's values into `target` at float index `at`. On tfjs's wasm backend straight from its
 * linear memory (no intermediate array: dataSync allocates a fresh one per call, which for the
 * 8 MB attention matrices costs more than the product); elsewhere through dataSync.
 */
function copyInto(target: Float32Array, at: number, a: tf.Tensor): void {
  const backend = tf.backend() as unknown as Partial<WasmBackendView>;
  if (tf.getBackend() === 'wasm' && typeof backend.getMemoryOffset === 'function' && backend.wasm) {
    const offset = backend.getMemoryOffset(a.dataId);
    target.set(new Float32Array(backend.wasm.HEAPU8.buffer, offset, a.size), at);
  } else {
    target.set(a.dataSync() as Float32Array, at);
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

interface Dims {
  batchShape: number[];
  batch: number;
  m: number;
  n: number;
  k: number;
}

function dims(a: tf.Tensor, b: tf.Tensor, transposeA: boolean, transposeB: boolean): Dims {
  if (a.rank < 2 || a.rank !== b.rank) throw new Error(`batchedMatMul: inputs must have the same rank >= 2, got [${a.shape}] and [${b.shape}]`);
  const batchShape = a.shape.slice(0, -2);
  if (batchShape.some((d, i) => d !== b.shape[i])) throw new Error(`batchedMatMul: batch dimensions differ (no broadcasting): [${a.shape}] and [${b.shape}]`);
  const [ar, ac] = a.shape.slice(-2);
  const [br, bc] = b.shape.slice(-2);
  const [m, ka] = transposeA ? [ac, ar] : [ar, ac];
  const [kb, n] = transposeB ? [bc, br] : [br, bc];
  if (ka !== kb) throw new Error(`batchedMatMul: inner dimensions differ: [${a.shape}]${transposeA ? '^T' : ''} x [${b.shape}]${transposeB ? '^T' : ''}`);
  return { batchShape, batch: batchShape.reduce((p, d) => p * d, 1), m, n, k: ka };
}

/** The product without a gradient: op(a) op(b) per batch entry, op = transpose when its flag is set. */
export function batchedMatMulForward(a: tf.Tensor, b: tf.Tensor, transposeA = false, transposeB = false): tf.Tensor {
  if (!kernel) throw new Error(`batchedMatMul: the kernel is not loaded (call loadBatchedMatMulKernel first)`);
  if (a.dtype !== 'float32' || b.dtype !== 'float32') throw new Error(`batchedMatMul: float32 inputs expected, got ${a.dtype} and ${b.dtype}`);
  const { batchShape, batch, m, n, k } = dims(a, b, transposeA, transposeB);
  const aBytes = align16(batch * m * k * 4);
  const bBytes = align16(batch * k * n * 4);
  const cBytes = align16(batch * m * n * 4);
  const base = reserve(kernel, aBytes + bBytes + cBytes + k * n * 4);
  const heap = new Float32Array(kernel.memory.buffer);
  copyInto(heap, base / 4, a);
  copyInto(heap, (base + aBytes) / 4, b);
  const c = base + aBytes + bBytes;
  kernel.batched_matmul(base, base + aBytes, c, c + cBytes, batch, m, n, k, transposeA ? 1 : 0, transposeB ? 1 : 0);
  // tf.tensor copies the values into the backend, so the view may be reused by the next call.
  return tf.tensor(new Float32Array(kernel.memory.buffer, c, batch * m * n), [...batchShape, m, n], 'float32');
}

type Product = (a: tf.Tensor, b: tf.Tensor) => tf.Tensor;

/** For C = op(A) op(B): dA and dB, the same four flag cases as tf.matMul's gradient. */
function withGradient(transposeA: boolean, transposeB: boolean): Product {
  const mm = batchedMatMulForward;
  return tf.customGrad((...inputs: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [a, b] = inputs as tf.Tensor[];
    return {
      value: mm(a, b, transposeA, transposeB),
      gradFunc: (dy: tf.Tensor | tf.Tensor[]) => {
        const dc = dy as tf.Tensor;
        if (!transposeA && !transposeB) return [mm(dc, b, false, true), mm(a, dc, true, false)];
        if (!transposeA && transposeB) return [mm(dc, b, false, false), mm(dc, a, true, false)];
        if (transposeA && !transposeB) return [mm(b, dc, false, true), mm(a, dc, false, false)];
        return [mm(b, dc, true, true), mm(dc, a, true, true)];
      },
    };
  }) as Product;
}

const products: Product[] = [withGradient(false, false), withGradient(false, true), withGradient(true, false), withGradient(true, true)];

/** op(a) op(b) per batch entry through the kernel, with gradients through the kernel too. */
export function batchedMatMul(a: tf.Tensor, b: tf.Tensor, transposeA = false, transposeB = false): tf.Tensor {
  return products[(transposeA ? 2 : 0) + (transposeB ? 1 : 0)](a, b);
}
