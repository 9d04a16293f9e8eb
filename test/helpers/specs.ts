/** Resolved specs for tests, small enough to train in seconds. */
import type { ResolvedSpec } from '../../src/core/spec/types';

export function retrievalSpec(overrides: {
  seed?: number;
  training?: Partial<ResolvedSpec['training']>;
  model?: Record<string, unknown>;
  task?: Record<string, unknown>;
} = {}): ResolvedSpec {
  return {
    formatVersion: 1,
    kind: 'train',
    name: 'test-retrieval',
    seed: overrides.seed ?? 0,
    task: { name: 'contextual-retrieval', seqLen: 10, searchFeatures: 2, retrievalFeatures: 4, split: 'ood', coefficients: 'random', ...overrides.task },
    model: { name: 'multi-head-attention', dim: 16, heads: 2, concat: true, ...overrides.model },
    objective: { name: 'l1' },
    training: {
      steps: 20,
      batchSize: 16,
      learningRate: 1e-3,
      optimizer: 'adam',
      logEvery: 5,
      evalEvery: 10,
      evalBatches: 2,
      checkpointEvery: 10,
      keepCheckpoints: 3,
      ...overrides.training,
    },
  };
}

/**
 * A resolved spec for run-store tests: written to spec.json and read back, never trained (the
 * store reads only its name, training.steps and training.keepCheckpoints).
 */
export function storeSpec(name: string, training: Partial<ResolvedSpec['training']> = {}): ResolvedSpec {
  return {
    formatVersion: 1,
    kind: 'train',
    name,
    seed: 1,
    task: { name: 'contextual-retrieval' },
    model: { name: 'multi-head-attention' },
    objective: { name: 'l1' },
    training: {
      steps: 100,
      batchSize: 8,
      learningRate: 0.001,
      optimizer: 'adam',
      logEvery: 10,
      evalEvery: 50,
      evalBatches: 2,
      checkpointEvery: 10,
      keepCheckpoints: 3,
      ...training,
    },
  };
}
