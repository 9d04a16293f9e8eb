/**
 * What a model's shape contributes to the training memory estimate (src/core/memoryEstimate.ts):
 * each lab gives one per model in its manifest. Pure: no TensorFlow.js.
 */

export interface MemoryShape {
  parameters: number;
  /** Numbers (floats) of activation per example, before the batch. */
  activationsPerExample: number;
  /** Pointer of the width option (blamed when parameters dominate). */
  width: string;
}

/** A numeric option of a spec component, or `fallback` when it is absent. */
export const optionNumber = (options: Record<string, unknown>, key: string, fallback: number): number =>
  typeof options[key] === 'number' ? (options[key] as number) : fallback;
