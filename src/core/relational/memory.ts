/**
 * The relational models' shapes for the training memory estimate (src/core/memoryEstimate.ts, which
 * explains the counting): parameters, activations kept per example, the width option to blame.
 * Read from the spec's options before anything is built; no TensorFlow.js (the manifest uses it).
 */
import { optionNumber as num, type MemoryShape as Shape } from '../memoryShape';
import type { ResolvedSpec } from '../spec/types';

/** The relational tasks' longest sequence (dist3, identity-rules): 9 objects. */
const RELATIONAL_OBJECTS = 9;
const ENCODER_PARAMETERS = 200_000;
const ENCODER_ACTIVATIONS_PER_OBJECT = 50_000;
const OBJECT_FEATURES = 128;

export function relationalShape(spec: ResolvedSpec): Shape {
  const model = spec.model;
  const t = RELATIONAL_OBJECTS;
  const base = { parameters: ENCODER_PARAMETERS, activationsPerExample: t * ENCODER_ACTIVATIONS_PER_OBJECT };
  switch (model.name) {
    case 'relational-transformer': {
      const ff = num(model, 'feedForward', 512);
      const heads = num(model, 'heads', 8) * (1 + num(model, 'retrievals', 8));
      return {
        parameters: base.parameters + 6 * OBJECT_FEATURES * OBJECT_FEATURES + 2 * OBJECT_FEATURES * ff,
        activationsPerExample: base.activationsPerExample + t * (16 * OBJECT_FEATURES + 3 * ff) + 4 * heads * t * t,
        width: '/model/feedForward',
      };
    }
    case 'relational-lstm': {
      const h = num(model, 'hidden', 512);
      return {
        parameters: base.parameters + 4 * h * (OBJECT_FEATURES + h + 1),
        activationsPerExample: base.activationsPerExample + 16 * t * h,
        width: '/model/hidden',
      };
    }
    default: // corelnet: a T x T similarity and a small decoder
      return { ...base, parameters: base.parameters + 2 * OBJECT_FEATURES * OBJECT_FEATURES + 256 * t * t, width: '/model' };
  }
}
