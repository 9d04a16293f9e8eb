/**
 * Posterior predictive check of one data set against the training simulator: does D look like
 * the data the model would simulate from the parameters the posterior believes in? For R draws
 * theta_r of the posterior, a replicate D_r of the same size is simulated from theta_r, and the
 * discrepancy T(D, theta) = log p(D | theta) (+ log N(x; 0, I) for supervised models, whose
 * simulator draws the inputs too) is compared: p = P(T(D_r, theta_r) <= T(D, theta_r)). A small
 * p says D is less likely than almost every replicate: the data look unlike the simulator the
 * network was trained on (misspecification), and its amortized posterior is an extrapolation.
 */
import * as tf from '@tensorflow/tfjs';
import { createRng } from '../rng';
import { dataSetTensors, emptyDataSets, type DataSets } from './dataSets';
import type { ProbabilisticModel } from './models/types';

export interface PredictiveCheck {
  /** (1 + replicates at or below the observed discrepancy) / (R + 1). */
  pValue: number;
  replicates: number;
}

/**
 * Replicates per check: p-values down to 1/101, at a cost (simulating and scoring 100 data sets)
 * that fits in the panel's per-edit budget for the sizes the networks are trained on.
 */
export const PREDICTIVE_REPLICATES = 100;
/** p below this, i.e. no replicate as unlikely as the data: the panel warns (1% of simulator data sets). */
export const PREDICTIVE_WARNING_P = 0.01;

const LOG_2PI = Math.log(2 * Math.PI);

/** log N(x; 0, I) of the inputs of each data set (0 for density models, whose x is the data). */
function inputLogDensity(model: ProbabilisticModel, sets: DataSets): number[] {
  return sets.sizes.map((n, b) => {
    if (model.target === 'none') return 0;
    let sum = 0;
    const start = b * sets.capacity * sets.xDim;
    for (let i = 0; i < n * sets.xDim; i++) sum -= 0.5 * (sets.x[start + i] ** 2 + LOG_2PI);
    return sum;
  });
}

/** Data set 0 of `observed` against replicates simulated from `samples` [S][P] (reused in turn when S < R). */
export function posteriorPredictiveCheck(model: ProbabilisticModel, observed: DataSets, samples: number[][], seed = 0, replicates = PREDICTIVE_REPLICATES): PredictiveCheck {
  const n = observed.sizes[0];
  const P = model.thetaDim;
  const rng = createRng(seed, 'predictive-check');
  const theta = Array.from({ length: replicates }, (_, r) => samples[r % samples.length]);
  const copies = emptyDataSets(replicates, n, model.xDim);
  for (let r = 0; r < replicates; r++) {
    const points = model.simulate(theta[r], n, rng);
    copies.sizes[r] = n;
    copies.x.set(points.x, r * n * model.xDim);
    copies.y.set(points.y, r * n);
  }
  const [observedLogLik, replicateLogLik] = tf.tidy(() => {
    const flat = tf.tensor(theta.flat(), [replicates, P]);
    const seen = dataSetTensors(observed);
    // One data set, R parameter draws: [1, R, P] -> [1, R].
    const mine = model.logLikelihood(tf.reshape(flat, [1, replicates, P]), seen.x.slice(0, 1), seen.y.slice(0, 1), seen.mask.slice(0, 1));
    const copy = dataSetTensors(copies);
    // R data sets, each with its own draw: [R, 1, P] -> [R, 1].
    const theirs = model.logLikelihood(tf.reshape(flat, [replicates, 1, P]), copy.x, copy.y, copy.mask);
    return [mine.dataSync(), theirs.dataSync()];
  });
  const observedInputs = inputLogDensity(model, observed)[0];
  const replicateInputs = inputLogDensity(model, copies);
  let atOrBelow = 0;
  for (let r = 0; r < replicates; r++) {
    if (replicateLogLik[r] + replicateInputs[r] <= observedLogLik[r] + observedInputs) atOrBelow++;
  }
  return { pValue: (1 + atOrBelow) / (replicates + 1), replicates };
}
