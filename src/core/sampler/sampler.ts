/**
 * The discrete-time diffusion sampler of gfn-diffusion (its "PIS architecture", which the paper's
 * runs use): the drift mu_theta(x, t) of the forward policy
 *   x_{i+1} = x_i + dt mu(x_i, t_i) + sqrt(dt) sigma eps,  sigma^2 = t_scale, x_0 = 0,
 * from Fourier features of t (frequencies linspace(0.1, 100, H), learned phases) through a
 * two-layer time embedding, plus a linear state embedding, then GELU, 2 x (Linear + GELU) and a
 * zero-initialised output layer, so that training starts from the pure Brownian motion. A scalar
 * log Z is a parameter too. The Langevin parametrisation adds NN(t) * clip(grad log R(x), +-100).
 *
 * As a Model, `forward` maps rows (x, t[, grad log R]) to drifts, so the T transitions of a
 * batch of trajectories go through the network as one batch. Deviation from the official code:
 * no learned variance (its default, `learned_variance` off, gives the same fixed variance).
 */
import * as tf from '@tensorflow/tfjs';
import { gelu } from '../kernels';
import { Linear } from '../layers/linear';
import type { BuildContext, ForwardResult, Model, Parameter } from '../registry';
import type { Rng } from '../rng';
import type { DiffusionSamplerOptions } from './options';
import { isSamplerTask } from './targets';

/** The Langevin parametrisation clips each coordinate of grad log R to +-100 (the official lgv_clip). */
export const LANGEVIN_CLIP = 100;
const LANGEVIN_LAYERS = 3;

/** sin and cos of t * f + phase for the fixed frequencies f: [N] -> [N, 2H]. */
class FourierFeatures {
  readonly phase: tf.Variable;
  private readonly frequencies: Float32Array;

  constructor(readonly name: string, private readonly harmonics: number, rng: Rng) {
    this.frequencies = Float32Array.from({ length: harmonics }, (_, i) => (harmonics === 1 ? 0.1 : 0.1 + ((100 - 0.1) * i) / (harmonics - 1)));
    this.phase = tf.tidy(() => tf.variable(tf.tensor2d(Float32Array.from({ length: harmonics }, () => rng.normal()), [1, harmonics])));
  }

  apply(t: tf.Tensor1D): tf.Tensor2D {
    const angle = tf.add(tf.mul(tf.expandDims(t, 1), tf.tensor2d(this.frequencies, [1, this.harmonics])), this.phase);
    return tf.concat([tf.sin(angle), tf.cos(angle)], 1) as tf.Tensor2D;
  }
}

export class DiffusionSampler implements Model {
  readonly parameters: Parameter[];
  readonly dimension: number;
  readonly steps: number;
  readonly tScale: number;
  readonly langevin: boolean;
  /** log Z = logZScale * v (v the parameter): Adam then moves log Z logZScale times faster than the network. */
  readonly logZScale: number;

  private readonly timeFeatures: FourierFeatures;
  private readonly time: Linear[];
  private readonly state: Linear;
  private readonly joint: Linear[];
  private readonly output: Linear;
  private readonly logZParameter: tf.Variable;
  private readonly langevinFeatures?: FourierFeatures;
  private readonly langevinLayers: Linear[] = [];

  constructor(dimension: number, options: DiffusionSamplerOptions, logZScale: number, rng: Rng) {
    const { hidden, harmonics } = options;
    this.dimension = dimension;
    this.steps = options.steps;
    this.tScale = options.tScale;
    this.langevin = options.langevin;
    this.logZScale = logZScale;
    this.timeFeatures = new FourierFeatures('time.phase', harmonics, rng);
    this.time = [new Linear('time.0', 2 * harmonics, hidden, rng), new Linear('time.2', hidden, hidden, rng)];
    this.state = new Linear('state', dimension, hidden, rng);
    this.joint = [new Linear('joint.1', hidden, hidden, rng), new Linear('joint.3', hidden, hidden, rng)];
    this.output = new Linear('joint.5', hidden, dimension, rng);
    zeroFill(this.output, 0);
    this.logZParameter = tf.tidy(() => tf.variable(tf.scalar(0)));
    const parameters: Parameter[] = [
      { name: 'time.phase', variable: this.timeFeatures.phase },
      ...this.time.flatMap((l) => l.parameters()),
      ...this.state.parameters(),
      ...this.joint.flatMap((l) => l.parameters()),
      ...this.output.parameters(),
      { name: 'logZ', variable: this.logZParameter },
    ];
    if (this.langevin) {
      this.langevinFeatures = new FourierFeatures('langevin.phase', harmonics, rng);
      this.langevinLayers.push(new Linear('langevin.0', 2 * harmonics, hidden, rng));
      for (let i = 1; i < LANGEVIN_LAYERS; i++) this.langevinLayers.push(new Linear(`langevin.${2 * i}`, hidden, hidden, rng));
      const last = new Linear(`langevin.${2 * LANGEVIN_LAYERS}`, hidden, 1, rng);
      zeroFill(last, 0.01);
      this.langevinLayers.push(last);
      parameters.push({ name: 'langevin.phase', variable: this.langevinFeatures.phase }, ...this.langevinLayers.flatMap((l) => l.parameters()));
    }
    this.parameters = parameters;
  }

  /** Columns of a forward input row: x (d), t (1), and grad log R (d) with the Langevin parametrisation. */
  get inputWidth(): number {
    return this.langevin ? 2 * this.dimension + 1 : this.dimension + 1;
  }

  /** The learned log Z as a scalar tensor (differentiable). */
  logZ(): tf.Scalar {
    return tf.mul(this.logZParameter, this.logZScale) as tf.Scalar;
  }

  learnedLogZ(): number {
    return tf.tidy(() => this.logZ().dataSync()[0]);
  }

  /**
   * Drift mu(x, t) for states x and times t, with grad log R at x for the Langevin parametrisation.
   * Shapes: x [N, d] with t [N] or [1] (one time for every row), or x [n, T, d] with t [T] (n
   * trajectories on one time grid); the result has x's shape. The time embedding is computed once
   * per distinct time given, and broadcast: a batch of trajectories has only T of them.
   */
  drift(x: tf.Tensor, t: tf.Tensor1D, gradLogR?: tf.Tensor): tf.Tensor {
    // A Linear followed by GELU is one dense kernel each way (src/core/kernels/dense.ts).
    const timeEmbedding = this.time[1].apply(this.time[0].applyGelu(this.timeFeatures.apply(t)));
    let h = gelu(tf.add(this.state.apply(x), timeEmbedding));
    for (const layer of this.joint) h = layer.applyGelu(h);
    let mu = this.output.apply(h);
    if (this.langevin) {
      if (!gradLogR) throw new Error('the Langevin parametrisation needs grad log R at every state');
      let s: tf.Tensor = this.langevinFeatures!.apply(t);
      this.langevinLayers.forEach((layer, i) => {
        s = i < this.langevinLayers.length - 1 ? layer.applyGelu(s) : layer.apply(s);
      });
      mu = tf.add(mu, tf.mul(s, tf.clipByValue(gradLogR, -LANGEVIN_CLIP, LANGEVIN_CLIP)));
    }
    return mu;
  }

  /**
   * Rows (x, t[, grad log R]) [N, width] -> drifts [N, d]; or trajectories [n, T, width] on one
   * time grid (the times are read from the first trajectory) -> drifts [n * T, d].
   */
  forward(inputs: tf.Tensor): ForwardResult {
    const d = this.dimension;
    const width = this.inputWidth;
    if (inputs.rank === 3) {
      const [n, steps] = inputs.shape;
      const x = tf.slice(inputs, [0, 0, 0], [n, steps, d]);
      const t = tf.reshape(tf.slice(inputs, [0, 0, d], [1, steps, 1]), [steps]) as tf.Tensor1D;
      const gradLogR = this.langevin ? tf.slice(inputs, [0, 0, d + 1], [n, steps, d]) : undefined;
      return { output: tf.reshape(this.drift(x, t, gradLogR), [n * steps, d]) };
    }
    const rows = tf.reshape(inputs, [-1, width]);
    const x = tf.slice(rows, [0, 0], [-1, d]);
    const t = tf.reshape(tf.slice(rows, [0, d], [-1, 1]), [-1]) as tf.Tensor1D;
    const gradLogR = this.langevin ? tf.slice(rows, [0, d + 1], [-1, d]) : undefined;
    return { output: this.drift(x, t, gradLogR) };
  }
}

function zeroFill(layer: Linear, bias: number): void {
  tf.tidy(() => {
    layer.kernel.assign(tf.zerosLike(layer.kernel));
    layer.bias?.assign(tf.fill(layer.bias.shape, bias));
  });
}

export function createDiffusionSampler(options: DiffusionSamplerOptions, { spec, task, rng }: BuildContext): DiffusionSampler {
  if (!isSamplerTask(task)) throw new Error(`model 'diffusion-sampler' needs a sampler target (task names starting with 'sampler-'), got task '${spec.task.name}'`);
  const logZRate = typeof spec.objective.logZLearningRate === 'number' ? spec.objective.logZLearningRate : spec.training.learningRate;
  return new DiffusionSampler(task.target.dimension, options, logZRate / spec.training.learningRate, rng);
}
