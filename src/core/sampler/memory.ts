/**
 * The diffusion sampler's shape for the training memory estimate (src/core/memoryEstimate.ts,
 * which explains the counting): a trajectory's T transitions go through the network as one
 * batch, so activations scale with steps x width per example. No TensorFlow.js (the manifest uses it).
 */
import { optionNumber as num, type MemoryShape as Shape } from '../memoryShape';
import type { ResolvedSpec } from '../spec/types';

export function samplerShape(spec: ResolvedSpec): Shape {
  const model = spec.model;
  const hidden = num(model, 'hidden', 64);
  const harmonics = num(model, 'harmonics', 64);
  const steps = num(model, 'steps', 100);
  return {
    parameters: 2 * harmonics * hidden + 5 * hidden * hidden + 200 * hidden,
    activationsPerExample: steps * (4 * harmonics + 16 * hidden),
    width: '/model/hidden',
  };
}
