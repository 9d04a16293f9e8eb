/**
 * `Identity` (tf.clone) on the wasm backend without a copy: the output shares the input's buffer
 * and counts one more reference, as tfjs's cpu backend and the wasm backend's own `Reshape` do.
 * tfjs's engine clones every tensor a gradient saves, so the wasm backend's copying `Identity`
 * cost 4-5 ms per multi-head attention step (bench/README.md, "Results (2026-12-06)"). Sharing is
 * safe because no wasm kernel, ours included, writes into an input: `Variable.assign` replaces a
 * buffer, never overwrites it.
 */
import * as tf from '@tensorflow/tfjs';

interface RefCountingBackend {
  incRef(dataId: object): void;
}

let copyingIdentity: tf.KernelConfig | undefined;

function sharedIdentity({ inputs: { x }, backend }: { inputs: { x: tf.TensorInfo }; backend: RefCountingBackend }): tf.TensorInfo {
  backend.incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

/** Makes the sharing Identity the wasm backend's; undefined when on, otherwise why not. */
export function enableSharedIdentity(): string | undefined {
  if (copyingIdentity) return undefined;
  const original = tf.getKernel('Identity', 'wasm');
  if (!original) return 'the TensorFlow.js wasm backend is not registered';
  copyingIdentity = original;
  tf.unregisterKernel('Identity', 'wasm');
  tf.registerKernel({ kernelName: 'Identity', backendName: 'wasm', kernelFunc: sharedIdentity as unknown as tf.KernelFunc });
  return undefined;
}

/** Gives the copying Identity back to the wasm backend. */
export function disableSharedIdentity(): void {
  if (!copyingIdentity) return;
  tf.unregisterKernel('Identity', 'wasm');
  tf.registerKernel(copyingIdentity);
  copyingIdentity = undefined;
}

export const sharedIdentityEnabled = (): boolean => copyingIdentity !== undefined;
