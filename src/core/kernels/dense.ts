/**
 * A dense layer, act(x w + bias) with act = identity, ReLU or GELU, as one wasm kernel forward and
 * one backward (src/kernels/dense.c, built into dist/dense.wasm, on the same register-blocked
 * product as the matMul kernel). As tfjs ops a layer is three kernels forward (product, broadcast
 * add, ReLU) and six backward; the bias add and ReLU alone were about 15% of a multi-head attention
 * step (bench/README.md), and GELU's erf form as tfjs ops (Erf, Exp and their multiplies) most of
 * a diffusion sampler step. GELU is PyTorch's exact form (src/kernels/gelu.h); its forward also
 * writes the slope gelu'(z), which the backward multiplies by, only where tfjs records a gradient
 * tape (a forward under no gradient, as the sampler's draw, writes y alone). Registered with tfjs's wasm backend
 * under Model Lab's own names and wrapped in a custom gradient. `dense` is the op
 * src/core/layers/linear.ts calls and `gelu` the activation alone: on the kernel when it is on
 * (src/core/kernels/index.ts), as tfjs ops otherwise.
 */
import * as tf from '@tensorflow/tfjs';
import { fusedOp, RegisteredKernels, type HeapKernel, type KernelArgs, type WasmBackend } from './wasmModule';

const FORWARD = 'ModelLabDense';
const GELU_FORWARD = 'ModelLabDenseGelu';
const BACKWARD = 'ModelLabDenseGrad';
const BIAS_RELU_BACKWARD = 'ModelLabBiasReluGrad';
const GELU = 'ModelLabGelu';

/** The activation after a dense layer's product and bias. */
export type Activation = 'identity' | 'relu' | 'gelu';
/** Their codes in src/kernels/dense.c. */
const ACTIVATION_CODES: Record<Activation, number> = { identity: 0, relu: 1, gelu: 2 };

interface KernelExports {
  dense_forward(x: number, w: number, bias: number, y: number, slope: number, m: number, n: number, k: number, activation: number): void;
  dense_backward_scratch(m: number, n: number, k: number, activation: number): number;
  dense_backward(x: number, w: number, saved: number, dy: number, dx: number, dw: number, dbias: number, scratch: number, m: number, n: number, k: number, activation: number): void;
  bias_relu_backward(y: number, dy: number, dx: number, dbias: number, rows: number, n: number): void;
  gelu_forward(x: number, y: number, slope: number, size: number): void;
}

type DenseArgs = KernelArgs<{ activation: Activation }>;

/** y = act(x w + bias), without GELU's slope (a forward under no gradient tape). */
function forwardKernel(kernel: HeapKernel<KernelExports>, { inputs: { x, w, bias }, attrs }: DenseArgs): tf.TensorInfo {
  const [m, k] = x.shape;
  const n = w.shape[1];
  const [y, yAt] = kernel.output([m, n]);
  kernel.exports.dense_forward(kernel.at(x), kernel.at(w), kernel.at(bias), yAt, 0, m, n, k, ACTIVATION_CODES[attrs.activation]);
  return y;
}

/** y = gelu(x w + bias), and its slope there, which the backward multiplies dy by, into `slope` (see withSlope). */
function geluForwardKernel(kernel: HeapKernel<KernelExports>, { inputs: { x, w, bias, slope } }: KernelArgs): tf.TensorInfo {
  const [m, k] = x.shape;
  const n = w.shape[1];
  const [y, yAt] = kernel.output([m, n]);
  kernel.exports.dense_forward(kernel.at(x), kernel.at(w), kernel.at(bias), yAt, kernel.at(slope), m, n, k, ACTIVATION_CODES.gelu);
  return y;
}

/** `saved` is y with ReLU, the slope with GELU; unused without an activation. */
function backwardKernel(kernel: HeapKernel<KernelExports>, { inputs: { x, w, saved, dy }, attrs }: DenseArgs): tf.TensorInfo[] {
  const [m, k] = x.shape;
  const n = w.shape[1];
  const activation = ACTIVATION_CODES[attrs.activation];
  const [dx, dxAt] = kernel.output([m, k]);
  const [dw, dwAt] = kernel.output([k, n]);
  const [dbias, dbiasAt] = kernel.output([n]);
  const scratch = kernel.scratch(kernel.exports.dense_backward_scratch(m, n, k, activation));
  kernel.exports.dense_backward(kernel.at(x), kernel.at(w), kernel.at(saved), kernel.at(dy), dxAt, dwAt, dbiasAt, scratch, m, n, k, activation);
  return [dx, dw, dbias];
}

/** gelu(x) elementwise, and gelu'(x) into `slope` when given (see withSlope). */
function geluKernel(kernel: HeapKernel<KernelExports>, { inputs: { x, slope } }: KernelArgs): tf.TensorInfo {
  const [y, yAt] = kernel.output(x.shape);
  kernel.exports.gelu_forward(kernel.at(x), yAt, slope ? kernel.at(slope) : 0, x.shape.reduce((p, d) => p * d, 1));
  return y;
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
  [GELU_FORWARD]: geluForwardKernel,
  [BACKWARD]: backwardKernel,
  [BIAS_RELU_BACKWARD]: biasReluBackwardKernel,
  [GELU]: geluKernel,
});

/** On the kernel (float32 with a bias only): differentiable in x, w and bias. */
function denseOnKernel(x: tf.Tensor2D, w: tf.Tensor2D, bias: tf.Tensor1D, activation: Activation): tf.Tensor2D {
  if (activation === 'gelu') {
    if (!tf.engine().isTapeOn()) return tf.engine().runKernel(FORWARD, { x, w, bias }, { activation }) as tf.Tensor2D;
    return withSlope([x.shape[0], w.shape[1]], (slope) => tf.engine().runKernel(GELU_FORWARD, { x, w, bias, slope }) as tf.Tensor2D);
  }
  const dense = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input, weight, b] = args as tf.Tensor[];
    const y = tf.engine().runKernel(FORWARD, { x: input, w: weight, bias: b }, { activation }) as tf.Tensor;
    // y is saved for the ReLU's mask (y > 0 exactly where its input is).
    (args[3] as tf.GradSaveFunc)([input, weight, y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], [savedX, savedW, savedY]: tf.Tensor[]) =>
        tf.engine().runKernel(BACKWARD, { x: savedX, w: savedW, saved: savedY, dy: dy as tf.Tensor }, { activation }) as unknown as tf.Tensor[],
    };
  }) as (x: tf.Tensor, w: tf.Tensor, bias: tf.Tensor) => tf.Tensor2D;
  return dense(x, w, bias);
}

/**
 * run(slope) with `slope` a new uninitialised tensor of `shape`, which the GELU kernel run fills
 * with gelu' and whose gradient (registered below) saves it as an input; disposed here, kept by
 * the tape until the backward. Why an input the kernel writes rather than a second output: tfjs
 * gives every output a dy in the backward, zeros it builds in JS and copies into the heap for one
 * no op uses (1.6 MB per [6400, 64] layer), and a custom gradient may only save tensors that exist
 * before it or its one result (tfjs's test mode, on here, counts any other as a leak). As an input
 * that is no function of the variables, tfjs's backward asks no gradient for it.
 */
function withSlope<T extends tf.Tensor>(shape: number[], run: (slope: tf.Tensor) => T): T {
  const backend = tf.backend() as unknown as WasmBackend;
  const slope = tf.engine().makeTensorFromTensorInfo(backend.makeOutput(shape, 'float32'));
  const y = run(slope);
  slope.dispose();
  return y;
}

// The backward runs once, for every input.
tf.registerGradient({
  kernelName: GELU_FORWARD,
  inputsToSave: ['x', 'w', 'slope'],
  gradFunc: (dy: tf.Tensor | tf.Tensor[], [x, w, slope]: tf.Tensor[]) => {
    const [dx, dw, dbias] = tf.engine().runKernel(BACKWARD, { x, w, saved: slope, dy: dy as tf.Tensor }, { activation: 'gelu' }) as unknown as tf.Tensor[];
    return { x: () => dx, w: () => dw, bias: () => dbias };
  },
});
tf.registerGradient({
  kernelName: GELU,
  inputsToSave: ['slope'],
  gradFunc: (dy: tf.Tensor | tf.Tensor[], [slope]: tf.Tensor[]) => ({ x: () => tf.mul(dy as tf.Tensor, slope) }),
});

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

/** GELU as PyTorch's default, the exact erf form, as tfjs ops: x / 2 (1 + erf(x / sqrt 2)). */
function geluOnOps(x: tf.Tensor): tf.Tensor {
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1));
}

/** GELU on the kernel: under a gradient tape its forward also gives the slope, so the gradient is one multiply. */
function geluOnKernel(x: tf.Tensor): tf.Tensor {
  if (!tf.engine().isTapeOn()) return tf.engine().runKernel(GELU, { x }) as tf.Tensor;
  return withSlope(x.shape, (slope) => tf.engine().runKernel(GELU, { x, slope }) as tf.Tensor);
}

const ACTIVATIONS_ON_OPS: Record<Activation, (x: tf.Tensor) => tf.Tensor> = { identity: (x) => x, relu: tf.relu, gelu: geluOnOps };

function denseOnOps(x: tf.Tensor2D, w: tf.Tensor2D, bias: tf.Tensor1D | undefined, activation: Activation): tf.Tensor {
  const product = bias ? addRowBias(tf.matMul(x, w), bias) : tf.matMul(x, w);
  return ACTIVATIONS_ON_OPS[activation](product);
}

/** act(x w + bias) for x [M, in], w [in, out], bias [out] (or none). */
export const dense = fusedOp(
  [denseKernels],
  (x: tf.Tensor2D, w: tf.Tensor2D, bias: tf.Tensor1D | undefined, activation: Activation): tf.Tensor =>
    bias && x.dtype === 'float32' ? denseOnKernel(x, w, bias, activation) : denseOnOps(x, w, bias, activation),
  denseOnOps,
);

/** GELU, PyTorch's exact (erf) form, elementwise: x Phi(x) with Phi the standard normal CDF. */
export const gelu = fusedOp([denseKernels], (x: tf.Tensor): tf.Tensor => (x.dtype === 'float32' ? geluOnKernel(x) : geluOnOps(x)), geluOnOps);
