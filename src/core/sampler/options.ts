/**
 * The option schemas of the sampler lab's targets (tasks), sampler (model) and losses
 * (objectives), in TypeBox: each schema is the JSON schema experiment files are checked against,
 * `Static<...>` the options' type. No TensorFlow.js: the manifest, and through it the extension
 * host, import this file. Defaults follow the paper's official code (GFNOrg/gfn-diffusion) except
 * where a laptop CPU needs smaller numbers; each such default says so
 * (docs/research/diffusion-samplers.md).
 */
import { componentOptions, Type, type Static } from '../options';
import { GMM25_MEANS, GMM25_STD, MAX_GMM_COMPONENTS, MAX_GMM_DIMENSION } from './mixtures';

const modeRuleOptions = (radius: number, share: number, why: string) => ({
  modeRadius: Type.Number({
    exclusiveMinimum: 0,
    default: radius,
    description: `Modes covered: the radius around a component's mean within which a sample counts for it (${why}).`,
  }),
  modeShare: Type.Number({
    exclusiveMinimum: 0,
    maximum: 1,
    default: share,
    description: 'Modes covered: a mode counts when at least this share of all samples lies within modeRadius of its mean.',
  }),
});

export const gmm25Options = componentOptions({
  ...modeRuleOptions(1.5, 0.01, 'default 1.5, 2.7 standard deviations of a component; the share default 0.01 is a quarter of the 1/25 a perfect sampler puts there'),
});
export const gmm40Options = componentOptions({
  ...modeRuleOptions(4, 0.00625, 'default 4, 3 standard deviations of a component; the share default 0.00625 is a quarter of 1/40'),
});
/** A mixture the user writes: its defaults are 25GMM's, so `{ "name": "sampler-gmm" }` is 25GMM (named 'gmm'). */
export const gmmOptions = componentOptions({
  means: Type.Array(Type.Array(Type.Number({ minimum: -1e6, maximum: 1e6 }), { minItems: 1, maxItems: MAX_GMM_DIMENSION }), {
    minItems: 1,
    maxItems: MAX_GMM_COMPONENTS,
    default: GMM25_MEANS,
    description: "The components' means, one row of coordinates each (all rows as long: the dimension). Default: 25GMM's grid {-10, -5, 0, 5, 10}^2.",
  }),
  weights: Type.Optional(
    Type.Array(Type.Number({ exclusiveMinimum: 0, maximum: 1e6 }), {
      minItems: 1,
      maxItems: MAX_GMM_COMPONENTS,
      description: 'One positive weight per component. Omitted: 1/K each (recorded in the run). They need not sum to 1: log Z = log of their sum.',
    }),
  ),
  std: Type.Number({
    exclusiveMinimum: 0,
    maximum: 1e6,
    default: GMM25_STD,
    description: "Every component's standard deviation per axis (isotropic). Default: 25GMM's sqrt(0.3) = 0.5477.",
  }),
  ...modeRuleOptions(1.5, 0.01, "default 1.5, 25GMM's"),
});

export const funnelOptions = componentOptions({
  dim: Type.Integer({ minimum: 2, maximum: 100, default: 10, description: 'Dimension: x1 ~ N(0, 3^2), then dim - 1 coordinates ~ N(0, exp(x1)) (the paper: 10).' }),
});
export const manywellOptions = componentOptions({
  dim: Type.Integer({ minimum: 2, maximum: 100, multipleOf: 2, default: 32, description: 'Dimension, even: dim / 2 independent double wells (the paper: 32).' }),
});

export const expressionTargetOptions = componentOptions({
  logDensity: Type.String({
    minLength: 1,
    maxLength: 4000,
    description:
      "log R(x) as an expression over the coordinates, e.g. '-(x1**2 + x2**2) / 2': numbers, the coordinates, pi, e, + - * / ** (power), and exp, log, log1p, sqrt, abs, sin, cos, tanh, sigmoid, softplus, square, logsumexp(a, b, ...), min, max. It is compiled to tensor operations (gradients by autodiff), never evaluated as code; it has no known normaliser.",
  }),
  coordinates: Type.Array(Type.String({ minLength: 1, maxLength: 32 }), {
    minItems: 1,
    maxItems: 100,
    default: ['x1', 'x2'],
    description: 'The coordinates’ names, in order (the dimension is their number).',
  }),
  range: Type.Array(Type.Number(), { minItems: 2, maxItems: 2, default: [-10, 10], description: 'The box [low, high] per coordinate that the Sampler panel shows.' }),
});

export type ExpressionTargetOptions = Static<typeof expressionTargetOptions>;
export type Gmm25Options = Static<typeof gmm25Options>;
export type Gmm40Options = Static<typeof gmm40Options>;
export type GmmOptions = Static<typeof gmmOptions>;
export type FunnelOptions = Static<typeof funnelOptions>;
export type ManywellOptions = Static<typeof manywellOptions>;

export const diffusionSamplerOptions = componentOptions({
  steps: Type.Integer({
    minimum: 1,
    maximum: 1000,
    default: 100,
    description: 'Time steps T of a trajectory (dt = 1/T). The paper: 100; fewer steps are proportionally faster per iteration.',
  }),
  tScale: Type.Number({
    exclusiveMinimum: 0,
    default: 5,
    description: "Variance per unit time sigma^2 of the forward noise and of the Brownian-bridge backward policy (the paper: 5 for 25GMM, 1 for Funnel and Manywell).",
  }),
  hidden: Type.Integer({ minimum: 4, maximum: 1024, default: 64, description: 'Width of the time embedding, the state embedding and the hidden layers (the paper: 64).' }),
  harmonics: Type.Integer({ minimum: 1, maximum: 512, default: 64, description: 'Fourier time features: sin and cos of t * f + phase for f in linspace(0.1, 100, harmonics), phases learned (the paper: 64).' }),
  langevin: Type.Boolean({
    default: false,
    description: 'Langevin parametrisation: drift += NN(t) * clip(grad log R(x), +-100) (one energy gradient per state and step).',
  }),
});
export type DiffusionSamplerOptions = Static<typeof diffusionSamplerOptions>;

const trainingMethodOptions = () => ({
  exploration: Type.Number({
    minimum: 0,
    default: 0,
    description:
      'Exploration: the sampling policy of training trajectories adds this standard deviation per step to the noise (variance e^2 added to t_scale dt), decayed linearly to 0 by explorationDecaySteps. 0: on-policy. The paper explores with 0.1-0.2.',
  }),
  explorationDecaySteps: Type.Integer({
    minimum: 0,
    default: 5000,
    description: 'Steps over which exploration decays linearly to 0 (the paper: 5000); 0: constant exploration.',
  }),
  logZLearningRate: Type.Number({
    exclusiveMinimum: 0,
    default: 0.1,
    description: "Adam's learning rate for the scalar log Z (the paper: 0.1, beside 0.001 for the network: training.learningRate). Implemented as log Z = (this / training.learningRate) * v with v trained at training.learningRate: Adam's steps do not depend on the scale of a gradient.",
  }),
  localSearch: Type.Boolean({
    default: false,
    description:
      'Local search with a replay buffer: odd steps train on-policy and put their samples in a buffer; even steps train on backward-policy trajectories from a second buffer, which every localSearchEvery steps receives the states MALA accepts from a rank-prioritised batch of the first. Both buffers are saved in checkpoints (at most bufferSize samples each), so a resumed run keeps them.',
  }),
  localSearchEvery: Type.Integer({ minimum: 2, default: 100, description: 'Steps between local searches (the paper: 100).' }),
  localSearchSteps: Type.Integer({ minimum: 1, default: 200, description: 'MALA steps per local search (the paper: 200), on training.batchSize chains.' }),
  localSearchBurnIn: Type.Integer({ minimum: 0, default: 100, description: 'MALA steps whose accepted states are not kept (the paper: 100).' }),
  localSearchStepSize: Type.Number({ exclusiveMinimum: 0, default: 0.001, description: "MALA's initial step size (the paper: 0.001), adapted by 1% a step towards targetAcceptance." }),
  targetAcceptance: Type.Number({ exclusiveMinimum: 0, exclusiveMaximum: 1, default: 0.574, description: "MALA's target acceptance rate (the paper: 0.574)." }),
  bufferSize: Type.Integer({ minimum: 1, default: 600000, description: 'Capacity of each replay buffer (the paper: 600,000); the oldest samples leave first.' }),
  rankWeight: Type.Number({
    exclusiveMinimum: 0,
    default: 0.01,
    description: 'Rank-prioritised replay: a sample of rank r (0: the highest log R) of N is drawn with weight 1 / (rankWeight N + r) (the paper: 0.01).',
  }),
  evalSamples: Type.Integer({
    minimum: 10,
    maximum: 10000,
    default: 1000,
    description: 'Trajectories per evaluation (log Z estimates, ESS, sliced W2, MMD, modes covered); training.evalBatches should be 1. The last evaluation adds the exact W2 (optimal transport) on min(2000, 2 x evalSamples) fresh and exact samples.',
  }),
});

export const trajectoryBalanceOptions = componentOptions({ ...trainingMethodOptions() });
export const varGradOptions = componentOptions({ ...trainingMethodOptions() });
export type TrajectoryBalanceOptions = Static<typeof trajectoryBalanceOptions>;
export type VarGradOptions = Static<typeof varGradOptions>;

export const pisOptions = componentOptions({
  evalSamples: Type.Integer({
    minimum: 10,
    maximum: 10000,
    default: 1000,
    description: 'Trajectories per evaluation (log Z estimates, ESS, sliced W2, MMD, modes covered); training.evalBatches should be 1. The last evaluation adds the exact W2 on min(2000, 2 x evalSamples) points.',
  }),
});
export type PisOptions = Static<typeof pisOptions>;
