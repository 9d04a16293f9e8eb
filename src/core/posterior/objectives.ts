/**
 * Objectives of the posterior lab:
 * - forward KL (neural posterior estimation): E_{theta, D ~ p} [-log q(theta | D)];
 * - reverse KL (amortized VI): E_D E_{theta ~ q} [log q - log p(theta) - log p(D | theta)], the
 *   negative ELBO summed over the whole data set, with the KL term warmed up linearly from 0 to 1.
 * Both report the same evaluation metrics (25 samples of q per data set, as in the notes):
 * predictive L2 or accuracy on held-out points, the ELBO, -log q(theta_true | D), and where the
 * exact posterior is known: the same predictive metric for exact samples (the floor) and, for the
 * Gaussian family, the symmetric KL to the exact posterior divided by dim theta.
 */
import * as tf from '@tensorflow/tfjs';
import type { Batch, BuildContext, Objective } from '../registry';
import { createRng } from '../rng';
import { dataSetTensors, isPosteriorBatch, type DataSets, type PosteriorBatch } from './dataSets';
import { cholesky } from './linalg';
import { splitCondition, type PosteriorFamily } from './families';
import { familyFor } from './model';
import { logStandardNormal } from './models/common';
import type { ProbabilisticModel } from './models/types';
import { isPosteriorTask, type ExactPosterior, type PosteriorTask } from './tasks';
import type { ReverseKlOptions } from './options';

/** Samples of q per data set for the evaluation metrics (the notes' evaluator uses 25). */
export const EVALUATION_SAMPLES = 25;

/** Distinct noise streams per batch: the loss and the metrics must not share samples. */
const lossNoiseSeed = (batch: PosteriorBatch) => batch.posterior.noiseSeed;
const metricNoiseSeed = (batch: PosteriorBatch) => (batch.posterior.noiseSeed ^ 0x5bd1e995) | 0;

function requirePosteriorBatch(batch: Batch | undefined, objective: string): PosteriorBatch {
  if (!isPosteriorBatch(batch)) throw new Error(`objective '${objective}' needs the batch of a posterior task`);
  return batch;
}

/** -log q(theta_true | D) per data set: condition [B, 2P], theta [B, P] -> [B]. */
export function negativeLogPosterior(family: PosteriorFamily, condition: tf.Tensor, theta: tf.Tensor): tf.Tensor {
  return tf.neg(tf.squeeze(family.logProb(condition, tf.expandDims(theta, 1)), [1]));
}

/**
 * Terms of the ELBO per data set and sample: log p(D | theta_s) and log q(theta_s) - log p(theta_s)
 * for reparameterised theta_s ~ q(. | D) (noise [B, S, P]).
 */
export function elboTerms(
  family: PosteriorFamily,
  model: ProbabilisticModel,
  condition: tf.Tensor,
  context: DataSets,
  noise: tf.Tensor,
): { logLikelihood: tf.Tensor; kl: tf.Tensor; theta: tf.Tensor } {
  const { x, y, mask } = dataSetTensors(context);
  const { theta, logProb } = family.sample(condition, noise);
  return { logLikelihood: model.logLikelihood(theta, x, y, mask), kl: tf.sub(logProb, logStandardNormal(theta)), theta };
}

/** Monte Carlo ELBO per data set [B]: mean over samples of log p(D | theta) - (log q - log p(theta)). */
export function elboEstimate(family: PosteriorFamily, model: ProbabilisticModel, condition: tf.Tensor, context: DataSets, noise: tf.Tensor): tf.Tensor {
  const { logLikelihood, kl } = elboTerms(family, model, condition, context, noise);
  return tf.mean(tf.sub(logLikelihood, kl), 1);
}

function evaluationNoise(batch: PosteriorBatch, dim: number, seed: number) {
  return tf.randomNormal([batch.posterior.context.count, EVALUATION_SAMPLES, dim], 0, 1, 'float32', seed);
}

/** Exact-posterior samples [B, S, P]: mean + L z with L the Cholesky factor of the covariance. */
function exactSamples(exact: ExactPosterior, batch: PosteriorBatch, dim: number): tf.Tensor {
  const { context } = batch.posterior;
  const rng = createRng(batch.posterior.noiseSeed, 'exact-posterior-samples');
  const values = new Float32Array(context.count * EVALUATION_SAMPLES * dim);
  for (let b = 0; b < context.count; b++) {
    const posterior = exact(context, b);
    const l = cholesky(posterior.covariance, dim);
    for (let s = 0; s < EVALUATION_SAMPLES; s++) {
      const z = Array.from({ length: dim }, () => rng.normal());
      for (let i = 0; i < dim; i++) {
        let value = posterior.mean[i];
        for (let k = 0; k <= i; k++) value += l[i * dim + k] * z[k];
        values[(b * EVALUATION_SAMPLES + s) * dim + i] = value;
      }
    }
  }
  return tf.tensor3d(values, [context.count, EVALUATION_SAMPLES, dim]);
}

/**
 * Symmetric KL between the diagonal Gaussian q (from the condition) and the exact posterior p,
 * divided by dim theta, per data set [B]. The log-determinants cancel in the sum:
 *   KL(q||p) + KL(p||q) = 1/2 [tr(P_p V_q) + d'P_p d + tr(V_q^-1 S_p) + d'V_q^-1 d - 2 dim].
 */
export function normalisedSymmetricKl(condition: tf.Tensor, exact: ExactPosterior, context: DataSets, dim: number): tf.Tensor {
  const count = context.count;
  const means = new Float32Array(count * dim);
  const precisions = new Float32Array(count * dim * dim);
  const variances = new Float32Array(count * dim);
  for (let b = 0; b < count; b++) {
    const p = exact(context, b);
    means.set(p.mean, b * dim);
    precisions.set(p.precision, b * dim * dim);
    for (let i = 0; i < dim; i++) variances[b * dim + i] = p.covariance[i * dim + i];
  }
  const { mean, logVariance } = splitCondition(condition, dim);
  const qMean = tf.squeeze(mean, [1]);
  const qVariance = tf.exp(tf.squeeze(logVariance, [1]));
  const precision = tf.tensor3d(precisions, [count, dim, dim]);
  const delta = tf.sub(qMean, tf.tensor2d(means, [count, dim]));
  const precisionDiagonal = tf.sum(tf.mul(precision, tf.eye(dim)), -1);
  const mahalanobis = tf.squeeze(tf.matMul(tf.matMul(tf.expandDims(delta, 1), precision), tf.expandDims(delta, 2)), [1, 2]);
  const total = tf.addN([
    tf.sum(tf.mul(precisionDiagonal, qVariance), -1),
    mahalanobis,
    tf.sum(tf.div(tf.tensor2d(variances, [count, dim]), qVariance), -1),
    tf.sum(tf.div(tf.square(delta), qVariance), -1),
  ]);
  return tf.div(tf.mul(tf.sub(total, 2 * dim), 0.5), dim);
}

function posteriorMetrics(task: PosteriorTask, family: PosteriorFamily, output: tf.Tensor, targets: tf.Tensor, batch: PosteriorBatch) {
  const { model, exactPosterior } = task;
  const { context, heldOut } = batch.posterior;
  const held = dataSetTensors(heldOut);
  const noise = evaluationNoise(batch, model.thetaDim, metricNoiseSeed(batch));
  const { logLikelihood, kl, theta } = elboTerms(family, model, output, context, noise);
  const predictiveName = model.predictive === 'l2' ? 'predictive-l2' : 'predictive-accuracy';
  const metrics: Record<string, tf.Scalar> = {
    [predictiveName]: tf.mean(model.predictiveScore(theta, held.x, held.y, held.mask)) as tf.Scalar,
    elbo: tf.mean(tf.sub(logLikelihood, kl)) as tf.Scalar,
  };
  // Data sets without a true theta (the Gaussian-process source) have no -log q(theta_true | D).
  if (batch.posterior.theta) metrics.nll = tf.mean(negativeLogPosterior(family, output, targets)) as tf.Scalar;
  // The exact posterior reads only the data, so it stays defined on data the model did not
  // generate: there it is the assumed model's Bayesian answer, which the network should match.
  if (exactPosterior) {
    const exact = exactSamples(exactPosterior, batch, model.thetaDim);
    metrics[`exact-${predictiveName}`] = tf.mean(model.predictiveScore(exact, held.x, held.y, held.mask)) as tf.Scalar;
    if (family.kind === 'gaussian') {
      metrics['symmetric-kl'] = tf.mean(normalisedSymmetricKl(output, exactPosterior, context, model.thetaDim)) as tf.Scalar;
    }
  }
  return metrics;
}

function posteriorTaskOf(task: unknown, objective: string): PosteriorTask {
  if (!isPosteriorTask(task as PosteriorTask)) {
    throw new Error(`objective '${objective}' needs a posterior task (task names starting with 'posterior-')`);
  }
  return task as PosteriorTask;
}

/** Forward KL (neural posterior estimation): needs the true theta of each data set. */
export const createForwardKl = (_options: unknown, { task }: BuildContext): Objective => {
  const posteriorTask = posteriorTaskOf(task, 'forward-kl');
  if (posteriorTask.dataSource !== 'simulator') {
    throw new Error(
      `objective 'forward-kl' trains on the true theta of each data set, but task.dataSource is '${posteriorTask.dataSource}', ` +
        "whose data sets have no theta: use objective 'reverse-kl' (it needs only the likelihood), or task.dataSource 'simulator'",
    );
  }
  const family = familyFor(task, 'forward-kl');
  return {
    loss: (output, targets) => tf.mean(negativeLogPosterior(family, output, targets)) as tf.Scalar,
    metrics: (output, targets, batch) =>
      posteriorMetrics(posteriorTask, family, output, targets, requirePosteriorBatch(batch, 'forward-kl')),
  };
};

export type { ReverseKlOptions } from './options';

/** The KL weight after `step` training steps: linear from 0 to 1 over `warmupSteps`. */
export const warmupWeight = (step: number, warmupSteps: number) => (warmupSteps <= 0 ? 1 : Math.min(1, step / warmupSteps));

/** Reverse KL (amortized variational inference): needs the likelihood, not the true theta. */
export const createReverseKl = ({ samples, warmupSteps }: ReverseKlOptions, { task }: BuildContext): Objective => {
  const posteriorTask = posteriorTaskOf(task, 'reverse-kl');
  const family = familyFor(task, 'reverse-kl');
  const model = posteriorTask.model;
  return {
    loss(output, _targets, batch, step) {
      const posteriorBatch = requirePosteriorBatch(batch, 'reverse-kl');
      // The loop passes the 1-based step, so a resumed run continues the warm-up where it was.
      const steps = step ?? 1;
      const noise = tf.randomNormal([posteriorBatch.posterior.context.count, samples, model.thetaDim], 0, 1, 'float32', lossNoiseSeed(posteriorBatch));
      const { logLikelihood, kl } = elboTerms(family, model, output, posteriorBatch.posterior.context, noise);
      return tf.mean(tf.sub(tf.mul(kl, warmupWeight(steps, warmupSteps)), logLikelihood)) as tf.Scalar;
    },
    metrics: (output, targets, batch) =>
      posteriorMetrics(posteriorTask, family, output, targets, requirePosteriorBatch(batch, 'reverse-kl')),
  };
};
