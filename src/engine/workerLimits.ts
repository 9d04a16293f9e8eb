/**
 * Every thread Model Lab starts runs with a bounded JavaScript heap. Workers read run folders and
 * experiment files, which are untrusted input; whatever slips past the readers' own size checks
 * then ends that worker with a clear "out of memory" instead of taking the machine's memory.
 * Tensors are not on this heap (they live in the wasm heap or typed arrays), so training is not
 * limited by it: a model's size is bounded by the spec's memory estimate instead.
 */
import { Worker, type ResourceLimits, type WorkerOptions } from 'node:worker_threads';

/** Far above what a worker's own objects need (tens of MB); far below a machine's memory. */
export const WORKER_RESOURCE_LIMITS: ResourceLimits = { maxOldGenerationSizeMb: 2048, maxYoungGenerationSizeMb: 64 };

/** `new Worker` with the resource limits (tests may pass smaller ones). */
export function startLimitedWorker(script: string, options: WorkerOptions = {}, limits: ResourceLimits = WORKER_RESOURCE_LIMITS): Worker {
  return new Worker(script, { ...options, resourceLimits: limits });
}

/** A worker's 'error' in words: the out-of-memory stop names the limit. */
export function describeWorkerError(error: Error, limits: ResourceLimits = WORKER_RESOURCE_LIMITS): string {
  if ((error as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY') {
    return `it ran out of memory (its JavaScript heap is limited to ${limits.maxOldGenerationSizeMb} MB)`;
  }
  return error.message;
}
