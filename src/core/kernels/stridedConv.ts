/**
 * Model Lab's wasm kernels for the relational encoder's convolution (4 x 4, stride 2, padding 1,
 * NHWC) and its gradients: src/kernels/stridedConv.c, built into dist/strided-conv.wasm. tfjs's
 * wasm backend has no kernel for these gradients; as stride-1 convolutions (the fallback below)
 * the input gradient costs 4x its multiply-adds and both need
 * pads, transposes and reverses. The kernels compute the forward pass (with its bias and ReLU)
 * and both gradients as Winograd F(4x4, 2x2) where the shapes allow, 25 multiplies for every
 * 64, and otherwise as one product gathered straight from the padded operand (bench/README.md).
 *
 * Registered as three kernels of tfjs's wasm backend under Model Lab's own names, so that the
 * layer runs them through tfjs's engine (tensors, memory accounting, tf.tidy) like any op. The
 * worker turns them on with the other kernels (src/core/kernels/index.ts); tests and in-process
 * CLI commands keep the fallback unless they enable them. Models call `stridedConv` (tf.conv2d,
 * whose gradient is chosen below) and `stridedConvRelu`, the fused forward with its own gradients.
 */
import * as tf from '@tensorflow/tfjs';
import { biasReluGradient, denseKernels } from './dense';
import { fusedOp, RegisteredKernels, type HeapKernel, type KernelArgs } from './wasmModule';

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

/** Its registration with tfjs (load, enable, disable, active, calls), which the table turns on (index.ts). */
export const stridedConvKernels = new RegisteredKernels<KernelExports>('strided-conv', {
  [FORWARD]: forwardKernel,
  [INPUT_GRADIENT]: inputGradientKernel,
  [FILTER_GRADIENT]: filterGradientKernel,
});

/** relu(conv(x, filter) + bias), the 4 x 4, stride-2, padding-1 convolution, on the kernel (only when on; not differentiable). */
function stridedConvBiasReluOnKernel(x: tf.Tensor4D, filter: tf.Tensor4D, bias: tf.Tensor1D): tf.Tensor4D {
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

const SIZE = 4;
const STRIDED_PADDING: [[number, number], [number, number], [number, number], [number, number]] = [[0, 0], [1, 1], [1, 1], [0, 0]];

/** kernel [4 * 4 * in, out] (a dense layer's, flattened) as tf.conv2d's filter [4, 4, in, out]. */
const filterOf = (kernel: tf.Tensor2D): tf.Tensor4D => kernel.reshape([SIZE, SIZE, kernel.shape[0] / SIZE ** 2, kernel.shape[1]]) as tf.Tensor4D;

/** conv(x, kernel) + bias, the 4 x 4, stride-2, padding-1 convolution: x [N, H, W, in] with H and W even -> [N, H / 2, W / 2, out]. */
export function stridedConv(x: tf.Tensor4D, kernel: tf.Tensor2D, bias: tf.Tensor1D): tf.Tensor4D {
  return tf.add(tf.conv2d(x, filterOf(kernel), 2, STRIDED_PADDING), bias) as tf.Tensor4D;
}

/**
 * relu(stridedConv(x, kernel, bias)). On Model Lab's kernels (strided-conv and dense) it is one
 * kernel forward (convolution, bias and ReLU) and three backward (ReLU mask with the bias gradient,
 * the input and filter gradients), instead of four ops and seven. With `xIsData` (an encoder's
 * first layer, whose input is the images) no input gradient is computed on the kernels: zeros
 * stand in for it.
 */
export const stridedConvRelu = fusedOp(
  [stridedConvKernels, denseKernels],
  (x: tf.Tensor4D, kernel: tf.Tensor2D, bias: tf.Tensor1D, xIsData: boolean): tf.Tensor4D => {
    const convolve = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
      const [input, flat, b] = args as [tf.Tensor4D, tf.Tensor2D, tf.Tensor1D];
      const filter = filterOf(flat);
      const y = stridedConvBiasReluOnKernel(input, filter, b);
      (args[3] as tf.GradSaveFunc)([input, filter, y]);
      return {
        value: y,
        gradFunc: (dy: tf.Tensor | tf.Tensor[], [savedX, savedFilter, savedY]: tf.Tensor[]) => {
          const [dyPre, dbias] = biasReluGradient(savedY, dy as tf.Tensor);
          const dfilter = stridedConvFilterGradient(savedX as tf.Tensor4D, dyPre as tf.Tensor4D).reshape(flat.shape);
          const dx = xIsData ? tf.zerosLike(savedX) : stridedConvInputGradient(dyPre as tf.Tensor4D, savedFilter as tf.Tensor4D);
          return [dx, dfilter, dbias];
        },
      };
    }) as (x: tf.Tensor, kernel: tf.Tensor, bias: tf.Tensor) => tf.Tensor4D;
    return convolve(x, kernel, bias);
  },
  (x: tf.Tensor4D, kernel: tf.Tensor2D, bias: tf.Tensor1D): tf.Tensor4D => tf.relu(stridedConv(x, kernel, bias)),
);

/**
 * Gradient of Conv2D for the 4 x 4, stride 2, padding 1 case (NHWC, no dilation): on the kernels
 * where they are on, otherwise as plain stride-1 convolutions, which the wasm backend runs on its
 * fast path (bench/README.md, "Relational training speed"). tfjs calls a gradient only for inputs
 * on the path to the variables, so the encoder's first layer (input = data) skips dx. Every other
 * Conv2D keeps tfjs's own gradient. Registered process-wide, once, when this module loads, like the
 * 2-D matMul gradient in batchedMatMul.ts.
 */
function registerStridedConvGradient(): void {
  const builtin = tf.getGradient('Conv2D');
  if (!builtin || (builtin as { strided?: boolean }).strided) return;
  const inputGradient = fusedOp([stridedConvKernels], stridedConvInputGradient, convInputGradient);
  const filterGradient = fusedOp([stridedConvKernels], stridedConvFilterGradient, convFilterGradient);
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
      return {
        x: () => inputGradient(dy as tf.Tensor4D, filter),
        filter: () => filterGradient(x, dy as tf.Tensor4D),
      };
    },
  };
  tf.registerGradient(config);
}
registerStridedConvGradient();

/**
 * dW [4, 4, C, out] of the stride-2, padding-1 convolution, from x [N, H, W, C] and dy [N, H/2, W/2, out]:
 * dW[ki, kj, c, o] = sum_{n,i,j} xpad[n, 2i + ki, 2j + kj, c] dy[n, i, j, o], a convolution of
 * xpad (batch and channels swapped) with dy as filter, dilation 2.
 */
function convFilterGradient(x: tf.Tensor4D, dy: tf.Tensor4D): tf.Tensor4D {
  const channelsFirst = tf.pad(x, [[0, 0], [1, 1], [1, 1], [0, 0]]).transpose([3, 1, 2, 0]) as tf.Tensor4D; // [C, H+2, W+2, N]
  const dyFilter = dy.transpose([1, 2, 0, 3]) as tf.Tensor4D; // [H/2, W/2, N, out]
  return tf.conv2d(channelsFirst, dyFilter, 1, 'valid', 'NHWC', 2).transpose([1, 2, 0, 3]); // [C, 4, 4, out] -> [4, 4, C, out]
}

/**
 * dx [N, H, W, C] of the stride-2, padding-1 convolution, from dy [N, H/2, W/2, out] and w [4, 4, C, out]:
 * dy with zeros inserted between rows and columns (undoing the stride), padded, convolved with the
 * kernel flipped in space and with in/out swapped. (Tried: one 2 x 2 convolution giving the four
 * parities as channels, then depthToSpace; 2.4x slower on wasm, whose depthToSpace is a generic copy.)
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
