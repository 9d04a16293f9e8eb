/**
 * Adam's update of every parameter in one kernel of the wasm backend. Written as tfjs ops, Adam
 * dispatches 13 kernels per parameter tensor (about half of a multi-head attention step's kernels,
 * 507 of the posterior transformer's 1,500), each paying tfjs's fixed cost of 10-20 us. This kernel
 * reads parameters, gradients and moments straight from the wasm heap and writes the new ones into
 * fresh outputs, which the optimizer assigns (src/core/optimizers.ts): one dispatch per step.
 *
 * The arithmetic is PyTorch's and the op chain's (m, v, then p - stepSize m / (sqrt(v) / c2 + eps)),
 * each step rounded to float32 as the ops round it: both paths give the same bits
 * (test/unit/fusedAdam.test.ts), so a run resumed with the kernels off continues as it began.
 */
import * as tf from '@tensorflow/tfjs';
import type { WasmBackend } from './wasmModule';

const FUSED_ADAM = 'ModelLabAdam';

export interface AdamHyper {
  beta1: number;
  beta2: number;
  epsilon: number;
  /** learning rate / (1 - beta1^t) */
  stepSize: number;
  /** sqrt(1 - beta2^t) */
  secondCorrection: number;
}

interface AdamArgs {
  inputs: Record<string, tf.TensorInfo>;
  backend: WasmBackend;
  attrs: AdamHyper & { count: number };
}

const f32 = Math.fround;

/** Inputs p<i>, g<i>, m<i>, v<i>; outputs [p'0, m'0, v'0, p'1, ...]. */
function fusedAdam({ inputs, backend, attrs }: AdamArgs): tf.TensorInfo[] {
  const { count, beta1, beta2, epsilon, stepSize, secondCorrection } = attrs;
  // Every output first: a new output can grow the heap, which detaches earlier views.
  const outputs = Array.from({ length: count }, (_, i) => [0, 1, 2].map(() => backend.makeOutput(inputs[`p${i}`].shape, 'float32'))).flat();
  const [oneMinusBeta1, oneMinusBeta2] = [f32(1 - beta1), f32(1 - beta2)];
  const [b1, b2, eps, rate, c2] = [f32(beta1), f32(beta2), f32(epsilon), f32(stepSize), f32(secondCorrection)];
  for (let i = 0; i < count; i++) {
    const [p, g, m, v] = ['p', 'g', 'm', 'v'].map((name) => backend.typedArrayFromHeap(inputs[`${name}${i}`]));
    const [pOut, mOut, vOut] = outputs.slice(3 * i, 3 * i + 3).map((info) => backend.typedArrayFromHeap(info));
    for (let e = 0; e < p.length; e++) {
      const grad = g[e];
      const mNew = f32(f32(m[e] * b1) + f32(grad * oneMinusBeta1));
      const vNew = f32(f32(v[e] * b2) + f32(f32(grad * grad) * oneMinusBeta2));
      const denominator = f32(f32(f32(Math.sqrt(vNew)) / c2) + eps);
      mOut[e] = mNew;
      vOut[e] = vNew;
      pOut[e] = f32(p[e] - f32(f32(mNew / denominator) * rate));
    }
  }
  return outputs;
}

let enabled = false;

export function enableFusedAdam(): void {
  if (enabled) return;
  tf.registerKernel({ kernelName: FUSED_ADAM, backendName: 'wasm', kernelFunc: fusedAdam as unknown as tf.KernelFunc });
  enabled = true;
}

export function disableFusedAdam(): void {
  if (!enabled) return;
  tf.unregisterKernel(FUSED_ADAM, 'wasm');
  enabled = false;
}

/** Whether the current backend updates on the fused kernel. */
export const fusedAdamActive = (): boolean => enabled && tf.getBackend() === 'wasm';

/**
 * New [parameter, first moment, second moment] of each parameter; float32 tensors only.
 * Call inside tf.tidy and assign the results.
 */
export function fusedAdamUpdate(parameters: tf.Tensor[], gradients: tf.Tensor[], first: tf.Tensor[], second: tf.Tensor[], hyper: AdamHyper): tf.Tensor[][] {
  const inputs: Record<string, tf.Tensor> = {};
  parameters.forEach((p, i) => Object.assign(inputs, { [`p${i}`]: p, [`g${i}`]: gradients[i], [`m${i}`]: first[i], [`v${i}`]: second[i] }));
  const outputs = tf.engine().runKernel(FUSED_ADAM, inputs as unknown as tf.NamedTensorMap, { ...hyper, count: parameters.length } as unknown as tf.NamedAttrMap) as unknown as tf.Tensor[];
  return parameters.map((_, i) => outputs.slice(3 * i, 3 * i + 3));
}
