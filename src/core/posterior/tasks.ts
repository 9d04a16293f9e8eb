/**
 * Posterior tasks: every batch is B fresh data sets simulated from a probabilistic model with
 * theta ~ N(0, I). Inputs are the padded tokens (+ presence flag), targets the true theta.
 * The split 'train' is where training data comes from: every data set is new, so its metrics are
 * held-out metrics. The regression tasks can draw it from a Gaussian process instead of the
 * model (misspecification), and add the evaluation split 'gaussian-process'; those data sets
 * have no true theta.
 */
import type { Task } from '../registry';
import type { Rng } from '../rng';
import { simulateBatch, type DataSets, type PosteriorBatch, type SimulationSizes } from './dataSets';
import { gaussianProcessBatch } from './gaussianProcess';
import { gaussianMeanPosterior, linearRegressionPosterior, type GaussianPosterior } from './exact';
import { GaussianMeanModel } from './models/gaussianMean';
import { GaussianMixtureModel } from './models/gaussianMixture';
import {
  linearClassification,
  linearRegression,
  NOISE_VARIANCE,
  nonlinearClassification,
  nonlinearRegression,
} from './models/parametricFunction';
import type { ProbabilisticModel } from './models/types';
import {
  DATA_SOURCES,
  type DataSource,
  type GaussianMeanOptions,
  type GaussianMixtureOptions,
  type LinearClassificationOptions,
  type LinearRegressionOptions,
  type NonlinearClassificationOptions,
  type NonlinearRegressionOptions,
} from './options';

/** Exact posterior of data set b of a batch, for the conjugate models. */
export type ExactPosterior = (sets: DataSets, b: number) => GaussianPosterior;

export { DATA_SOURCES, type DataSource } from './options';
export const GAUSSIAN_PROCESS_SPLIT = 'gaussian-process';

export interface DataSourceOptions {
  /** Where the training split's data sets come from (default 'simulator'). */
  dataSource?: DataSource;
  /** Adds the evaluation split 'gaussian-process' (default false). */
  gaussianProcessSplit?: boolean;
}

export class PosteriorTask implements Task {
  readonly splits: readonly string[];
  readonly inputShape: readonly number[];
  readonly outputShape: readonly number[];
  readonly dataSource: DataSource;

  constructor(
    readonly model: ProbabilisticModel,
    readonly sizes: SimulationSizes,
    readonly exactPosterior?: ExactPosterior,
    sources: DataSourceOptions = {},
  ) {
    this.inputShape = [sizes.contextMax, model.tokenDim + 1];
    this.outputShape = [model.thetaDim];
    this.dataSource = sources.dataSource ?? 'simulator';
    this.splits = sources.gaussianProcessSplit ? ['train', GAUSSIAN_PROCESS_SPLIT] : ['train'];
  }

  /** Where the data sets of a split come from. */
  sourceOf(split: string): DataSource {
    if (!this.splits.includes(split)) {
      throw new Error(`unknown split '${split}': expected one of ${this.splits.join(', ')}`);
    }
    return split === GAUSSIAN_PROCESS_SPLIT ? 'gaussian-process' : this.dataSource;
  }

  batch(size: number, split: string, rng: Rng): PosteriorBatch {
    return this.sourceOf(split) === 'gaussian-process'
      ? gaussianProcessBatch(this.model, size, this.sizes, rng)
      : simulateBatch(this.model, size, this.sizes, rng);
  }
}

export const isPosteriorTask = (task: Task): task is PosteriorTask => task instanceof PosteriorTask;

const pointsOf = (sets: DataSets, b: number) => ({
  x: sets.x.subarray(b * sets.capacity * sets.xDim, (b + 1) * sets.capacity * sets.xDim),
  y: sets.y.subarray(b * sets.capacity, (b + 1) * sets.capacity),
});

export const gaussianMeanExact: ExactPosterior = (sets, b) => gaussianMeanPosterior(pointsOf(sets, b).x, sets.sizes[b], sets.xDim);
export const linearRegressionExact: ExactPosterior = (sets, b) => {
  const { x, y } = pointsOf(sets, b);
  return linearRegressionPosterior(x, y, sets.sizes[b], sets.xDim, NOISE_VARIANCE);
};

// ---------------------------------------------------------------------------------------------
// Factories (src/core/posterior/runtime.ts joins them to the manifest's tasks).

function sizesOf(sizes: SimulationSizes): SimulationSizes {
  if (sizes.contextMin > sizes.contextMax) {
    throw new Error(`task.contextMin (${sizes.contextMin}) must not exceed task.contextMax (${sizes.contextMax})`);
  }
  return { contextMin: sizes.contextMin, contextMax: sizes.contextMax, heldOut: sizes.heldOut };
}

/** The data-source options of a task file; omitted fields take their defaults (also for runs saved before they existed). */
function dataSourceOptionsOf(options: DataSourceOptions): DataSourceOptions {
  const { dataSource = 'simulator', gaussianProcessSplit = false } = options;
  if (!DATA_SOURCES.includes(dataSource)) {
    throw new Error(`task.dataSource must be one of ${DATA_SOURCES.map((s) => `'${s}'`).join(', ')}, got ${JSON.stringify(dataSource)}`);
  }
  if (typeof gaussianProcessSplit !== 'boolean') {
    throw new Error(`task.gaussianProcessSplit must be true or false, got ${JSON.stringify(gaussianProcessSplit)}`);
  }
  return { dataSource, gaussianProcessSplit };
}

/** A task factory: the probabilistic model its options describe, with the exact posterior where there is one. */
function posteriorTask<O extends SimulationSizes & DataSourceOptions>(
  build: (options: O) => { model: ProbabilisticModel; exact?: ExactPosterior },
  takesSources = false,
): (options: O) => PosteriorTask {
  return (options) => {
    const { model, exact } = build(options);
    return new PosteriorTask(model, sizesOf(options), exact, takesSources ? dataSourceOptionsOf(options) : {});
  };
}

const hiddenWidths = (o: { layers: number; hidden: number }) => new Array<number>(o.layers).fill(o.hidden);

export const posteriorTaskFactories = {
  'posterior-gaussian-mean': posteriorTask((o: GaussianMeanOptions) => ({ model: new GaussianMeanModel(o.dim), exact: gaussianMeanExact })),
  'posterior-gaussian-mixture': posteriorTask((o: GaussianMixtureOptions) => ({ model: new GaussianMixtureModel(o.dim, o.clusters) })),
  'posterior-linear-regression': posteriorTask((o: LinearRegressionOptions) => ({ model: linearRegression(o.dim), exact: linearRegressionExact }), true),
  'posterior-linear-classification': posteriorTask((o: LinearClassificationOptions) => ({ model: linearClassification(o.dim, o.classes) })),
  'posterior-nonlinear-regression': posteriorTask(
    (o: NonlinearRegressionOptions) => ({ model: nonlinearRegression(o.dim, hiddenWidths(o), o.activation) }),
    true,
  ),
  'posterior-nonlinear-classification': posteriorTask((o: NonlinearClassificationOptions) => ({
    model: nonlinearClassification(o.dim, o.classes, hiddenWidths(o), o.activation),
  })),
};
