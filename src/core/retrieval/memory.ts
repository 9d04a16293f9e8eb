/**
 * The retrieval models' shapes for the training memory estimate (src/core/memoryEstimate.ts, which
 * explains the counting): parameters, activations kept per example, the width option to blame.
 * Read from the spec's options before anything is built; no TensorFlow.js (the manifest uses it).
 */
import { optionNumber as num, type MemoryShape as Shape } from '../memoryShape';
import type { ResolvedSpec } from '../spec/types';

export function retrievalShape(spec: ResolvedSpec): Shape {
  const task = spec.task;
  const model = spec.model;
  const tokens = num(task, 'seqLen', 10);
  const vs = num(task, 'searchFeatures', 8);
  const vp = num(task, 'retrievalFeatures', 8);
  const features = vs + vp + vs * vp;
  const d = num(model, 'dim', 64);
  const searchDim = num(model, 'searchDim', d);
  const valueDim = num(model, 'valueDim', d);
  const maps = model.name === 'compositional-attention' ? num(model, 'searches', 2) * (1 + num(model, 'retrievals', 4)) : num(model, 'heads', 2);
  const width = Math.max(d, searchDim, valueDim);
  return {
    parameters: features * d + 4 * d * d + 3 * d * (searchDim + valueDim),
    activationsPerExample: 16 * tokens * width + 4 * maps * tokens * tokens,
    width: '/model/dim',
  };
}
