/**
 * Adam's update of one parameter as one wasm kernel (src/kernels/adam.c, built into
 * dist/adam.wasm): as tfjs ops it is 13 kernels per parameter and step (about 500 dispatches a
 * step for the posterior transformer's 39 parameters), each a pass over the parameter. The kernel
 * does the same float32 operations in the same order, so its results are bit for bit those of
 * the ops (test/unit/adamKernel.test.ts). `adamUpdate` is the op src/core/optimizers.ts calls: on
 * the kernel when it is on (src/core/kernels/index.ts), as those ops otherwise.
 */
import * as tf from '@tensorflow/tfjs';
import { fusedOp, RegisteredKernels, type HeapKernel, type KernelArgs } from './wasmModule';

const UPDATE = 'ModelLabAdam';

/** Adam's constants for one step, as src/core/optimizers.ts computes them. */
export interface AdamStep {
  beta1: number;
  beta2: number;
  epsilon: number;
  /** sqrt(1 - beta2^t) */
  correction: number;
  /** learning rate / (1 - beta1^t) */
  stepSize: number;
}

interface KernelExports {
  adam(p: number, g: number, m: number, v: number, pOut: number, mOut: number, vOut: number, n: number,
    beta1: number, oneMinusBeta1: number, beta2: number, oneMinusBeta2: number, correction: number, epsilon: number, stepSize: number): void;
}

function updateKernel(kernel: HeapKernel<KernelExports>, { inputs: { p, g, m, v }, attrs }: KernelArgs<AdamStep>): tf.TensorInfo[] {
  const [pOut, pAt] = kernel.output(p.shape);
  const [mOut, mAt] = kernel.output(p.shape);
  const [vOut, vAt] = kernel.output(p.shape);
  const n = p.shape.reduce((product, d) => product * d, 1);
  const { beta1, beta2, epsilon, correction, stepSize } = attrs;
  // 1 - beta is taken in double precision, as the ops' `tf.mul(g, 1 - beta1)` does.
  kernel.exports.adam(kernel.at(p), kernel.at(g), kernel.at(m), kernel.at(v), pAt, mAt, vAt, n, beta1, 1 - beta1, beta2, 1 - beta2, correction, epsilon, stepSize);
  return [pOut, mOut, vOut];
}

/** Its registration with tfjs (load, enable, disable, active, calls), which the table turns on (index.ts). */
export const adamKernels = new RegisteredKernels<KernelExports>('adam', { [UPDATE]: updateKernel });

type Update = (p: tf.Tensor, g: tf.Tensor, m: tf.Tensor, v: tf.Tensor, step: AdamStep) => [tf.Tensor, tf.Tensor, tf.Tensor];

const updateOnKernel: Update = (p, g, m, v, step) =>
  tf.engine().runKernel(UPDATE, { p, g, m, v }, step as unknown as tf.NamedAttrMap) as unknown as [tf.Tensor, tf.Tensor, tf.Tensor];

const updateOnOps: Update = (p, g, m, v, { beta1, beta2, epsilon, correction, stepSize }) => {
  const firstMoment = tf.add(tf.mul(m, beta1), tf.mul(g, 1 - beta1));
  const secondMoment = tf.add(tf.mul(v, beta2), tf.mul(tf.square(g), 1 - beta2));
  const denominator = tf.add(tf.div(tf.sqrt(secondMoment), correction), epsilon);
  return [tf.sub(p, tf.mul(tf.div(firstMoment, denominator), stepSize)), firstMoment, secondMoment];
};

/** [parameter, first moment, second moment] after one Adam step from gradient g. */
export const adamUpdate = fusedOp([adamKernels], updateOnKernel, updateOnOps);
