/**
 * Loading and running Model Lab's own wasm kernels (src/kernels/*.c, each put into dist/ by
 * scripts/build.mjs, compiled or copied from their committed builds in src/kernels/prebuilt). A
 * kernel module imports the linear memory of tfjs's wasm backend, so it reads its inputs and
 * writes its outputs where tfjs keeps the tensors: no copies in or out. The build checks that a
 * kernel uses neither a stack nor static data, the two things wasm-ld would place in that memory
 * on top of tfjs's own.
 */
import type * as tf from '@tensorflow/tfjs';
import { findBackend as tfFindBackend, getBackend as tfGetBackend, getKernel as tfGetKernel, registerKernel as tfRegisterKernel, unregisterKernel as tfUnregisterKernel } from '@tensorflow/tfjs';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The parts of tfjs's wasm backend a kernel uses: its heap, where a tensor lives in it, new outputs. */
export interface WasmBackend {
  wasm: { asm?: { memory?: WebAssembly.Memory }; _malloc(bytes: number): number; _free(address: number): void };
  getMemoryOffset(dataId: object): number;
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
}

/** Where dist/<file> is looked for: beside the bundle (dist/), then the repo's dist/ (tests run from src/). */
export function defaultKernelPaths(file: string): string[] {
  return [path.join(__dirname, file), path.join(__dirname, '..', '..', '..', 'dist', file)];
}

/**
 * Compiles the first candidate that exists, synchronously (Node allows any size off the browser
 * main thread). Returns the module, or the reason it could not be compiled.
 */
export function compileKernel(file: string, candidates: string[]): WebAssembly.Module | string {
  const found = candidates.find((f) => fs.existsSync(f));
  if (!found) return `${file} was not built (looked in ${candidates.join(', ')}; npm run build puts it there)`;
  try {
    const module = new WebAssembly.Module(fs.readFileSync(found));
    const importsMemory = WebAssembly.Module.imports(module).some((i) => i.kind === 'memory');
    return importsMemory ? module : `${found} has its own memory: it predates the in-heap kernels, rebuild it (npm run build)`;
  } catch (error) {
    return `${found} could not be compiled: ${(error as Error).message}`;
  }
}

/**
 * A kernel module instantiated on one wasm backend's memory, with what its entry points need:
 * the address of a tensor, new outputs, and a scratch region.
 */
export class HeapKernel<T> {
  readonly exports: T;
  private scratchAddress = 0;
  private scratchBytes = 0;

  constructor(module: WebAssembly.Module, private readonly backend: WasmBackend) {
    const memory = backend.wasm.asm?.memory;
    if (!memory) throw new Error('the TensorFlow.js wasm backend does not expose its memory (wasm.asm.memory)');
    this.exports = new WebAssembly.Instance(module, { env: { memory } }).exports as unknown as T;
  }

  /** Address of a tensor's values in the heap; its dtype must be one the kernel takes. */
  at(info: tf.TensorInfo, dtypes: readonly tf.DataType[] = ['float32']): number {
    if (!dtypes.includes(info.dtype)) throw new Error(`this Model Lab wasm kernel takes ${dtypes.join(' or ')} tensors, got ${info.dtype} [${info.shape.join(', ')}]`);
    return this.backend.getMemoryOffset(info.dataId);
  }

  /** A new tfjs tensor of `shape` (uninitialised: the kernel writes all of it) and its address. */
  output(shape: number[], dtype: tf.DataType = 'float32'): [tf.TensorInfo, number] {
    const info = this.backend.makeOutput(shape, dtype);
    return [info, this.backend.getMemoryOffset(info.dataId)];
  }

  /** A 16-byte aligned region of at least `bytes`, kept and reused across calls (contents are not kept). */
  scratch(bytes: number): number {
    if (bytes > this.scratchBytes) {
      if (this.scratchBytes > 0) this.backend.wasm._free(this.scratchAddress);
      this.scratchAddress = this.backend.wasm._malloc(bytes + 16) >>> 0;
      this.scratchBytes = bytes;
    }
    return Math.ceil(this.scratchAddress / 16) * 16;
  }
}

/** What a Model Lab kernel function gets from tfjs: its inputs by name, the backend, its attributes. */
export interface KernelArgs<Attrs = Record<string, never>> {
  inputs: Record<string, tf.TensorInfo>;
  backend: WasmBackend;
  attrs: Attrs;
}

/**
 * A kernel's body, given the module on the calling backend's heap and, when it replaces one of
 * tfjs's kernels, that kernel (for the cases it leaves to tfjs). `never` attributes accept a
 * function of any attributes.
 */
export type KernelFunction<T> = (kernel: HeapKernel<T>, args: KernelArgs<never>, tfjsKernel: tf.KernelFunc | undefined) => tf.TensorInfo | tf.TensorInfo[];

/**
 * A kernel module whose entry points are registered with tfjs's wasm backend, under Model Lab's
 * own names (the ops call them through `tf.engine().runKernel`) or under a tfjs kernel's name,
 * replacing it while enabled: compiled once, instantiated on each backend it runs on, and
 * counting its calls (tests check the kernels really ran).
 */
export class RegisteredKernels<T> implements Switchable {
  /** dist/<id>.wasm, the module src/kernels/<source> builds into (src/core/kernels/kernels.json). */
  readonly file: string;
  private module: WebAssembly.Module | undefined;
  private readonly instances = new WeakMap<WasmBackend, HeapKernel<T>>();
  private replaced: Map<string, tf.KernelConfig | undefined> | undefined;
  private readonly switched: (() => void)[] = [];
  calls = 0;

  constructor(
    /** The kernel's id in the table (src/core/kernels/kernels.json). */
    readonly id: string,
    private readonly kernels: Record<string, KernelFunction<T>>,
  ) {
    this.file = `${id}.wasm`;
  }

  /** Compiles the module once; returns undefined when compiled, otherwise the reason it could not be. */
  load(candidates: string[] = defaultKernelPaths(this.file)): string | undefined {
    if (this.module) return undefined;
    const compiled = compileKernel(this.file, candidates);
    if (typeof compiled === 'string') return compiled;
    this.module = compiled;
    return undefined;
  }

  /** Registers the kernels; undefined when on, otherwise why they could not be. */
  enable(candidates?: string[]): string | undefined {
    if (this.replaced) return undefined;
    const problem = this.load(candidates);
    if (problem) return problem;
    // Instantiated now where the backend is up, so that a memory it cannot import (a threaded
    // build's shared memory) is a reason here rather than an error in the first kernel call.
    const backend = tfFindBackend('wasm') as unknown as WasmBackend | undefined;
    if (backend) {
      try {
        this.instanceFor(backend);
      } catch (error) {
        return `${this.file} cannot run on this wasm backend: ${(error as Error).message}`;
      }
    }
    this.replaced = new Map();
    for (const [kernelName, run] of Object.entries(this.kernels)) {
      const original = tfGetKernel(kernelName, 'wasm');
      this.replaced.set(kernelName, original);
      if (original) tfUnregisterKernel(kernelName, 'wasm');
      const kernelFunc = (args: KernelArgs<never>) => {
        this.calls++;
        return run(this.instanceFor(args.backend), args, original?.kernelFunc);
      };
      tfRegisterKernel({ kernelName, backendName: 'wasm', kernelFunc: kernelFunc as unknown as tf.KernelFunc });
    }
    for (const listener of this.switched) listener();
    return undefined;
  }

  disable(): void {
    if (!this.replaced) return;
    for (const [kernelName, original] of this.replaced) {
      tfUnregisterKernel(kernelName, 'wasm');
      if (original) tfRegisterKernel(original);
    }
    this.replaced = undefined;
    for (const listener of this.switched) listener();
  }

  onSwitch(listener: () => void): void {
    this.switched.push(listener);
  }

  enabled(): boolean {
    return this.replaced !== undefined;
  }

  /** Whether the current backend runs the kernels (they are registered for wasm only). */
  active(): boolean {
    return this.enabled() && tfGetBackend() === 'wasm';
  }

  private instanceFor(backend: WasmBackend): HeapKernel<T> {
    let instance = this.instances.get(backend);
    if (!instance) {
      instance = new HeapKernel<T>(this.module!, backend);
      this.instances.set(backend, instance);
    }
    return instance;
  }
}

/** Kernels that can be turned on and off, and say so (RegisteredKernels, the sharing Identity). */
export interface Switchable {
  enabled(): boolean;
  /** Calls `listener` after every enable or disable that changed something. */
  onSwitch(listener: () => void): void;
}

/**
 * An op with two implementations: on Model Lab's kernels when all of `needs` are on, otherwise
 * tfjs's op chain. The implementation is chosen when those kernels are turned on or off
 * (src/core/kernels/index.ts), not per call, so models call the op without knowing which serves
 * it. The kernels are registered for the wasm backend only: a process that has left it since
 * (a test switching to cpu) gets the op chain, at the cost of one string comparison per call.
 */
export function fusedOp<F extends (...args: never[]) => unknown>(needs: readonly Switchable[], onKernels: F, onOps: F): F {
  let chosen = onOps;
  const choose = () => {
    chosen = needs.every((kernels) => kernels.enabled()) ? onKernels : onOps;
  };
  for (const kernels of needs) kernels.onSwitch(choose);
  choose();
  return ((...args: Parameters<F>) => (chosen === onKernels && tfGetBackend() !== 'wasm' ? onOps : chosen)(...args)) as F;
}
