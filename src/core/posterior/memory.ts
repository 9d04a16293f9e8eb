/**
 * The posterior models' shapes for the training memory estimate (src/core/memoryEstimate.ts, which
 * explains the counting): parameters, activations kept per example, the width option to blame.
 * Read from the spec's options before anything is built; no TensorFlow.js (the manifest uses it).
 */
import { optionNumber as num, type MemoryShape as Shape } from '../memoryShape';
import type { ResolvedSpec } from '../spec/types';

export function posteriorShape(spec: ResolvedSpec): Shape {
  const task = spec.task;
  const model = spec.model;
  const points = num(task, 'contextMax', 127) + num(task, 'heldOut', 100);
  const d = num(model, 'dim', 64);
  const layers = num(model, 'layers', 2);
  const ff = num(model, 'feedForward', 128);
  const heads = num(model, 'heads', 4);
  const flow = num(model, 'flowBlocks', 6) * num(model, 'flowHidden', 64);
  return {
    parameters: layers * (4 * d * d + 2 * d * ff) + 4 * flow * num(model, 'flowHidden', 64),
    activationsPerExample: layers * (points * (16 * d + 3 * ff) + 4 * heads * points * points) + 16 * flow,
    width: '/model/dim',
  };
}
