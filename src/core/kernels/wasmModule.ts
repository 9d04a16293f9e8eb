/**
 * Loading and feeding Model Lab's own wasm kernels (src/kernels/*.c, each built into dist/ by
 * scripts/build.mjs when clang and lld are installed). A kernel module has its own linear memory:
 * tfjs's tensors are copied in, computed on, and the result copied into a new tfjs output, since
 * two wasm instances cannot share one memory.
 */
import type * as tf from '@tensorflow/tfjs';
import { getBackend as tfGetBackend, registerKernel as tfRegisterKernel, unregisterKernel as tfUnregisterKernel } from '@tensorflow/tfjs';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** What every kernel module exports besides its entry points. */
export interface KernelModule {
  memory: WebAssembly.Memory;
  heap_base(): number;
}

/** The parts of tfjs's wasm backend a kernel uses: views of a tensor in its heap, new outputs. */
export interface WasmBackend {
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array;
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
}

/** Where dist/<file> is looked for: beside the bundle (dist/), then the repo's dist/ (tests run from src/). */
export function defaultKernelPaths(file: string): string[] {
  return [path.join(__dirname, file), path.join(__dirname, '..', '..', '..', 'dist', file)];
}

/**
 * Instantiates the first candidate that exists, synchronously (Node allows any size off the
 * browser main thread). Returns the module, or the reason it could not be loaded.
 */
export function instantiateKernel<T extends KernelModule>(file: string, candidates: string[]): T | string {
  const found = candidates.find((f) => fs.existsSync(f));
  if (!found) return `${file} was not built (looked in ${candidates.join(', ')}; scripts/build.mjs builds it when clang and lld are installed)`;
  try {
    return new WebAssembly.Instance(new WebAssembly.Module(fs.readFileSync(found)), {}).exports as unknown as T;
  } catch (error) {
    return `${found} could not be instantiated: ${(error as Error).message}`;
  }
}

export const align16 = (bytes: number): number => Math.ceil(bytes / 16) * 16;

/**
 * Lays out regions of the given byte sizes, each 16-byte aligned, after the module's own data,
 * growing its memory as needed; returns the address of each region.
 */
export function reserve(module: KernelModule, sizes: number[]): number[] {
  let next = align16(module.heap_base());
  const addresses = sizes.map((bytes) => {
    const at = next;
    next += align16(bytes);
    return at;
  });
  const missing = next - module.memory.buffer.byteLength;
  if (missing > 0) module.memory.grow(Math.ceil(missing / 65536));
  return addresses;
}

/** Copies a tfjs tensor into the module's memory at `address`. */
export function copyIn(module: KernelModule, backend: WasmBackend, info: tf.TensorInfo, address: number): void {
  new Float32Array(module.memory.buffer).set(backend.typedArrayFromHeap(info), address / 4);
}

/** A new tfjs output of `shape` holding the floats at `address` in the module's memory. */
export function copyOut(module: KernelModule, backend: WasmBackend, shape: number[], address: number): tf.TensorInfo {
  const out = backend.makeOutput(shape, 'float32');
  const size = shape.reduce((p, d) => p * d, 1);
  backend.typedArrayFromHeap(out).set(new Float32Array(module.memory.buffer, address, size));
  return out;
}

/** What a Model Lab kernel function gets from tfjs: its inputs by name, the backend, its attributes. */
export interface KernelArgs<Attrs = Record<string, never>> {
  inputs: Record<string, tf.TensorInfo>;
  backend: WasmBackend;
  attrs: Attrs;
}

/** A kernel's body; `never` attributes accept a function of any attributes. */
type KernelFunction<T> = (module: T, args: KernelArgs<never>) => tf.TensorInfo | tf.TensorInfo[];

/**
 * A kernel module whose entry points are registered with tfjs's wasm backend under Model Lab's
 * own names (the ops call them through `tf.engine().runKernel`): loaded once, registered while
 * enabled, and counting its calls (tests check the kernels really ran).
 */
export class RegisteredKernels<T extends KernelModule> {
  private module: T | undefined;
  private enabled = false;
  calls = 0;

  constructor(
    private readonly file: string,
    private readonly kernels: Record<string, KernelFunction<T>>,
  ) {}

  /** Loads the module once; returns undefined when loaded, otherwise the reason it could not be. */
  load(candidates: string[] = defaultKernelPaths(this.file)): string | undefined {
    if (this.module) return undefined;
    const loaded = instantiateKernel<T>(this.file, candidates);
    if (typeof loaded === 'string') return loaded;
    this.module = loaded;
    return undefined;
  }

  /** Registers the kernels; undefined when on, otherwise why they could not be. */
  enable(candidates?: string[]): string | undefined {
    if (this.enabled) return undefined;
    const problem = this.load(candidates);
    if (problem) return problem;
    for (const [kernelName, run] of Object.entries(this.kernels)) {
      const kernelFunc = (args: KernelArgs<never>) => {
        this.calls++;
        return run(this.module!, args);
      };
      tfRegisterKernel({ kernelName, backendName: 'wasm', kernelFunc: kernelFunc as unknown as tf.KernelFunc });
    }
    this.enabled = true;
    return undefined;
  }

  disable(): void {
    if (!this.enabled) return;
    for (const kernelName of Object.keys(this.kernels)) tfUnregisterKernel(kernelName, 'wasm');
    this.enabled = false;
  }

  /** Whether the current backend runs the kernels (they are registered for wasm only). */
  active(): boolean {
    return this.enabled && tfGetBackend() === 'wasm';
  }
}
