/**
 * Layer normalisation as one wasm kernel forward and one backward (src/kernels/layerNorm.c, built
 * into dist/layer-norm.wasm). As tfjs ops (moments, subtract, divide, square root, scale, shift
 * and their gradients) it is about two dozen kernels per layer and step, each a pass over the
 * activations: about 15% of the posterior transformer's step (bench/README.md). Registered with
 * tfjs's wasm backend under Model Lab's own names and wrapped in a custom gradient, like
 * maskedAttention.ts. `layerNorm` is the op src/core/layers/layerNorm.ts calls: on the kernel when
 * it is on (src/core/kernels/index.ts), as those ops otherwise.
 */
import * as tf from '@tensorflow/tfjs';
import { fusedOp, RegisteredKernels, type HeapKernel, type KernelArgs } from './wasmModule';

const FORWARD = 'ModelLabLayerNorm';
const BACKWARD = 'ModelLabLayerNormGrad';

interface KernelExports {
  layer_norm_forward(x: number, gain: number, bias: number, y: number, rows: number, dim: number, epsilon: number): void;
  layer_norm_backward(x: number, gain: number, dy: number, dx: number, dgain: number, dbias: number, rows: number, dim: number, epsilon: number): void;
}

type LayerNormArgs = KernelArgs<{ epsilon: number }>;

const size = (info: tf.TensorInfo) => info.shape.reduce((p, d) => p * d, 1);

function forwardKernel(kernel: HeapKernel<KernelExports>, { inputs: { x, gain, bias }, attrs }: LayerNormArgs): tf.TensorInfo {
  const dim = size(gain);
  const [y, yAt] = kernel.output(x.shape);
  kernel.exports.layer_norm_forward(kernel.at(x), kernel.at(gain), kernel.at(bias), yAt, size(x) / dim, dim, attrs.epsilon);
  return y;
}

function backwardKernel(kernel: HeapKernel<KernelExports>, { inputs: { x, gain, dy }, attrs }: LayerNormArgs): tf.TensorInfo[] {
  const dim = size(gain);
  const [dx, dxAt] = kernel.output(x.shape);
  const [dgain, dgainAt] = kernel.output(gain.shape);
  const [dbias, dbiasAt] = kernel.output(gain.shape);
  kernel.exports.layer_norm_backward(kernel.at(x), kernel.at(gain), kernel.at(dy), dxAt, dgainAt, dbiasAt, size(x) / dim, dim, attrs.epsilon);
  return [dx, dgain, dbias];
}

/** Its registration with tfjs (load, enable, disable, active, calls), which the table turns on (index.ts). */
export const layerNormKernels = new RegisteredKernels<KernelExports>('layer-norm', { [FORWARD]: forwardKernel, [BACKWARD]: backwardKernel });

/** On the kernel: differentiable in x, gain and bias. */
function layerNormOnKernel(x: tf.Tensor, gain: tf.Tensor, bias: tf.Tensor, epsilon: number): tf.Tensor {
  const normalise = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input, g, b] = args as tf.Tensor[];
    (args[3] as tf.GradSaveFunc)([input, g]);
    return {
      value: tf.engine().runKernel(FORWARD, { x: input, gain: g, bias: b }, { epsilon }) as tf.Tensor,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], [savedX, savedGain]: tf.Tensor[]) =>
        tf.engine().runKernel(BACKWARD, { x: savedX, gain: savedGain, dy: dy as tf.Tensor }, { epsilon }) as unknown as tf.Tensor[],
    };
  }) as (x: tf.Tensor, gain: tf.Tensor, bias: tf.Tensor) => tf.Tensor;
  return normalise(x, gain, bias);
}

function layerNormOnOps(x: tf.Tensor, gain: tf.Tensor, bias: tf.Tensor, epsilon: number): tf.Tensor {
  const { mean, variance } = tf.moments(x, -1, true);
  return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, epsilon))), gain), bias);
}

/** (x - mean) / sqrt(var + epsilon) * gain + bias over the last axis of x, gain and bias [dim]. */
export const layerNorm = fusedOp([layerNormKernels], layerNormOnKernel, layerNormOnOps);
