import * as tf from '@tensorflow/tfjs';
import { useWasmBackend } from './test/helpers/backend';
import { enableMaskedAttentionKernel, maskedAttention } from './src/core/kernels/maskedAttention';
import { enableSharedIdentity } from './src/core/kernels/sharedIdentity';
(async () => {
  await useWasmBackend();
  enableMaskedAttentionKernel(); enableSharedIdentity();
  const [q, k, v] = [1, 2, 3].map((seed) => tf.randomNormal([32, 128, 32], 0, 1, 'float32', seed) as tf.Tensor3D);
  const mask = tf.tensor2d(Array.from({ length: 32 * 128 }, (_, e) => (e % 128 < 64 + (e >> 7) * 2 ? 1 : 0)), [32, 128]);
  const med = (f: () => void) => { const t: number[] = []; for (let r = 0; r < 15; r++) { const s = performance.now(); f(); t.push(performance.now() - s); } t.sort((a, b) => a - b); return t[7].toFixed(2); };
  console.log('forward', med(() => tf.tidy(() => { maskedAttention(q, k, v, mask, 4).dataSync(); })));
  console.log('fwd+bwd', med(() => tf.tidy(() => { tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => tf.sum(maskedAttention(a as tf.Tensor3D, b as tf.Tensor3D, c as tf.Tensor3D, mask, 4)))([q, k, v]).forEach((g) => g.dataSync()); })));
})();
