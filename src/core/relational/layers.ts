/**
 * Layers of the relational models: a strided convolution that trains on every backend, layer
 * normalisation, an LSTM, context normalisation, and the initialisations of the reference code
 * (Kaiming and Xavier normal, zero biases).
 */
import * as tf from '@tensorflow/tfjs';
import type { Parameter } from '../registry';
import type { Rng } from '../rng';
import { Linear } from '../layers/linear';
import { biasReluGradient, denseKernelActive } from '../kernels/dense';
import { stridedConvBiasRelu, stridedConvFilterGradient, stridedConvInputGradient, stridedConvKernelsActive } from '../kernels/stridedConv';

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
 * Conv2d with a 4 x 4 kernel, stride 2 and padding 1 (32 -> 16 -> 8 -> 4): tf.conv2d, whose
 * gradient is replaced below because the wasm backend has no kernel for the gradient of the
 * filter and a slow generic one for the gradient of the input (bench/README.md, "Relational
 * training speed"). The kernel is stored [4 * 4 * in, out], tf.conv2d's [4, 4, in, out] filter
 * flattened.
 */
export class StridedConv2d {
  static readonly KERNEL = 4;
  readonly linear: Linear;

  constructor(name: string, readonly inChannels: number, readonly outChannels: number, rng: Rng) {
    this.linear = kaimingRelu(new Linear(name, StridedConv2d.KERNEL ** 2 * inChannels, outChannels, rng), rng);
  }

  /** x [N, H, W, in] with H and W even -> [N, H / 2, W / 2, out] */
  apply(x: tf.Tensor4D): tf.Tensor4D {
    const k = StridedConv2d.KERNEL;
    const filter = this.linear.kernel.reshape([k, k, this.inChannels, this.outChannels]) as tf.Tensor4D;
    return tf.add(tf.conv2d(x, filter, 2, STRIDED_PADDING), this.linear.bias!) as tf.Tensor4D;
  }

  /**
   * relu(apply(x)). On Model Lab's kernels it is one kernel forward (convolution, bias and ReLU)
   * and three backward (ReLU mask with the bias gradient, the input and filter gradients), instead
   * of four ops and seven. With `xIsData` (the encoder's first layer, whose input is the images)
   * no input gradient is computed on the kernels: zeros stand in for it.
   */
  applyRelu(x: tf.Tensor4D, xIsData = false): tf.Tensor4D {
    if (!stridedConvKernelsActive() || !denseKernelActive()) return tf.relu(this.apply(x));
    const k = StridedConv2d.KERNEL;
    const convolve = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const [input, kernel, bias] = args as [tf.Tensor4D, tf.Tensor2D, tf.Tensor1D];
      const filter = kernel.reshape([k, k, this.inChannels, this.outChannels]) as tf.Tensor4D;
      const y = stridedConvBiasRelu(input, filter, bias);
      (args[3] as tf.GradSaveFunc)([input, filter, y]);
      return {
        value: y,
        gradFunc: (dy: tf.Tensor | tf.Tensor[], [savedX, savedFilter, savedY]: tf.Tensor[]) => {
          const [dyPre, dbias] = biasReluGradient(savedY, dy as tf.Tensor);
          const dfilter = stridedConvFilterGradient(savedX as tf.Tensor4D, dyPre as tf.Tensor4D).reshape(kernel.shape);
          const dx = xIsData ? tf.zerosLike(savedX) : stridedConvInputGradient(dyPre as tf.Tensor4D, savedFilter as tf.Tensor4D);
          return [dx, dfilter, dbias];
        },
      };
    }) as (x: tf.Tensor, kernel: tf.Tensor, bias: tf.Tensor) => tf.Tensor4D;
    return convolve(x, this.linear.kernel, this.linear.bias!);
  }

  parameters(): Parameter[] {
    return this.linear.parameters();
  }
}

const STRIDED_PADDING: [[number, number], [number, number], [number, number], [number, number]] = [[0, 0], [1, 1], [1, 1], [0, 0]];

/**
 * Gradient of Conv2D for the 4 x 4, stride 2, padding 1 case (NHWC, no dilation), written as
 * plain stride-1 convolutions, which the wasm backend runs on its fast path:
 *   filter: dW[ki, kj, c, o] = sum_{n,i,j} xpad[n, 2i + ki, 2j + kj, c] dy[n, i, j, o], a
 *           convolution of xpad (batch and channels swapped) with dy as filter, dilation 2;
 *   input:  dx = dy with zeros inserted between rows and columns (undoing the stride), padded,
 *           convolved with the kernel flipped in space and with in/out swapped.
 * tfjs calls a gradient only for inputs on the path to the variables, so the encoder's first
 * layer (input = data) skips dx. Where Model Lab's wasm kernels are on, both gradients run on them
 * instead (src/core/kernels/stridedConv.ts: no zero insertion, no transposes). Every other Conv2D
 * keeps tfjs's own gradient. Registered process-wide, once, like the 2-D matMul gradient in
 * layers/linear.ts.
 */
function registerStridedConvGradient(): void {
  const builtin = tf.getGradient('Conv2D');
  if (!builtin || (builtin as { strided?: boolean }).strided) return;
  const config: tf.GradConfig & { strided: boolean } = {
    kernelName: 'Conv2D',
    inputsToSave: ['x', 'filter'],
    strided: true,
    gradFunc: (dy, saved, attrs) => {
      const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
      const { strides, pad, dataFormat, dilations } = attrs as {
        strides: number | number[];
        pad: unknown;
        dataFormat: string;
        dilations: number | number[];
      };
      const same = (value: number | number[], n: number) => (Array.isArray(value) ? value.every((v) => v === n) : value === n);
      const handled =
        x.rank === 4 &&
        filter.shape[0] === 4 &&
        filter.shape[1] === 4 &&
        same(strides, 2) &&
        same(dilations ?? 1, 1) &&
        (dataFormat ?? 'NHWC') === 'NHWC' &&
        JSON.stringify(pad) === JSON.stringify(STRIDED_PADDING) &&
        x.shape[1] % 2 === 0 &&
        x.shape[2] % 2 === 0;
      if (!handled) return builtin.gradFunc(dy, saved, attrs);
      const onKernels = stridedConvKernelsActive();
      return {
        x: () => (onKernels ? stridedConvInputGradient : convInputGradient)(dy as tf.Tensor4D, filter),
        filter: () => (onKernels ? stridedConvFilterGradient : convFilterGradient)(x, dy as tf.Tensor4D),
      };
    },
  };
  tf.registerGradient(config);
}
registerStridedConvGradient();

/** dW [4, 4, C, out] of the stride-2, padding-1 convolution, from x [N, H, W, C] and dy [N, H/2, W/2, out]. */
function convFilterGradient(x: tf.Tensor4D, dy: tf.Tensor4D): tf.Tensor4D {
  const channelsFirst = tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]]).transpose([3, 1, 2, 0]) as tf.Tensor4D; // [C, H+2, W+2, N]
  const dyFilter = dy.transpose([1, 2, 0, 3]) as tf.Tensor4D; // [H/2, W/2, N, out]
  return tf.conv2d(channelsFirst, dyFilter, 1, 'valid', 'NHWC', 2).transpose([1, 2, 0, 3]); // [C, 4, 4, out] -> [4, 4, C, out]
}

/**
 * dx [N, H, W, C] of the stride-2, padding-1 convolution, from dy [N, H/2, W/2, out] and w [4, 4, C, out].
 * (Tried: one 2 x 2 convolution giving the four parities as channels, then depthToSpace; 2.4x
 * slower on wasm, whose depthToSpace is a generic copy.)
 */
function convInputGradient(dy: tf.Tensor4D, w: tf.Tensor4D): tf.Tensor4D {
  const [n, outH, outW, out] = dy.shape;
  // Zeros after each column, then after each row: dyz[2i, 2j] = dy[i, j], [N, H, W, out].
  const columns = tf.pad(dy.reshape([n * outH * outW, 1, out]), [[0, 0], [0, 1], [0, 0]]);
  const dilated = tf.pad(columns.reshape([n * outH, 1, 2 * outW * out]), [[0, 0], [0, 1], [0, 0]]);
  // dx[p] = sum_k dyz[p + 1 - k] w[k] = sum_k' dyz[p - 2 + k'] w[3 - k']: pad 2 before, 1 after.
  const padded = tf.pad(dilated.reshape([n, 2 * outH, 2 * outW, out]), [[0, 0], [2, 1], [2, 1], [0, 0]]) as tf.Tensor4D;
  const flipped = tf.reverse(w, [0, 1]).transpose([0, 1, 3, 2]) as tf.Tensor4D; // [4, 4, out, C]
  return tf.conv2d(padded, flipped, 1, 'valid');
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
