/**
 * Supervised models whose parameters are the weights of a small network f(x; theta), with
 * x ~ N(0, I), theta ~ N(0, I):
 * - regression:     y ~ N(f(x; theta), variance)
 * - classification: y ~ Cat(softmax(f(x; theta) / temperature))
 * Linear regression (LR) and classification (LC) are networks without hidden layers (with an
 * output bias); the nonlinear tasks (NLR, NLC) have 1-2 hidden layers and no output bias, which
 * gives the notes' sizes (96 parameters for d = 1, one layer of 32; 160 for d = 2, C = 2).
 * theta is laid out layer by layer: kernel [in, out] row-major, then bias [out].
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../../rng';
import { LOG_2PI, maskedMean, maskedSum } from './common';
import type { Points, ProbabilisticModel } from './types';

export type Activation = 'tanh' | 'relu';
export type FunctionLikelihood = { kind: 'gaussian'; variance: number } | { kind: 'categorical'; temperature: number };

export interface ParametricFunctionOptions {
  name: string;
  /** Input features d. */
  dim: number;
  /** Widths of the hidden layers ([] for a linear model). */
  hidden: number[];
  activation: Activation;
  /** 1 for regression, C for classification. */
  outputs: number;
  outputBias: boolean;
  likelihood: FunctionLikelihood;
}

interface LayerShape {
  inputs: number;
  outputs: number;
  bias: boolean;
  /** Offset of the kernel in theta; the bias follows it. */
  offset: number;
}

export class ParametricFunctionModel implements ProbabilisticModel {
  readonly name: string;
  readonly thetaDim: number;
  readonly xDim: number;
  readonly target: 'real' | 'class';
  readonly classes: number;
  readonly tokenDim: number;
  readonly predictive: 'l2' | 'accuracy';
  readonly layers: LayerShape[] = [];

  constructor(readonly options: ParametricFunctionOptions) {
    const { name, dim, hidden, outputs, outputBias, likelihood } = options;
    this.name = name;
    const widths = [dim, ...hidden, outputs];
    let offset = 0;
    for (let l = 0; l + 1 < widths.length; l++) {
      const bias = l + 2 < widths.length || outputBias;
      this.layers.push({ inputs: widths[l], outputs: widths[l + 1], bias, offset });
      offset += widths[l] * widths[l + 1] + (bias ? widths[l + 1] : 0);
    }
    this.thetaDim = offset;
    this.xDim = dim;
    const classification = likelihood.kind === 'categorical';
    this.target = classification ? 'class' : 'real';
    this.classes = classification ? outputs : 0;
    this.tokenDim = dim + (classification ? outputs : 1);
    this.predictive = classification ? 'accuracy' : 'l2';
  }

  /** f(x; theta) for one point, in plain numbers. */
  evaluate(theta: ArrayLike<number>, x: ArrayLike<number>): number[] {
    let h = Array.from(x);
    this.layers.forEach((layer, l) => {
      const next: number[] = [];
      for (let o = 0; o < layer.outputs; o++) {
        let sum = layer.bias ? theta[layer.offset + layer.inputs * layer.outputs + o] : 0;
        for (let i = 0; i < layer.inputs; i++) sum += h[i] * theta[layer.offset + i * layer.outputs + o];
        next.push(l + 1 < this.layers.length ? this.activate(sum) : sum);
      }
      h = next;
    });
    return h;
  }

  private activate(value: number): number {
    return this.options.activation === 'tanh' ? Math.tanh(value) : Math.max(0, value);
  }

  simulate(theta: ArrayLike<number>, n: number, rng: Rng): Points {
    const { dim, likelihood } = this.options;
    const x = new Float32Array(n * dim);
    const y = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      for (let f = 0; f < dim; f++) x[i * dim + f] = rng.normal();
      const out = this.evaluate(theta, x.subarray(i * dim, (i + 1) * dim));
      if (likelihood.kind === 'gaussian') {
        y[i] = out[0] + Math.sqrt(likelihood.variance) * rng.normal();
      } else {
        y[i] = sampleCategorical(out.map((v) => v / likelihood.temperature), rng);
      }
    }
    return { x, y };
  }

  /** f(x; theta_s) for every sample: theta [B, S, P], x [B, N, d] -> [B, S, N, outputs]. */
  apply(theta: tf.Tensor, x: tf.Tensor): tf.Tensor {
    const [batch, samples] = theta.shape as number[];
    const points = x.shape[1]!;
    const flatTheta = tf.reshape(theta, [batch * samples, this.thetaDim]);
    // Every sample sees the data set of its batch entry: [B*S, N, d].
    let h = tf.reshape(tf.tile(tf.expandDims(x, 1), [1, samples, 1, 1]), [batch * samples, points, this.xDim]);
    this.layers.forEach((layer, l) => {
      const kernelSize = layer.inputs * layer.outputs;
      const kernel = tf.reshape(tf.slice(flatTheta, [0, layer.offset], [-1, kernelSize]), [-1, layer.inputs, layer.outputs]);
      h = tf.matMul(h, kernel);
      if (layer.bias) {
        h = tf.add(h, tf.reshape(tf.slice(flatTheta, [0, layer.offset + kernelSize], [-1, layer.outputs]), [-1, 1, layer.outputs]));
      }
      if (l + 1 < this.layers.length) h = this.options.activation === 'tanh' ? tf.tanh(h) : tf.relu(h);
    });
    return tf.reshape(h, [batch, samples, points, this.options.outputs]);
  }

  logLikelihood(theta: tf.Tensor, x: tf.Tensor, y: tf.Tensor, mask: tf.Tensor): tf.Tensor {
    const out = this.apply(theta, x);
    const { likelihood } = this.options;
    let perPoint: tf.Tensor; // [B, S, N]
    if (likelihood.kind === 'gaussian') {
      const residual = tf.sub(tf.expandDims(y, 1), tf.squeeze(out, [-1]));
      perPoint = tf.sub(tf.mul(tf.square(residual), -0.5 / likelihood.variance), 0.5 * (LOG_2PI + Math.log(likelihood.variance)));
    } else {
      // Written out: tf.logSoftmax's custom gradient trips the wasm backend's leak check.
      const logits = tf.div(out, likelihood.temperature);
      const logProbabilities = tf.sub(logits, tf.logSumExp(logits, -1, true));
      const observed = tf.expandDims(tf.oneHot(tf.cast(y, 'int32'), this.classes), 1); // [B, 1, N, C]
      perPoint = tf.sum(tf.mul(logProbabilities, observed), -1);
    }
    return maskedSum(perPoint, mask);
  }

  predictiveScore(theta: tf.Tensor, x: tf.Tensor, y: tf.Tensor, mask: tf.Tensor): tf.Tensor {
    const out = this.apply(theta, x);
    if (this.predictive === 'l2') {
      return maskedMean(tf.square(tf.sub(tf.expandDims(y, 1), tf.squeeze(out, [-1]))), mask);
    }
    const correct = tf.cast(tf.equal(tf.argMax(out, -1), tf.expandDims(tf.cast(y, 'int32'), 1)), 'float32');
    return maskedMean(correct, mask);
  }
}

/** Index drawn with probabilities softmax(logits). */
export function sampleCategorical(logits: number[], rng: Rng): number {
  const top = Math.max(...logits);
  const weights = logits.map((v) => Math.exp(v - top));
  let u = rng.next() * weights.reduce((a, b) => a + b, 0);
  for (let c = 0; c < weights.length; c++) {
    u -= weights[c];
    if (u < 0) return c;
  }
  return weights.length - 1;
}

export const NOISE_VARIANCE = 0.25;
export const TEMPERATURE = 0.1;

export const linearRegression = (dim: number) =>
  new ParametricFunctionModel({
    name: 'linear-regression', dim, hidden: [], activation: 'tanh', outputs: 1, outputBias: true,
    likelihood: { kind: 'gaussian', variance: NOISE_VARIANCE },
  });

export const linearClassification = (dim: number, classes: number) =>
  new ParametricFunctionModel({
    name: 'linear-classification', dim, hidden: [], activation: 'tanh', outputs: classes, outputBias: true,
    likelihood: { kind: 'categorical', temperature: TEMPERATURE },
  });

export const nonlinearRegression = (dim: number, hidden: number[], activation: Activation) =>
  new ParametricFunctionModel({
    name: 'nonlinear-regression', dim, hidden, activation, outputs: 1, outputBias: false,
    likelihood: { kind: 'gaussian', variance: NOISE_VARIANCE },
  });

export const nonlinearClassification = (dim: number, classes: number, hidden: number[], activation: Activation) =>
  new ParametricFunctionModel({
    name: 'nonlinear-classification', dim, hidden, activation, outputs: classes, outputBias: false,
    likelihood: { kind: 'categorical', temperature: TEMPERATURE },
  });
