/** Mean absolute error, the Contextual Retrieval loss. */
import * as tf from '@tensorflow/tfjs';
import type { Entry, Objective } from '../registry';

export const l1Objective: Objective = {
  loss: (output, targets) => tf.mean(tf.abs(tf.sub(output, targets))) as tf.Scalar,
  metrics: (output, targets) => ({ l1: tf.mean(tf.abs(tf.sub(output, targets))) as tf.Scalar }),
};

export const l1Entry: Entry<Objective> = {
  name: 'l1',
  description: 'Mean absolute error between prediction and target.',
  options: { type: 'object', properties: {} },
  create: () => l1Objective,
};
