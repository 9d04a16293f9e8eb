/** Mean absolute error, the Contextual Retrieval loss. */
import * as tf from '@tensorflow/tfjs';
import type { Objective } from '../registry';

export const l1Objective: Objective = {
  loss: (output, targets) => tf.mean(tf.abs(tf.sub(output, targets))) as tf.Scalar,
  metrics: (output, targets) => ({ l1: tf.mean(tf.abs(tf.sub(output, targets))) as tf.Scalar }),
};
