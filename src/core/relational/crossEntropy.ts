/** Softmax cross-entropy of class logits [B, classes] against one-hot targets, with accuracy. */
import * as tf from '@tensorflow/tfjs';
import type { Objective } from '../registry';

/**
 * log softmax written out (shift by the row maximum for stability): tf.logSoftmax is a custom
 * gradient that the wasm backend's test-mode leak check rejects.
 */
export function logSoftmax(logits: tf.Tensor): tf.Tensor {
  const shifted = tf.sub(logits, tf.max(logits, -1, true));
  return tf.sub(shifted, tf.log(tf.sum(tf.exp(shifted), -1, true)));
}

const meanCrossEntropy = (logits: tf.Tensor, oneHot: tf.Tensor) =>
  tf.neg(tf.mean(tf.sum(tf.mul(oneHot, logSoftmax(logits)), -1))) as tf.Scalar;

/** Fraction of examples whose highest logit is the target class (ties go to the first class). */
export const accuracy = (logits: tf.Tensor, oneHot: tf.Tensor) =>
  tf.mean(tf.cast(tf.equal(tf.argMax(logits, -1), tf.argMax(oneHot, -1)), 'float32')) as tf.Scalar;

export const crossEntropyObjective: Objective = {
  loss: meanCrossEntropy,
  metrics: (logits, oneHot) => ({ accuracy: accuracy(logits, oneHot), loss: meanCrossEntropy(logits, oneHot) }),
};
