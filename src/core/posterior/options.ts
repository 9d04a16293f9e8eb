/**
 * The option schemas of the posterior lab's tasks, model and objectives (TypeBox: each schema is
 * the JSON schema experiment files are checked against, `Static<...>` the options' type). No
 * TensorFlow.js: the manifest, and through it the extension host, import this file.
 */
import { componentOptions, stringEnum, Type, type Static } from '../options';

/** Where data sets come from: the assumed model itself, or a Gaussian process (no true theta). */
export const DATA_SOURCES = ['simulator', 'gaussian-process'] as const;
export type DataSource = (typeof DATA_SOURCES)[number];

const sizeOptions = () => ({
  contextMin: Type.Integer({ minimum: 1, default: 64, description: 'Fewest points in a data set (the paper: 64).' }),
  contextMax: Type.Integer({
    minimum: 1,
    default: 127,
    description: 'Most points in a data set (the paper: 127). Sizes are drawn uniformly in [contextMin, contextMax]; smaller sets are padded and masked.',
  }),
  heldOut: Type.Integer({ minimum: 1, default: 100, description: 'Held-out points per data set, drawn from the same theta, for the predictive metrics.' }),
});

const dimOption = (fallback: number, what: string) => Type.Integer({ minimum: 1, maximum: 100, default: fallback, description: what });
const classesOption = () => Type.Integer({ minimum: 2, maximum: 10, default: 2, description: 'Number of classes C.' });
const hiddenOptions = () => ({
  hidden: Type.Integer({ minimum: 1, maximum: 256, default: 32, description: 'Units per hidden layer of the simulator network (the paper: 32).' }),
  layers: Type.Integer({ minimum: 1, maximum: 2, default: 1, description: 'Hidden layers of the simulator network (1 or 2).' }),
  activation: stringEnum(['relu', 'tanh'], { default: 'relu', description: 'Activation of the simulator network.' }),
});

/**
 * Only the regression tasks take these: a GP draws real targets, and its data sets have no theta.
 * Optional in the type: runs saved before they existed lack them (the task reads the defaults).
 */
const dataSourceOptions = () => ({
  dataSource: Type.Optional(
    stringEnum(DATA_SOURCES, {
      default: 'simulator',
      description:
        "Where the training data sets come from: 'simulator' (the assumed model, theta ~ N(0, I); the default) or 'gaussian-process' " +
        '(misspecified data: x ~ N(0, I), f ~ GP(0, RBF kernel, lengthscale 1, variance 1), y = f(x) + eps, eps ~ N(0, 0.25)). ' +
        "GP data sets have no true theta, so only 'reverse-kl' can train on them.",
    }),
  ),
  gaussianProcessSplit: Type.Optional(
    Type.Boolean({
      default: false,
      description:
        "Also evaluate on Gaussian-process data sets (context and held-out points from one GP draw): adds the split 'gaussian-process', " +
        'whose metrics are logged as eval/gaussian-process/<metric> (those that need the true theta are left out).',
    }),
  ),
});

export const gaussianMeanOptions = componentOptions({ dim: dimOption(2, 'Dimension d of mu and of each point.'), ...sizeOptions() });
export const gaussianMixtureOptions = componentOptions({
  dim: dimOption(2, 'Dimension d of each point.'),
  clusters: Type.Integer({ minimum: 2, maximum: 10, default: 2, description: 'Components K.' }),
  ...sizeOptions(),
});
export const linearRegressionOptions = componentOptions({
  dim: dimOption(1, 'Input features d (theta has d + 1 numbers).'),
  ...sizeOptions(),
  ...dataSourceOptions(),
});
export const linearClassificationOptions = componentOptions({
  dim: dimOption(2, 'Input features d (theta has (d + 1) C numbers).'),
  classes: classesOption(),
  ...sizeOptions(),
});
export const nonlinearRegressionOptions = componentOptions({
  dim: dimOption(1, 'Input features d.'),
  ...hiddenOptions(),
  ...sizeOptions(),
  ...dataSourceOptions(),
});
export const nonlinearClassificationOptions = componentOptions({
  dim: dimOption(2, 'Input features d.'),
  classes: classesOption(),
  ...hiddenOptions(),
  ...sizeOptions(),
});

export type GaussianMeanOptions = Static<typeof gaussianMeanOptions>;
export type GaussianMixtureOptions = Static<typeof gaussianMixtureOptions>;
export type LinearRegressionOptions = Static<typeof linearRegressionOptions>;
export type LinearClassificationOptions = Static<typeof linearClassificationOptions>;
export type NonlinearRegressionOptions = Static<typeof nonlinearRegressionOptions>;
export type NonlinearClassificationOptions = Static<typeof nonlinearClassificationOptions>;

export const amortizedPosteriorOptions = componentOptions({
  encoder: stringEnum(['transformer', 'deepsets', 'gru'], {
    default: 'transformer',
    description: "Data-set encoder: 'transformer' (no positional encoding, CLS token: permutation invariant), 'deepsets' (masked mean pooling), 'gru' (order-dependent, a contrast).",
  }),
  family: stringEnum(['gaussian', 'flow'], {
    default: 'gaussian',
    description: "Posterior family: 'gaussian' (diagonal) or 'flow' (affine coupling normalising flow on top of a conditional affine layer).",
  }),
  dim: Type.Integer({ minimum: 4, maximum: 1024, default: 64, description: 'Encoder width (the paper: 256).' }),
  layers: Type.Integer({ minimum: 1, maximum: 8, default: 2, description: 'Encoder layers (the paper: 4).' }),
  heads: Type.Integer({ minimum: 1, maximum: 16, default: 4, description: 'Attention heads (transformer); must divide dim.' }),
  feedForward: Type.Integer({ minimum: 4, maximum: 4096, default: 128, description: 'Feed-forward width of the transformer layers (the paper: 1024).' }),
  flowBlocks: Type.Integer({ minimum: 1, maximum: 16, default: 6, description: 'Coupling blocks of the flow family (the paper: 6).' }),
  flowHidden: Type.Integer({ minimum: 4, maximum: 1024, default: 64, description: 'Width of the coupling subnets (the paper: 128).' }),
  setSize: Type.Boolean({
    default: false,
    description:
      "Also give the head log(number of points), scaled to [-1, 1] over contextMin..contextMax. The encoder's summary (attention or mean pooling) hardly depends on n, but the posterior's width does (sd about 1/sqrt(n)); the paper's networks do without it.",
  }),
});
export type AmortizedPosteriorOptions = Static<typeof amortizedPosteriorOptions>;

export const forwardKlOptions = componentOptions({});

export const reverseKlOptions = componentOptions({
  samples: Type.Integer({ minimum: 1, maximum: 64, default: 4, description: 'Samples of q per data set for the ELBO gradient.' }),
  warmupSteps: Type.Integer({
    minimum: 0,
    default: 500,
    description: 'Steps over which the weight of the KL term rises linearly from 0 to 1 (0: no warm-up).',
  }),
});
export type ReverseKlOptions = Static<typeof reverseKlOptions>;
