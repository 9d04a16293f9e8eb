/**
 * Posterior tasks: every batch is B fresh data sets simulated from a probabilistic model with
 * theta ~ N(0, I). Inputs are the padded tokens (+ presence flag), targets the true theta.
 * There is one split, 'train': every data set is new, so its metrics are held-out metrics.
 */
import type { Task, TaskEntry } from '../registry';
import type { Rng } from '../rng';
import { simulateBatch, type DataSets, type PosteriorBatch, type SimulationSizes } from './dataSets';
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

export class PosteriorTask implements Task {
  readonly splits = ['train'] as const;
  readonly inputShape: readonly number[];
  readonly outputShape: readonly number[];

  constructor(
    readonly model: ProbabilisticModel,
    readonly sizes: SimulationSizes,
    readonly exactPosterior?: ExactPosterior,
  ) {
    this.inputShape = [sizes.contextMax, model.tokenDim + 1];
    this.outputShape = [model.thetaDim];
  }

  batch(size: number, split: string, rng: Rng): PosteriorBatch {
    if (!this.splits.includes(split as 'train')) {
      throw new Error(`unknown split '${split}': expected one of ${this.splits.join(', ')}`);
    }
    return simulateBatch(this.model, size, this.sizes, rng);
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

function posteriorTaskEntry(
  name: string,
  description: string,
  modelOptions: Record<string, unknown>,
  build: (options: Record<string, unknown>) => { model: ProbabilisticModel; exact?: ExactPosterior },
): TaskEntry {
  return {
    name,
    description,
    options: { type: 'object', properties: { ...modelOptions, ...SIZE_OPTIONS } },
    create(options) {
      const { model, exact } = build(options);
      return new PosteriorTask(model, sizesOf(options), exact);
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
  ),
  posteriorTaskEntry(
    'posterior-nonlinear-classification',
    'Posterior of the weights of a small classifier network: y ~ Cat(softmax(f(x; theta) / 0.1)).',
    { dim: dimOption(2, 'Input features d.'), classes: classesOption, ...hiddenOptions },
    (o) => ({ model: nonlinearClassification(o.dim as number, o.classes as number, hiddenWidths(o), o.activation as Activation) }),
  ),
];
