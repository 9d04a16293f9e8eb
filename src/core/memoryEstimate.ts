/**
 * How much memory training a resolved spec needs, estimated from its options before anything is
 * built, so that a model or batch too large for the machine is a located spec error instead of
 * minutes of work ending in "memory access out of bounds" (wasm32's heap is 4 GiB) or swap.
 *
 * The estimate is deliberately generous (README, "Limits"), per model family:
 *   parameters   counted from the widths (encoder, attention, heads), each held 4 times:
 *                weights, gradients and Adam's two moments (float32: 16 bytes per parameter);
 *   activations  per example, the tensors a step keeps for the backward pass: about 16 per
 *                token of the model's width, 4 per entry of every attention map, and for the
 *                relational conv encoder 50k numbers per object image; times batchSize, and
 *                twice over (forward values and their gradients).
 * Each lab's manifest gives its models' shapes (src/core/<lab>/memory.ts); a model without one
 * gets no estimate (and no refusal).
 */
import * as os from 'node:os';
import type { ComponentManifest } from './labManifest';
import { LABS } from './labList';
import type { MemoryShape } from './memoryShape';
import type { ResolvedSpec } from './spec/types';

const FLOAT_BYTES = 4;
/** Weights, gradients, Adam's first and second moments. */
const COPIES_PER_PARAMETER = 4;
/** Forward values kept for the backward pass, and the gradients flowing back through them. */
const ACTIVATION_COPIES = 2;
export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;

/** wasm32 addresses at most 4 GiB: the heap of the wasm backend cannot grow past it. */
export const WASM_HEAP_LIMIT_BYTES = 4 * GiB;

export interface MemoryEstimate {
  parameters: number;
  /** Numbers (floats) of activation per example, before the batch. */
  activationsPerExample: number;
  batchSize: number;
  bytes: number;
  /** The option that drives the estimate most, as a JSON pointer into the spec. */
  blame: string;
}

/** The model's shape as its lab's manifest estimates it (src/core/<lab>/memory.ts). */
function shapeOf(spec: ResolvedSpec): MemoryShape | undefined {
  for (const lab of LABS) {
    const model: ComponentManifest | undefined = lab.models.find((m) => m.name === spec.model.name);
    if (model) return model.memory?.(spec);
  }
  return undefined;
}

/** The estimate for a resolved spec, or undefined for a model family it does not know. */
export function estimateTrainingMemory(spec: ResolvedSpec): MemoryEstimate | undefined {
  const shape = shapeOf(spec);
  if (!shape) return undefined;
  const batchSize = spec.training.batchSize;
  const parameterBytes = shape.parameters * COPIES_PER_PARAMETER * FLOAT_BYTES;
  const activationBytes = shape.activationsPerExample * batchSize * ACTIVATION_COPIES * FLOAT_BYTES;
  return {
    parameters: shape.parameters,
    activationsPerExample: shape.activationsPerExample,
    batchSize,
    bytes: parameterBytes + activationBytes,
    blame: parameterBytes >= activationBytes ? shape.width : '/training/batchSize',
  };
}

/** Default limit: half the machine's memory (VS Code, the OS and other runs need the rest). */
export const defaultMemoryLimitBytes = (): number => Math.floor(os.totalmem() / 2);

/**
 * The limit a run must fit in: the setting (`modelLab.memoryLimitMB`, `--memory-limit`,
 * MODEL_LAB_MEMORY_LIMIT_MB; default half the machine's memory), and for the wasm backend also
 * its 4 GiB heap. `configuredMB` 0 or undefined means the default.
 */
export function memoryLimit(backend: string, configuredMB?: number): { bytes: number; source: string } {
  const configured = configuredMB !== undefined && configuredMB > 0
    ? { bytes: configuredMB * MiB, source: `the memory limit setting (${configuredMB} MB)` }
    : { bytes: defaultMemoryLimitBytes(), source: `half of this machine's memory (${formatBytes(defaultMemoryLimitBytes())}; setting modelLab.memoryLimitMB or --memory-limit)` };
  if (backend === 'wasm' && WASM_HEAP_LIMIT_BYTES < configured.bytes) {
    return { bytes: WASM_HEAP_LIMIT_BYTES, source: "the wasm backend's 4 GiB heap (wasm32)" };
  }
  return configured;
}

export function formatBytes(bytes: number): string {
  if (bytes >= GiB) return `${(bytes / GiB).toFixed(1)} GiB`;
  return `${Math.max(1, Math.round(bytes / MiB))} MiB`;
}

/** Why the spec does not fit (a sentence with the estimate), or undefined when it does. */
export function memoryProblem(spec: ResolvedSpec, backend: string, configuredMB?: number): { path: string; message: string } | undefined {
  const estimate = estimateTrainingMemory(spec);
  if (!estimate) return undefined;
  const limit = memoryLimit(backend, configuredMB);
  if (estimate.bytes <= limit.bytes) return undefined;
  const parameters = estimate.parameters >= 1e6 ? `${(estimate.parameters / 1e6).toFixed(0)} million` : String(estimate.parameters);
  return {
    path: estimate.blame,
    message:
      `training this spec needs an estimated ${formatBytes(estimate.bytes)} (${parameters} parameters, batch ${estimate.batchSize}), ` +
      `more than ${formatBytes(limit.bytes)}, ${limit.source}: make the model or the batch smaller`,
  };
}
