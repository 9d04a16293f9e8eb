/**
 * A dense layer, act(x w + bias) with act = identity or ReLU, as one wasm kernel forward and one
 * backward (src/kernels/dense.c, built into dist/dense.wasm, on the same register-blocked product
 * as the matMul kernel). As tfjs ops a layer is three kernels forward (product, broadcast add,
 * ReLU) and six backward; the bias add and ReLU alone were about 15% of a multi-head attention
 * step (bench/README.md). Registered with tfjs's wasm backend under Model Lab's own names and
 * wrapped in a custom gradient. `dense` is the op src/core/layers/linear.ts calls: on the kernel
 * when it is on (src/core/kernels/index.ts), as tfjs ops otherwise.
 */
import * as tf from '@tensorflow/tfjs';
import { fusedOp, RegisteredKernels, type HeapKernel, type KernelArgs } from './wasmModule';

const FORWARD = 'ModelLabDense';
const BACKWARD = 'ModelLabDenseGrad';
const BIAS_RELU_BACKWARD = 'ModelLabBiasReluGrad';

interface KernelExports {
  dense_forward(x: number, w: number, bias: number, y: number, m: number, n: number, k: number, relu: number): void;
  dense_backward_scratch(m: number, n: number, k: number, relu: number): number;
  dense_backward(x: number, w: number, y: number, dy: number, dx: number, dw: number, dbias: number, scratch: number, m: number, n: number, k: number, relu: number): void;
  bias_relu_backward(y: number, dy: number, dx: number, dbias: number, rows: number, n: number): void;
}

type DenseArgs = KernelArgs<{ relu: boolean }>;

function forwardKernel(kernel: HeapKernel<KernelExports>, { inputs: { x, w, bias }, attrs }: DenseArgs): tf.TensorInfo {
  const [m, k] = x.shape;
  const n = w.shape[1];
  const [y, yAt] = kernel.output([m, n]);
  kernel.exports.dense_forward(kernel.at(x), kernel.at(w), kernel.at(bias), yAt, m, n, k, attrs.relu ? 1 : 0);
  return y;
}

function backwardKernel(kernel: HeapKernel<KernelExports>, { inputs: { x, w, y, dy }, attrs }: DenseArgs): tf.TensorInfo[] {
  const [m, k] = x.shape;
  const n = w.shape[1];
  const relu = attrs.relu ? 1 : 0;
  const [dx, dxAt] = kernel.output([m, k]);
  const [dw, dwAt] = kernel.output([k, n]);
  const [dbias, dbiasAt] = kernel.output([n]);
  const scratch = kernel.scratch(kernel.exports.dense_backward_scratch(m, n, k, relu));
  kernel.exports.dense_backward(kernel.at(x), kernel.at(w), kernel.at(y), kernel.at(dy), dxAt, dwAt, dbiasAt, scratch, m, n, k, relu);
  return [dx, dw, dbias];
}

/** dx and dbias of y = relu(x + bias), from y and dy [..., n]. */
function biasReluBackwardKernel(kernel: HeapKernel<KernelExports>, { inputs: { y, dy } }: KernelArgs): tf.TensorInfo[] {
  const n = y.shape[y.shape.length - 1];
  const rows = y.shape.reduce((p, d) => p * d, 1) / n;
  const [dx, dxAt] = kernel.output(y.shape);
  const [dbias, dbiasAt] = kernel.output([n]);
  kernel.exports.bias_relu_backward(kernel.at(y), kernel.at(dy), dxAt, dbiasAt, rows, n);
  return [dx, dbias];
}

/** Its registration with tfjs (load, enable, disable, active, calls), which the table turns on (index.ts). */
export const denseKernels = new RegisteredKernels<KernelExports>('dense', {
  [FORWARD]: forwardKernel,
  [BACKWARD]: backwardKernel,
  [BIAS_RELU_BACKWARD]: biasReluBackwardKernel,
});

/** On the kernel (float32 with a bias only): differentiable in x, w and bias. */
function denseOnKernel(x: tf.Tensor2D, w: tf.Tensor2D, bias: tf.Tensor1D, relu: boolean): tf.Tensor2D {
  const dense = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input, weight, b] = args as tf.Tensor[];
    const y = tf.engine().runKernel(FORWARD, { x: input, w: weight, bias: b }, { relu }) as tf.Tensor;
    // y is saved for the ReLU's mask (y > 0 exactly where its input is).
    (args[3] as tf.GradSaveFunc)([input, weight, y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], [savedX, savedW, savedY]: tf.Tensor[]) =>
        tf.engine().runKernel(BACKWARD, { x: savedX, w: savedW, y: savedY, dy: dy as tf.Tensor }, { relu }) as unknown as tf.Tensor[],
    };
  }) as (x: tf.Tensor, w: tf.Tensor, bias: tf.Tensor) => tf.Tensor2D;
  return dense(x, w, bias);
}

/**
 * [dx, dbias] of y = relu(x + bias) over the last axis, from y and dy: the backward of a layer whose
 * product is not a matrix product (the strided convolution's fused op). On the kernel only.
 */
export function biasReluGradient(y: tf.Tensor, dy: tf.Tensor): [tf.Tensor, tf.Tensor1D] {
  return tf.engine().runKernel(BIAS_RELU_BACKWARD, { y, dy }) as unknown as [tf.Tensor, tf.Tensor1D];
}

/**
 * y [M, out] + bias [out]. The gradient of the bias is 1^T dy as a product: tfjs's own gradient
 * of the broadcast add is sum(dy, 0), which the wasm backend runs through a transpose, about
 * 13x slower than the product at [4096, 32] (bench/README.md).
 */
const addRowBias = tf.customGrad((...inputs: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [y, bias] = inputs as tf.Tensor[];
  return {
    value: tf.add(y, bias),
    gradFunc: (dy: tf.Tensor | tf.Tensor[]) => {
      const upstream = dy as tf.Tensor2D;
      return [upstream, tf.reshape(tf.matMul(tf.ones([1, upstream.shape[0]]), upstream), bias.shape)];
    },
  };
}) as (y: tf.Tensor, bias: tf.Tensor) => tf.Tensor;

function denseOnOps(x: tf.Tensor2D, w: tf.Tensor2D, bias: tf.Tensor1D | undefined, relu: boolean): tf.Tensor {
  const product = bias ? addRowBias(tf.matMul(x, w), bias) : tf.matMul(x, w);
  return relu ? tf.relu(product) : product;
}

/** act(x w + bias) for x [M, in], w [in, out], bias [out] (or none), act = ReLU when `relu`, else identity. */
export const dense = fusedOp(
  [denseKernels],
  (x: tf.Tensor2D, w: tf.Tensor2D, bias: tf.Tensor1D | undefined, relu: boolean): tf.Tensor =>
    bias && x.dtype === 'float32' ? denseOnKernel(x, w, bias, relu) : denseOnOps(x, w, bias, relu),
  denseOnOps,
);
