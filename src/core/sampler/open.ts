/**
 * A sampler run's target and sampler at one checkpoint, for the Sampler panel and
 * `model-lab sample`: built from the run's resolved spec, weights restored.
 */
import { buildExperiment } from '../experiment';
import { restoreWeights } from '../optimizers';
import type { Checkpoint } from '../sink';
import type { ResolvedSpec } from '../spec/types';
import { disposeExperiment } from '../train';
import { DiffusionSampler } from './sampler';
import { isSamplerTask, type SamplerTarget } from './targets';

export interface OpenedSampler {
  readonly step: number;
  readonly target: SamplerTarget;
  readonly sampler: DiffusionSampler;
  dispose(): void;
}

/** The caller keeps (and disposes) the checkpoint's tensors. */
export function openSampler(spec: ResolvedSpec, checkpoint: Checkpoint): OpenedSampler {
  const experiment = buildExperiment(spec);
  const { task, model } = experiment;
  try {
    if (!isSamplerTask(task) || !(model instanceof DiffusionSampler)) {
      throw new Error(`run '${spec.name}' is not a sampler run (task '${spec.task.name}', model '${spec.model.name}'): it needs a 'sampler-*' task and model 'diffusion-sampler'`);
    }
    restoreWeights(model.parameters, checkpoint.weights);
    return { step: checkpoint.step, target: task.target, sampler: model, dispose: () => disposeExperiment(experiment) };
  } catch (error) {
    disposeExperiment(experiment);
    throw error;
  }
}
