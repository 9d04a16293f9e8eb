/**
 * Model Lab's wasm kernels for the relational encoder's convolution (4 x 4, stride 2, padding 1,
 * NHWC) and its gradients: src/kernels/stridedConv.c, built into dist/strided-conv.wasm. tfjs's
 * wasm backend has no kernel for these gradients; as stride-1 convolutions (the fallback in
 * src/core/relational/layers.ts) the input gradient costs 4x its multiply-adds and both need
 * pads, transposes and reverses. The kernels compute the forward pass (with its bias and ReLU)
 * and both gradients as Winograd F(4x4, 2x2) where the shapes allow, 25 multiplies for every
 * 64, and otherwise as one product gathered straight from the padded operand (bench/README.md).
 *
 * Registered as three kernels of tfjs's wasm backend under Model Lab's own names, so that the
 * layer runs them through tfjs's engine (tensors, memory accounting, tf.tidy) like any op. The
 * worker turns them on with the other kernels (src/engine/kernels.ts); tests and in-process CLI
 * commands keep the fallback unless they enable them.
 */
import * as tf from '@tensorflow/tfjs';
import { RegisteredKernels, type HeapKernel, type KernelArgs } from './wasmModule';

export const STRIDED_CONV_FILE = 'strided-conv.wasm';

const FORWARD = 'ModelLabStridedConv';
const INPUT_GRADIENT = 'ModelLabStridedConvInputGradient';
const FILTER_GRADIENT = 'ModelLabStridedConvFilterGradient';

type Dims = [n: number, h: number, w: number, channels: number, outChannels: number];

interface KernelExports {
  forward_scratch(n: number, h: number, w: number, channels: number, outChannels: number): number;
  forward(x: number, w: number, bias: number, y: number, scratch: number, ...dimsAndRelu: [...Dims, number]): void;
  input_gradient_scratch(...dims: [n: number, oh: number, ow: number, channels: number, outChannels: number]): number;
  input_gradient(dy: number, w: number, dx: number, scratch: number, ...dims: [n: number, oh: number, ow: number, channels: number, outChannels: number]): void;
  filter_gradient_scratch(...dims: Dims): number;
  filter_gradient(x: number, dy: number, dw: number, scratch: number, ...dims: Dims): void;
}

/** relu(conv(x, filter) + bias) [N, H/2, W/2, O] (without the ReLU unless attrs.relu) from x [N, H, W, C], filter [4, 4, C, O], bias [O]. */
function forwardKernel(kernel: HeapKernel<KernelExports>, { inputs: { x, filter, bias }, attrs }: KernelArgs<{ relu: boolean }>): tf.TensorInfo {
  const [n, h, w, c] = x.shape;
  const o = filter.shape[3];
  const [y, yAt] = kernel.output([n, h / 2, w / 2, o]);
  const scratch = kernel.scratch(kernel.exports.forward_scratch(n, h, w, c, o));
  kernel.exports.forward(kernel.at(x), kernel.at(filter), kernel.at(bias), yAt, scratch, n, h, w, c, o, attrs.relu ? 1 : 0);
  return y;
}

/** dx [N, H, W, C] from dy [N, H/2, W/2, O] and filter [4, 4, C, O]. */
function inputGradientKernel(kernel: HeapKernel<KernelExports>, { inputs: { dy, filter } }: KernelArgs): tf.TensorInfo {
  const [n, oh, ow, o] = dy.shape;
  const c = filter.shape[2];
  const dims = [n, oh, ow, c, o] as const;
  const [dx, dxAt] = kernel.output([n, 2 * oh, 2 * ow, c]);
  const scratch = kernel.scratch(kernel.exports.input_gradient_scratch(...dims));
  kernel.exports.input_gradient(kernel.at(dy), kernel.at(filter), dxAt, scratch, ...dims);
  return dx;
}

/** dw [4, 4, C, O] from x [N, H, W, C] and dy [N, H/2, W/2, O]. */
function filterGradientKernel(kernel: HeapKernel<KernelExports>, { inputs: { x, dy } }: KernelArgs): tf.TensorInfo {
  const [n, h, w, c] = x.shape;
  const dims: Dims = [n, h, w, c, dy.shape[3]];
  const [dw, dwAt] = kernel.output([4, 4, c, dy.shape[3]]);
  const scratch = kernel.scratch(kernel.exports.filter_gradient_scratch(...dims));
  kernel.exports.filter_gradient(kernel.at(x), kernel.at(dy), dwAt, scratch, ...dims);
  return dw;
}

const kernels = new RegisteredKernels<KernelExports>(STRIDED_CONV_FILE, {
  [FORWARD]: forwardKernel,
  [INPUT_GRADIENT]: inputGradientKernel,
  [FILTER_GRADIENT]: filterGradientKernel,
});

export const loadStridedConvKernels = (candidates?: string[]): string | undefined => kernels.load(candidates);
export const enableStridedConvKernels = (candidates?: string[]): string | undefined => kernels.enable(candidates);
export const disableStridedConvKernels = (): void => kernels.disable();
/** Whether the current backend runs these gradients on the kernels. */
export const stridedConvKernelsActive = (): boolean => kernels.active();
/** Forward passes and gradients the kernels have computed in this process (tests check they are really used). */
export const stridedConvKernelCalls = (): number => kernels.calls;

/** relu(conv(x, filter) + bias), the 4 x 4, stride-2, padding-1 convolution, on the kernel (only when active; not differentiable). */
export function stridedConvBiasRelu(x: tf.Tensor4D, filter: tf.Tensor4D, bias: tf.Tensor1D): tf.Tensor4D {
  return tf.engine().runKernel(FORWARD, { x, filter, bias }, { relu: true }) as tf.Tensor4D;
}

/** dx of the 4 x 4, stride-2, padding-1 convolution on the kernel (only when active). */
export function stridedConvInputGradient(dy: tf.Tensor4D, filter: tf.Tensor4D): tf.Tensor4D {
  return tf.engine().runKernel(INPUT_GRADIENT, { dy, filter }) as tf.Tensor4D;
}

/** dw of the 4 x 4, stride-2, padding-1 convolution on the kernel (only when active). */
export function stridedConvFilterGradient(x: tf.Tensor4D, dy: tf.Tensor4D): tf.Tensor4D {
  return tf.engine().runKernel(FILTER_GRADIENT, { x, dy }) as tf.Tensor4D;
}
