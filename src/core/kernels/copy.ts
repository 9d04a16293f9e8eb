/**
 * Concat, Slice and SplitV on the wasm backend as strided copies in one wasm kernel
 * (src/kernels/copy.c, built into dist/copy.wasm). tfjs's wasm backend runs them as JavaScript
 * loops that make a typed-array view per row: the split in the gradient of the attention models'
 * concatenated token projection ([256, 10, 96] into 64 and 32) took about 9% of a step
 * (bench/README.md). Replaces tfjs's kernels of those names for 4-byte dtypes (float32, int32);
 * other dtypes go to tfjs's own. The worker turns it on with the other kernels
 * (src/core/kernels/index.ts); tests and in-process CLI commands keep tfjs's unless they enable it.
 */
import * as tf from '@tensorflow/tfjs';
import { RegisteredKernels, type HeapKernel, type KernelArgs } from './wasmModule';

interface KernelExports {
  copy_rows(src: number, srcStride: number, dst: number, dstStride: number, rows: number, width: number): void;
}

type Kernel = HeapKernel<KernelExports>;

const COPYABLE: readonly tf.DataType[] = ['float32', 'int32'];
const BYTES = 4;

const sizeOf = (shape: number[]) => shape.reduce((p, d) => p * d, 1);

/** Row-major strides, in elements. */
function stridesOf(shape: number[]): number[] {
  const strides = new Array<number>(shape.length);
  for (let a = shape.length - 1, stride = 1; a >= 0; a--) {
    strides[a] = stride;
    stride *= shape[a];
  }
  return strides;
}

/**
 * Copies the box `begin`, `size` of x into a new tensor. The innermost axes that the box spans
 * fully, with the first one that it does not, are contiguous runs; the axes before them that can
 * be stepped through evenly become rows of one call; any axes left are looped over here.
 */
function sliceInto(kernel: Kernel, x: tf.TensorInfo, begin: number[], size: number[]): tf.TensorInfo {
  const [out, outAt] = kernel.output(size, x.dtype);
  const total = sizeOf(size);
  if (total === 0) return out;
  const { shape } = x;
  const strides = stridesOf(shape);
  let partial = shape.length - 1; // the innermost axis the box does not span fully
  while (partial > 0 && size[partial] === shape[partial]) partial--;
  const width = size[partial] * strides[partial];
  let rowsAxis = partial - 1; // axes rowsAxis..partial-1 become rows of `width`, `strides[partial - 1]` apart
  let rows = 1;
  if (partial > 0) {
    rows = size[partial - 1];
    while (rowsAxis > 0 && size[rowsAxis] === shape[rowsAxis]) rows *= size[--rowsAxis];
  }
  const rowStride = partial > 0 ? strides[partial - 1] : 0;
  const start = begin.reduce((offset, b, a) => offset + b * strides[a], 0);
  const xAt = kernel.at(x, COPYABLE);
  const outer = size.slice(0, Math.max(rowsAxis, 0));
  const blocks = sizeOf(outer);
  for (let block = 0; block < blocks; block++) {
    let offset = start;
    for (let a = outer.length - 1, rest = block; a >= 0; a--) {
      offset += (rest % outer[a]) * strides[a];
      rest = Math.floor(rest / outer[a]);
    }
    kernel.exports.copy_rows(xAt + offset * BYTES, rowStride, outAt + block * rows * width * BYTES, width, rows, width);
  }
  return out;
}

function slice(kernel: Kernel, args: KernelArgs<{ begin: number | number[]; size?: number | number[] }>, tfjsSlice: tf.KernelFunc | undefined): tf.TensorInfo {
  const { inputs: { x }, attrs } = args;
  if (!COPYABLE.includes(x.dtype) || x.shape.length === 0) return tfjsSlice!(args as unknown as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
  const [begin, size] = tf.slice_util.parseSliceParams(x, attrs.begin, attrs.size);
  return sliceInto(kernel, x, begin, size);
}

function splitV(kernel: Kernel, args: KernelArgs<{ numOrSizeSplits: number | number[]; axis: number | number[] }>, tfjsSplitV: tf.KernelFunc | undefined): tf.TensorInfo[] {
  const { inputs: { x }, attrs } = args;
  if (!COPYABLE.includes(x.dtype) || x.shape.length === 0) return tfjsSplitV!(args as unknown as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo[];
  const axis = tf.util.parseAxisParam(attrs.axis, x.shape)[0];
  const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, attrs.numOrSizeSplits, axis);
  const begin = x.shape.map(() => 0);
  return sizes.map((length) => {
    const size = [...x.shape];
    size[axis] = length;
    const piece = sliceInto(kernel, x, [...begin], size);
    begin[axis] += length;
    return piece;
  });
}

function concat(kernel: Kernel, args: KernelArgs<{ axis: number | number[] }>, tfjsConcat: tf.KernelFunc | undefined): tf.TensorInfo {
  const inputs = Object.values(args.inputs);
  const axis = tf.util.parseAxisParam(args.attrs.axis, inputs[0].shape)[0];
  const present = inputs.filter((t) => sizeOf(t.shape) > 0);
  // tfjs's kernel checks the shapes (with its error messages) and returns a lone input as is.
  const sameShapes = inputs.every((t) => t.shape.length === inputs[0].shape.length && t.shape.every((d, a) => a === axis || d === inputs[0].shape[a]));
  if (!COPYABLE.includes(inputs[0].dtype) || inputs.some((t) => t.dtype !== inputs[0].dtype) || present.length < 2 || !sameShapes) {
    return tfjsConcat!(args as unknown as Parameters<tf.KernelFunc>[0]) as tf.TensorInfo;
  }
  const shape = tf.backend_util.computeOutShape(inputs.map((t) => t.shape), axis);
  const [out, outAt] = kernel.output(shape, inputs[0].dtype);
  const rows = sizeOf(shape.slice(0, axis));
  const outWidth = sizeOf(shape.slice(axis));
  let column = 0;
  for (const input of present) {
    const width = sizeOf(input.shape.slice(axis));
    kernel.exports.copy_rows(kernel.at(input, COPYABLE), width, outAt + column * BYTES, outWidth, rows, width);
    column += width;
  }
  return out;
}

/** Its registration with tfjs (load, enable, disable, active, calls), which the table turns on (index.ts). */
export const copyKernels = new RegisteredKernels<KernelExports>('copy', { Concat: concat, Slice: slice, SplitV: splitV });

