/**
 * Multi-head attention with a key padding mask as one wasm kernel forward and one backward
 * (src/kernels/maskedAttention.c, built into dist/masked-attention.wasm), for the posterior
 * transformer and the attention models' training forward. As tfjs ops its [B, H, T, T] score maps (8 MB each at batch 32 and 128 tokens) go
 * through a product, the mask add, softmax, a product, and in the backward softmax's gradient:
 * about 60% of a step (bench/README.md). The kernels keep each head's maps in their own scratch,
 * recompute the probabilities in the backward pass instead of storing them (as FlashAttention
 * does), and read q, k and v in the models' token-major layout, so the head transposes go too.
 *
 * Registered with tfjs's wasm backend under Model Lab's own names and wrapped in a custom
 * gradient; the worker turns it on with the other kernels (src/core/kernels/index.ts), including
 * the sharing Identity, which makes the custom gradient's saved inputs free (tfjs's test mode
 * counts copied ones as a leak). The models call two ops, each on the kernel when it is on and as
 * its own tfjs op chain otherwise: `maskedAttention` (the posterior transformer's: scaled queries,
 * a key mask) and `selfAttention` (multi-head attention's: every key, scores scaled); a forward
 * that shows the attention maps calls `selfAttentionWithMaps`, tfjs ops only.
 */
import * as tf from '@tensorflow/tfjs';
import { fusedOp, RegisteredKernels, type HeapKernel, type KernelArgs } from './wasmModule';

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

/** Its registration with tfjs (load, enable, disable, active, calls), which the table turns on (index.ts). */
export const maskedAttentionKernels = new RegisteredKernels<KernelExports>('masked-attention', { [FORWARD]: forwardKernel, [BACKWARD]: backwardKernel });

/** On the kernel: differentiable in q, k and v. */
function maskedAttentionOnKernel(q: tf.Tensor3D, k: tf.Tensor3D, v: tf.Tensor3D, keyMask: tf.Tensor2D, heads: number, maskDiagonal = false): tf.Tensor3D {
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

const NEGATIVE_INFINITY_LOGIT = -1e9;

/** [B, T, H d] -> [B, H, T, d] */
const splitHeads = (t: tf.Tensor, heads: number): tf.Tensor4D => {
  const [batch, tokens, width] = t.shape;
  return tf.transpose(tf.reshape(t, [batch, tokens, heads, width / heads]), [0, 2, 1, 3]);
};

/** [B, H, T, d] -> [B, T, H d] */
const mergeHeads = (t: tf.Tensor): tf.Tensor3D => {
  const [batch, heads, tokens, width] = t.shape;
  return tf.reshape(tf.transpose(t, [0, 2, 1, 3]), [batch, tokens, heads * width]);
};

function maskedAttentionOnOps(q: tf.Tensor3D, k: tf.Tensor3D, v: tf.Tensor3D, keyMask: tf.Tensor2D, heads: number, maskDiagonal = false): tf.Tensor3D {
  const [batch, tokens] = k.shape;
  const padding = tf.reshape(tf.mul(tf.sub(1, keyMask), NEGATIVE_INFINITY_LOGIT), [batch, 1, 1, tokens]);
  let scores = tf.add(tf.matMul(splitHeads(q, heads), splitHeads(k, heads), false, true), padding);
  if (maskDiagonal) scores = tf.add(scores, tf.mul(tf.eye(tokens), NEGATIVE_INFINITY_LOGIT));
  return mergeHeads(tf.matMul(tf.softmax(scores), splitHeads(v, heads)));
}

/**
 * Attention of queries q [B, Tq, H d] (already scaled by 1/sqrt(d)) to keys k and values v
 * [B, T, H d] where keyMask [B, T] is 1, per head -> [B, Tq, H d], heads concatenated; with
 * maskDiagonal (Tq = T) query i does not attend to key i. Differentiable in q, k and v.
 */
export const maskedAttention = fusedOp([maskedAttentionKernels], maskedAttentionOnKernel, maskedAttentionOnOps);

/**
 * Self-attention of q, k, v [B, N, H d] (q not scaled) over every token: the merged heads
 * [B, N, H d] and the maps softmax(q_h k_h^T / sqrt(d)) [B, H, N, N], with maskDiagonal a token
 * not attending to itself. tfjs ops only: the kernel keeps no maps.
 */
export function selfAttentionWithMaps(q: tf.Tensor3D, k: tf.Tensor3D, v: tf.Tensor3D, heads: number, maskDiagonal: boolean): { merged: tf.Tensor3D; maps: tf.Tensor4D } {
  const tokens = q.shape[1];
  const headDim = q.shape[2] / heads;
  let scores = tf.matMul(splitHeads(q, heads), splitHeads(k, heads), false, true).div(Math.sqrt(headDim)) as tf.Tensor4D;
  if (maskDiagonal) scores = scores.add(tf.eye(tokens).mul(NEGATIVE_INFINITY_LOGIT));
  const maps = tf.softmax(scores) as tf.Tensor4D;
  return { merged: mergeHeads(tf.matMul(maps, splitHeads(v, heads))), maps };
}

/** selfAttentionWithMaps' merged heads without the maps: on the kernel when it is on. */
export const selfAttention = fusedOp(
  [maskedAttentionKernels],
  (q: tf.Tensor3D, k: tf.Tensor3D, v: tf.Tensor3D, heads: number, maskDiagonal: boolean): tf.Tensor3D => {
    const [batch, tokens, width] = q.shape;
    const scaled = tf.mul(q, 1 / Math.sqrt(width / heads)) as tf.Tensor3D;
    return maskedAttentionOnKernel(scaled, k, v, tf.ones([batch, tokens]) as tf.Tensor2D, heads, maskDiagonal);
  },
  (q: tf.Tensor3D, k: tf.Tensor3D, v: tf.Tensor3D, heads: number, maskDiagonal: boolean): tf.Tensor3D => selfAttentionWithMaps(q, k, v, heads, maskDiagonal).merged,
);
