/**
 * Posterior tasks: every batch is B fresh data sets simulated from a probabilistic model with
 * theta ~ N(0, I). Inputs are the padded tokens (+ presence flag), targets the true theta.
 * The split 'train' is where training data comes from: every data set is new, so its metrics are
 * held-out metrics. The regression tasks can draw it from a Gaussian process instead of the
 * model (misspecification), and add the evaluation split 'gaussian-process'; those data sets
 * have no true theta.
 */
import type { Task, TaskEntry } from '../registry';
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
  type Activation,
} from './models/parametricFunction';
import type { ProbabilisticModel } from './models/types';

/** Exact posterior of data set b of a batch, for the conjugate models. */
export type ExactPosterior = (sets: DataSets, b: number) => GaussianPosterior;

/** Where data sets come from: the assumed model itself, or a Gaussian process (no true theta). */
export type DataSource = 'simulator' | 'gaussian-process';
export const DATA_SOURCES: readonly DataSource[] = ['simulator', 'gaussian-process'];
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
// Registry entries.

const SIZE_OPTIONS = {
  contextMin: { type: 'integer', minimum: 1, default: 64, description: 'Fewest points in a data set (the paper: 64).' },
  contextMax: {
    type: 'integer',
    minimum: 1,
    default: 127,
    description: 'Most points in a data set (the paper: 127). Sizes are drawn uniformly in [contextMin, contextMax]; smaller sets are padded and masked.',
  },
  heldOut: { type: 'integer', minimum: 1, default: 100, description: 'Held-out points per data set, drawn from the same theta, for the predictive metrics.' },
};

const dimOption = (fallback: number, what: string) => ({ type: 'integer', minimum: 1, maximum: 100, default: fallback, description: what });
const classesOption = { type: 'integer', minimum: 2, maximum: 10, default: 2, description: 'Number of classes C.' };
const hiddenOptions = {
  hidden: { type: 'integer', minimum: 1, maximum: 256, default: 32, description: 'Units per hidden layer of the simulator network (the paper: 32).' },
  layers: { type: 'integer', minimum: 1, maximum: 2, default: 1, description: 'Hidden layers of the simulator network (1 or 2).' },
  activation: { enum: ['relu', 'tanh'], default: 'relu', description: 'Activation of the simulator network.' },
};

function sizesOf(options: Record<string, unknown>): SimulationSizes {
  const sizes = options as unknown as SimulationSizes;
  if (sizes.contextMin > sizes.contextMax) {
    throw new Error(`task.contextMin (${sizes.contextMin}) must not exceed task.contextMax (${sizes.contextMax})`);
  }
  return { contextMin: sizes.contextMin, contextMax: sizes.contextMax, heldOut: sizes.heldOut };
}

/** Only the regression tasks take these: a GP draws real targets, and its data sets have no theta. */
const DATA_SOURCE_OPTIONS = {
  dataSource: {
    enum: [...DATA_SOURCES],
    default: 'simulator',
    description:
      "Where the training data sets come from: 'simulator' (the assumed model, theta ~ N(0, I); the default) or 'gaussian-process' " +
      '(misspecified data: x ~ N(0, I), f ~ GP(0, RBF kernel, lengthscale 1, variance 1), y = f(x) + eps, eps ~ N(0, 0.25)). ' +
      "GP data sets have no true theta, so only 'reverse-kl' can train on them.",
  },
  gaussianProcessSplit: {
    type: 'boolean',
    default: false,
    description:
      "Also evaluate on Gaussian-process data sets (context and held-out points from one GP draw): adds the split 'gaussian-process', " +
      'whose metrics are logged as eval/gaussian-process/<metric> (those that need the true theta are left out).',
  },
};

/** The data-source options of a task file; omitted fields take their defaults (also for runs saved before they existed). */
function dataSourceOptionsOf(options: Record<string, unknown>): DataSourceOptions {
  const { dataSource = 'simulator', gaussianProcessSplit = false } = options;
  if (!DATA_SOURCES.includes(dataSource as DataSource)) {
    throw new Error(`task.dataSource must be one of ${DATA_SOURCES.map((s) => `'${s}'`).join(', ')}, got ${JSON.stringify(dataSource)}`);
  }
  if (typeof gaussianProcessSplit !== 'boolean') {
    throw new Error(`task.gaussianProcessSplit must be true or false, got ${JSON.stringify(gaussianProcessSplit)}`);
  }
  return { dataSource: dataSource as DataSource, gaussianProcessSplit };
}

function posteriorTaskEntry(
  name: string,
  description: string,
  modelOptions: Record<string, unknown>,
  build: (options: Record<string, unknown>) => { model: ProbabilisticModel; exact?: ExactPosterior },
  sourceOptions: Record<string, unknown> = {},
): TaskEntry {
  const takesSources = Object.keys(sourceOptions).length > 0;
  return {
    name,
    description,
    options: { type: 'object', properties: { ...modelOptions, ...SIZE_OPTIONS, ...sourceOptions } },
    create(options) {
      const { model, exact } = build(options);
      return new PosteriorTask(model, sizesOf(options), exact, takesSources ? dataSourceOptionsOf(options) : {});
    },
  };
}

const hiddenWidths = (o: Record<string, unknown>) => new Array<number>(o.layers as number).fill(o.hidden as number);

export const posteriorTaskEntries: TaskEntry[] = [
  posteriorTaskEntry(
    'posterior-gaussian-mean',
    'Posterior of a Gaussian mean: x ~ N(mu, I), mu ~ N(0, I). Exact posterior known (symmetric KL reported).',
    { dim: dimOption(2, 'Dimension d of mu and of each point.') },
    (o) => ({ model: new GaussianMeanModel(o.dim as number), exact: gaussianMeanExact }),
  ),
  posteriorTaskEntry(
    'posterior-gaussian-mixture',
    'Posterior of the means of a Gaussian mixture (K equal-weight components N(mu_k, 0.1 I)): multimodal, a test for the flow family.',
    { dim: dimOption(2, 'Dimension d of each point.'), clusters: { type: 'integer', minimum: 2, maximum: 10, default: 2, description: 'Components K.' } },
    (o) => ({ model: new GaussianMixtureModel(o.dim as number, o.clusters as number) }),
  ),
  posteriorTaskEntry(
    'posterior-linear-regression',
    'Posterior of linear regression weights and bias: y = w.x + b + eps, eps ~ N(0, 0.25), x ~ N(0, I). Exact posterior known.',
    { dim: dimOption(1, 'Input features d (theta has d + 1 numbers).') },
    (o) => ({ model: linearRegression(o.dim as number), exact: linearRegressionExact }),
    DATA_SOURCE_OPTIONS,
  ),
  posteriorTaskEntry(
    'posterior-linear-classification',
    'Posterior of linear classification weights: y ~ Cat(softmax(W^T [x, 1] / 0.1)), x ~ N(0, I).',
    { dim: dimOption(2, 'Input features d (theta has (d + 1) C numbers).'), classes: classesOption },
    (o) => ({ model: linearClassification(o.dim as number, o.classes as number) }),
  ),
  posteriorTaskEntry(
    'posterior-nonlinear-regression',
    'Posterior of the weights of a small network (a Bayesian neural network): y = f(x; theta) + eps, eps ~ N(0, 0.25).',
    { dim: dimOption(1, 'Input features d.'), ...hiddenOptions },
    (o) => ({ model: nonlinearRegression(o.dim as number, hiddenWidths(o), o.activation as Activation) }),
    DATA_SOURCE_OPTIONS,
  ),
  posteriorTaskEntry(
    'posterior-nonlinear-classification',
    'Posterior of the weights of a small classifier network: y ~ Cat(softmax(f(x; theta) / 0.1)).',
    { dim: dimOption(2, 'Input features d.'), classes: classesOption, ...hiddenOptions },
    (o) => ({ model: nonlinearClassification(o.dim as number, o.classes as number, hiddenWidths(o), o.activation as Activation) }),
  ),
];
