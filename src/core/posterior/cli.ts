/**
 * `model-lab posterior <run> --data file.json --samples N`: samples of a trained network's
 * posterior for the user's data set, from one forward pass. Input `{"x": [[features...] per
 * point], "y": [...]}` (y omitted for the Gaussian mean and mixture tasks), output
 * `{"samples": [[theta...] per sample]}`. Core stays free of the run store: the caller passes
 * the run's resolved spec and its checkpoints (src/runs/reader.ts readSpec, src/runs/checkpointSource.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { buildExperiment } from '../experiment';
import { restoreWeights } from '../optimizers';
import { createRng } from '../rng';
import type { CheckpointSource } from '../sink';
import type { ResolvedSpec } from '../spec/types';
import { disposeExperiment } from '../train';
import { emptyDataSets, networkInputs, type DataSets } from './dataSets';
import { AmortizedPosteriorModel } from './model';
import type { ProbabilisticModel } from './models/types';
import { isPosteriorTask } from './tasks';

/** Bad data or a run that is not a posterior run: the message says what was expected. */
export class PosteriorInputError extends Error {
  override readonly name = 'PosteriorInputError';
}

/** Most samples one call draws (README, "Limits"): 10^5 x a few parameters is a few MB of JSON. */
export const MAX_POSTERIOR_SAMPLES = 100_000;

/** Finite, and still finite as the float32 the network computes in (1e308 is not). */
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && Number.isFinite(Math.fround(v));

/** Checks the user's data against the run's probabilistic model and packs it as one data set. */
export function parseDataSet(data: unknown, model: ProbabilisticModel, source = 'data'): DataSets {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    throw new PosteriorInputError(`${source}: expected a JSON object {"x": [[...], ...], "y": [...]}`);
  }
  const { x, y } = data as { x?: unknown; y?: unknown };
  if (!Array.isArray(x) || x.length === 0) {
    throw new PosteriorInputError(`${source}: "x" must be a non-empty array with one array of ${model.xDim} numbers per point`);
  }
  x.forEach((row, i) => {
    if (!Array.isArray(row) || row.length !== model.xDim || !row.every(isNumber)) {
      throw new PosteriorInputError(`${source}: x[${i}] must be an array of ${model.xDim} finite numbers within float32's range (|v| < 3.4e38; this run's model '${model.name}' has ${model.xDim} features per point)`);
    }
  });
  const sets = emptyDataSets(1, x.length, model.xDim);
  sets.sizes[0] = x.length;
  sets.x.set((x as number[][]).flat());
  if (model.target !== 'none') {
    if (!Array.isArray(y) || y.length !== x.length) {
      throw new PosteriorInputError(`${source}: "y" must be an array with one ${model.target === 'class' ? 'class index' : 'number'} per point (${x.length} points in "x")`);
    }
    y.forEach((value, i) => {
      const valid = model.target === 'class' ? Number.isInteger(value) && value >= 0 && value < model.classes : isNumber(value);
      if (!valid) {
        const expected = model.target === 'class' ? `an integer class index in 0..${model.classes - 1}` : 'a finite number';
        throw new PosteriorInputError(`${source}: y[${i}] must be ${expected}, got ${JSON.stringify(value)}`);
      }
    });
    sets.y.set(y as number[]);
  }
  return sets;
}

/** n samples [n][P] of q(theta | data) from a trained amortized-posterior model. Seeded: same call, same samples. */
export function samplePosterior(model: AmortizedPosteriorModel, probabilistic: ProbabilisticModel, data: DataSets, n: number, seed = 0): number[][] {
  return tf.tidy(() => {
    const condition = model.forward(networkInputs(probabilistic, data)).output;
    const noise = tf.randomNormal([1, n, probabilistic.thetaDim], 0, 1, 'float32', createRng(seed, 'posterior-cli').int32());
    return (model.family.sample(condition, noise).theta.arraySync() as number[][][])[0];
  });
}

/** The CLI's logic: the latest checkpoint of the run, the user's data, n samples. */
export async function posteriorSamples(spec: ResolvedSpec, checkpoints: CheckpointSource, data: unknown, n: number): Promise<{ samples: number[][] }> {
  if (!Number.isInteger(n) || n < 1 || n > MAX_POSTERIOR_SAMPLES) {
    throw new PosteriorInputError(`--samples must be a positive integer at most ${MAX_POSTERIOR_SAMPLES}, got ${n}`);
  }
  const steps = checkpoints.steps();
  if (steps.length === 0) throw new PosteriorInputError(`run '${spec.name}' has no checkpoint yet`);
  const experiment = buildExperiment(spec);
  try {
    const { task, model } = experiment;
    if (!isPosteriorTask(task) || !(model instanceof AmortizedPosteriorModel)) {
      throw new PosteriorInputError(`run '${spec.name}' is not a posterior run (task '${spec.task.name}', model '${spec.model.name}')`);
    }
    const sets = parseDataSet(data, task.model);
    const checkpoint = await checkpoints.load(steps[steps.length - 1]);
    restoreWeights(model.parameters, checkpoint.weights);
    tf.dispose([...checkpoint.weights, ...checkpoint.optimizer].map((t) => t.tensor));
    const samples = samplePosterior(model, task.model, sets, n, spec.seed);
    // NaN or Infinity would print as null: data far outside the training range overflows float32.
    if (!samples.every((theta) => theta.every(Number.isFinite))) {
      throw new PosteriorInputError(
        "the network's samples are not finite numbers (NaN or Infinity): the data's values are too far outside what the network was trained on",
      );
    }
    return { samples };
  } finally {
    disposeExperiment(experiment);
  }
}
