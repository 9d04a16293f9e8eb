/**
 * Layers of the relational models: a strided convolution that trains on every backend, layer
 * normalisation, an LSTM, context normalisation, and the initialisations of the reference code
 * (Kaiming and Xavier normal, zero biases).
 */
import * as tf from '@tensorflow/tfjs';
import type { Parameter } from '../registry';
import type { Rng } from '../rng';
import { Linear } from '../layers/linear';
import { stridedConv, stridedConvRelu } from '../kernels';

/** Overwrites a variable with N(0, std^2) draws from `rng`. */
export function initNormal(variable: tf.Variable, std: number, rng: Rng): void {
  const values = Float32Array.from({ length: variable.size }, () => std * rng.normal());
  tf.tidy(() => variable.assign(tf.tensor(values, variable.shape)));
}

export function initZeros(variable: tf.Variable): void {
  tf.tidy(() => variable.assign(tf.zerosLike(variable)));
}

/** Kaiming normal for a layer followed by ReLU (std sqrt(2 / fan_in)) and zero bias, as the reference encoder. */
export function kaimingRelu(layer: Linear, rng: Rng): Linear {
  initNormal(layer.kernel, Math.sqrt(2 / layer.inputs), rng);
  if (layer.bias) initZeros(layer.bias);
  return layer;
}

/** Xavier normal (std gain sqrt(2 / (fan_in + fan_out))) and zero bias. */
export function xavier(layer: Linear, rng: Rng, gain = 1): Linear {
  initNormal(layer.kernel, gain * Math.sqrt(2 / (layer.inputs + layer.outputs)), rng);
  if (layer.bias) initZeros(layer.bias);
  return layer;
}

/**
 * Conv2d with a 4 x 4 kernel, stride 2 and padding 1 (32 -> 16 -> 8 -> 4): the stridedConv op
 * (src/core/kernels/stridedConv.ts, which also gives it a gradient the wasm backend runs fast). The
 * kernel is stored [4 * 4 * in, out], tf.conv2d's [4, 4, in, out] filter flattened.
 */
export class StridedConv2d {
  static readonly KERNEL = 4;
  readonly linear: Linear;

  constructor(name: string, readonly inChannels: number, readonly outChannels: number, rng: Rng) {
    this.linear = kaimingRelu(new Linear(name, StridedConv2d.KERNEL ** 2 * inChannels, outChannels, rng), rng);
  }

  /** x [N, H, W, in] with H and W even -> [N, H / 2, W / 2, out] */
  apply(x: tf.Tensor4D): tf.Tensor4D {
    return stridedConv(x, this.linear.kernel as tf.Tensor2D, this.linear.bias as tf.Tensor1D);
  }

  /** relu(apply(x)), fused on Model Lab's kernels; with `xIsData` (the images) no input gradient is computed there. */
  applyRelu(x: tf.Tensor4D, xIsData = false): tf.Tensor4D {
    return stridedConvRelu(x, this.linear.kernel as tf.Tensor2D, this.linear.bias as tf.Tensor1D, xIsData);
  }

  parameters(): Parameter[] {
    return this.linear.parameters();
  }
}

/**
 * Context normalisation (Webb et al.): each feature normalised across the objects of a segment
 * of the sequence (mean 0, unbiased variance 1, eps 1e-8 as the reference), then a learned
 * gain and bias shared by all segments. Two identical objects in a 2-object segment become 0.
 */
export class ContextNorm {
  readonly gain: tf.Variable;
  readonly bias: tf.Variable;
  private readonly ranges: Array<{ start: number; size: number }>;

  constructor(readonly name: string, dim: number, segments: number[][]) {
    this.ranges = segments.map((segment) => {
      const contiguous = segment.every((t, i) => t === segment[0] + i);
      if (!contiguous || segment.length < 2) {
        throw new Error(`context normalisation segments must be runs of at least 2 consecutive positions, got [${segment}]`);
      }
      return { start: segment[0], size: segment.length };
    });
    this.gain = tf.tidy(() => tf.variable(tf.ones([dim])));
    this.bias = tf.tidy(() => tf.variable(tf.zeros([dim])));
  }

  /** z [B, T, D] -> [B, T, D] */
  apply(z: tf.Tensor3D): tf.Tensor3D {
    const [batch, , dim] = z.shape;
    const normalised = this.ranges.map(({ start, size }) => {
      const segment = tf.slice(z, [0, start, 0], [batch, size, dim]);
      const centred = segment.sub(segment.mean(1, true));
      const variance = centred.square().sum(1, true).div(size - 1);
      return centred.div(variance.add(1e-8).sqrt());
    });
    const joined = normalised.length === 1 ? normalised[0] : tf.concat(normalised, 1);
    return joined.mul(this.gain).add(this.bias) as tf.Tensor3D;
  }

  parameters(): Parameter[] {
    return [
      { name: `${this.name}.gamma`, variable: this.gain },
      { name: `${this.name}.beta`, variable: this.bias },
    ];
  }
}

/**
 * A single-layer LSTM (PyTorch's gate order i, f, g, o; one bias), initialised like the ESBN
 * baseline: Xavier normal gates (the g block with gain 5/3), zero biases.
 */
export class Lstm {
  readonly input: Linear;
  readonly recurrent: Linear;

  constructor(name: string, readonly inputs: number, readonly hidden: number, rng: Rng) {
    this.input = new Linear(`${name}.weight_ih`, inputs, 4 * hidden, rng);
    this.recurrent = new Linear(`${name}.weight_hh`, hidden, 4 * hidden, rng, false);
    for (const layer of [this.input, this.recurrent]) initGates(layer.kernel, layer.inputs, hidden, rng);
    initZeros(this.input.bias!);
  }

  /** x [B, T, in] -> hidden states [B, T, H] */
  apply(x: tf.Tensor3D): tf.Tensor3D {
    const [batch, steps] = x.shape;
    const H = this.hidden;
    const projected = this.input.apply(x); // [B, T, 4H], all steps at once
    let h: tf.Tensor2D = tf.zeros([batch, H]);
    let c: tf.Tensor2D = tf.zeros([batch, H]);
    const outputs: tf.Tensor2D[] = [];
    for (let t = 0; t < steps; t++) {
      const gates = tf.slice(projected, [0, t, 0], [batch, 1, 4 * H]).reshape([batch, 4 * H]).add(this.recurrent.apply(h));
      const [i, f, g, o] = tf.split(gates, 4, 1);
      c = tf.sigmoid(f).mul(c).add(tf.sigmoid(i).mul(tf.tanh(g))) as tf.Tensor2D;
      h = tf.sigmoid(o).mul(tf.tanh(c)) as tf.Tensor2D;
      outputs.push(h);
    }
    return tf.stack(outputs, 1) as tf.Tensor3D;
  }

  parameters(): Parameter[] {
    return [...this.input.parameters(), ...this.recurrent.parameters()];
  }
}

/** Xavier normal per gate block of a [fan_in, 4H] kernel, as the reference (i and f together). */
function initGates(kernel: tf.Variable, fanIn: number, hidden: number, rng: Rng): void {
  const std = (fanOut: number, gain = 1) => gain * Math.sqrt(2 / (fanIn + fanOut));
  const blockStd = [std(2 * hidden), std(2 * hidden), std(hidden, 5 / 3), std(hidden)]; // i, f, g, o
  const values = new Float32Array(fanIn * 4 * hidden);
  for (let row = 0; row < fanIn; row++) {
    for (let column = 0; column < 4 * hidden; column++) {
      values[row * 4 * hidden + column] = blockStd[Math.floor(column / hidden)] * rng.normal();
    }
  }
  tf.tidy(() => kernel.assign(tf.tensor2d(values, [fanIn, 4 * hidden])));
}
