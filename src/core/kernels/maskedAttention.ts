/**
 * Multi-head attention with a key padding mask as one wasm kernel forward and one backward
 * (src/kernels/maskedAttention.c, built into dist/masked-attention.wasm), for the posterior
 * transformer. As tfjs ops its [B, H, T, T] score maps (8 MB each at batch 32 and 128 tokens) go
 * through a product, the mask add, softmax, a product, and in the backward softmax's gradient:
 * about 60% of a step (bench/README.md). The kernels keep each head's maps in their own scratch,
 * recompute the probabilities in the backward pass instead of storing them (as FlashAttention
 * does), and read q, k and v in the models' token-major layout, so the head transposes go too.
 *
 * Registered with tfjs's wasm backend under Model Lab's own names and wrapped in a custom
 * gradient; the worker turns it on with the other kernels (src/engine/kernels.ts), including the
 * sharing Identity, which makes the custom gradient's saved inputs free (tfjs's test mode counts
 * copied ones as a leak).
 */
import * as tf from '@tensorflow/tfjs';
import { RegisteredKernels, type HeapKernel, type KernelArgs } from './wasmModule';

export const MASKED_ATTENTION_FILE = 'masked-attention.wasm';

const FORWARD = 'ModelLabMaskedAttention';
const BACKWARD = 'ModelLabMaskedAttentionGrad';

type Dims = [batch: number, queries: number, keys: number, heads: number, headDim: number];

interface KernelExports {
  attention_scratch(queries: number, keys: number, headDim: number): number;
  attention_forward(q: number, k: number, v: number, mask: number, out: number, scratch: number, ...dimsAndDiagonal: [...Dims, number]): void;
  attention_backward(q: number, k: number, v: number, mask: number, dout: number, dq: number, dk: number, dv: number, scratch: number, ...dimsAndDiagonal: [...Dims, number]): void;
}

type AttentionArgs = KernelArgs<{ heads: number; maskDiagonal: boolean }>;

/** [batch, queries, keys, heads, headDim] of q [B, Tq, H d] and k [B, T, H d]. */
function dimsOf(q: tf.TensorInfo, k: tf.TensorInfo, heads: number): Dims {
  const [batch, queries, width] = q.shape;
  return [batch, queries, k.shape[1], heads, width / heads];
}

/** The kernels' scratch (one head's maps) for these dims. */
function scratchFor(kernel: HeapKernel<KernelExports>, [, queries, keys, , headDim]: Dims): number {
  return kernel.scratch(kernel.exports.attention_scratch(queries, keys, headDim) * 4);
}

function forwardKernel(kernel: HeapKernel<KernelExports>, { inputs: { q, k, v, mask }, attrs }: AttentionArgs): tf.TensorInfo {
  const dims = dimsOf(q, k, attrs.heads);
  const [out, outAt] = kernel.output(q.shape);
  kernel.exports.attention_forward(kernel.at(q), kernel.at(k), kernel.at(v), kernel.at(mask), outAt, scratchFor(kernel, dims), ...dims, attrs.maskDiagonal ? 1 : 0);
  return out;
}

function backwardKernel(kernel: HeapKernel<KernelExports>, { inputs: { q, k, v, mask, dout }, attrs }: AttentionArgs): tf.TensorInfo[] {
  const dims = dimsOf(q, k, attrs.heads);
  const [dq, dqAt] = kernel.output(q.shape);
  const [dk, dkAt] = kernel.output(k.shape);
  const [dv, dvAt] = kernel.output(v.shape);
  kernel.exports.attention_backward(kernel.at(q), kernel.at(k), kernel.at(v), kernel.at(mask), kernel.at(dout), dqAt, dkAt, dvAt, scratchFor(kernel, dims), ...dims, attrs.maskDiagonal ? 1 : 0);
  return [dq, dk, dv];
}

const kernels = new RegisteredKernels<KernelExports>(MASKED_ATTENTION_FILE, { [FORWARD]: forwardKernel, [BACKWARD]: backwardKernel });

export const loadMaskedAttentionKernel = (candidates?: string[]): string | undefined => kernels.load(candidates);
export const enableMaskedAttentionKernel = (candidates?: string[]): string | undefined => kernels.enable(candidates);
export const disableMaskedAttentionKernel = (): void => kernels.disable();
/** Whether the current backend runs masked attention on the kernel. */
export const maskedAttentionKernelActive = (): boolean => kernels.active();
/** Forward and backward passes the kernel has computed in this process. */
export const maskedAttentionKernelCalls = (): number => kernels.calls;

/**
 * Attention of queries q [B, Tq, H d] (already scaled by 1/sqrt(d)) to keys k and values v
 * [B, T, H d] where keyMask [B, T] is 1, per head -> [B, Tq, H d], heads concatenated; with
 * maskDiagonal (Tq = T) query i does not attend to key i. On the kernel only
 * (maskedAttentionKernelActive); differentiable in q, k and v.
 */
export function maskedAttention(q: tf.Tensor3D, k: tf.Tensor3D, v: tf.Tensor3D, keyMask: tf.Tensor2D, heads: number, maskDiagonal = false): tf.Tensor3D {
  const attention = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [query, key, value, mask] = args as tf.Tensor[];
    // Saved for the backward pass, which recomputes the probabilities from them: a model's
    // intermediates can be freed before the gradients are taken.
    (args[4] as tf.GradSaveFunc)([query, key, value, mask]);
    return {
      value: tf.engine().runKernel(FORWARD, { q: query, k: key, v: value, mask }, { heads, maskDiagonal }) as tf.Tensor,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => {
        const [sq, sk, sv, smask] = saved;
        const [dq, dk, dv] = tf.engine().runKernel(BACKWARD, { q: sq, k: sk, v: sv, mask: smask, dout: dy as tf.Tensor }, { heads, maskDiagonal }) as unknown as tf.Tensor[];
        return [dq, dk, dv, tf.zerosLike(smask)];
      },
    };
  }) as (q: tf.Tensor, k: tf.Tensor, v: tf.Tensor, mask: tf.Tensor) => tf.Tensor3D;
  return attention(q, k, v, keyMask);
}
