/**
 * The sampler's losses as objectives. Their batches are trajectories drawn by the sampler itself
 * (`drawBatch`, outside the gradient tape): the T transitions of the batch become the rows the
 * network sees in one pass (inputs (x_i, t_i[, grad log R]), targets x_{i+1} - x_i), so losses
 * that detach the states need no backpropagation through time.
 *
 * With every term but the network's drift fixed by the draw, for trajectory k
 *   log Z + sum log p_F - sum log p_B - log R = log Z - Q_k - c_k,
 *   Q_k = sum_i |x_{i+1} - x_i - dt mu(x_i, t_i)|^2 / (2 t_scale dt),
 *   c_k = log p_B + log R - (the constant of sum log p_F),
 * c_k summed in double precision before it becomes float32.
 * - trajectory balance (TB): mean (log Z - Q - c)^2 / 2;
 * - VarGrad: the batch's variance of (Q + c) / 2: TB with log Z replaced by the batch mean (its
 *   gradient equals the official code's, which detaches that mean).
 * Evaluation batches carry no transitions: their metrics come from fresh on-policy trajectories.
 */
import * as tf from '@tensorflow/tfjs';
import { createRng, type Rng } from '../rng';
import type { Batch, BatchRequest, BuildContext, Model, Objective } from '../registry';
import { mala, ReplayBuffer } from './localSearch';
import { pisLoss, pisNoise } from './pis';
import { exactW2 } from './transport';
import { effectiveSampleShare, logMeanExp, mmd, modeCounts, slicedW2 } from './metrics';
import type { PisOptions, TrajectoryBalanceOptions, VarGradOptions } from './options';
import { DiffusionSampler } from './sampler';
import { isSamplerTask, type SamplerTarget } from './targets';
import { backwardTrajectories, finalStates, forwardLogNormaliser, forwardTrajectories, transitionIncrements, transitionInputs, type Trajectories } from './trajectories';

export interface SamplerBatch extends Batch {
  sampler: {
    /** Training: c_k per trajectory; evaluation: undefined. */
    offsets?: Float32Array;
    trajectories: number;
    steps: number;
    tScale: number;
    logZ: () => tf.Scalar;
    /** Evaluation only: the metrics, computed when the batch was drawn. */
    metrics?: Record<string, number>;
    /** PIS: the loss, simulated in the gradient tape from the batch's noise. */
    pisLoss?: () => tf.Scalar;
  };
}

const isSamplerBatch = (batch: Batch | undefined): batch is SamplerBatch => batch !== undefined && 'sampler' in batch;

/** Exploration's standard deviation at `step`: linear from `exploration` to 0 over `decaySteps` (0: constant). */
export const explorationAt = (exploration: number, decaySteps: number, step: number) =>
  decaySteps <= 0 ? exploration : exploration * Math.max(0, 1 - step / decaySteps);

/** Per-trajectory TB residual log Z - Q - c [n] from the network's drifts over the batch's transitions. */
export function trajectoryBalanceResiduals(drift: tf.Tensor, increments: tf.Tensor, batch: SamplerBatch): tf.Tensor1D {
  const { trajectories, steps, tScale, offsets, logZ } = batch.sampler;
  if (!offsets) throw new Error('trajectory balance needs a training batch of trajectories');
  const dt = 1 / steps;
  const residual = tf.sub(increments, tf.mul(drift, dt));
  const q = tf.div(tf.sum(tf.reshape(tf.sum(tf.square(residual), 1), [trajectories, steps]), 1), 2 * tScale * dt);
  return tf.sub(tf.sub(logZ(), q), tf.tensor1d(offsets)) as tf.Tensor1D;
}

/** The training batch: trajectories of the policy with exploration, as transitions. */
export function trainingBatch(sampler: DiffusionSampler, tr: Trajectories): SamplerBatch {
  const { n, steps, dimension: d } = tr;
  const constant = forwardLogNormaliser(d, steps, sampler.tScale);
  const offsets = Float32Array.from(tr.logR, (logR, k) => logR + tr.logPB[k] - constant);
  return {
    inputs: tf.tensor3d(transitionInputs(sampler, tr), [n, steps, sampler.inputWidth]),
    targets: tf.tensor2d(transitionIncrements(tr), [n * steps, d]),
    sampler: { offsets, trajectories: n, steps, tScale: sampler.tScale, logZ: () => sampler.logZ() },
  };
}

/** Energy evaluations (log R or its gradient) of one training batch of n trajectories, forward or backward. */
export const energyEvaluationsPerStep = (sampler: DiffusionSampler, n: number) => n * (1 + (sampler.langevin ? sampler.steps : 0));

/** Whether step `step` (1-based) trains on buffer samples: the even steps, with local search on. */
export const isBufferStep = (options: TrajectoryBalanceOptions, step: number) => options.localSearch && step % 2 === 0;
/** Whether a buffer step first runs a local search (the official code's `it % ls_cycle < 2` on its 0-based count). */
export const runsLocalSearch = (options: TrajectoryBalanceOptions, step: number) => isBufferStep(options, step) && (step - 1) % options.localSearchEvery < 2;

/** Energy evaluations of steps 1..step: the training batches' and the local searches' (computed, so a resumed run counts the same). */
export function energyEvaluationsUpTo(sampler: DiffusionSampler, options: TrajectoryBalanceOptions, batchSize: number, step: number): number {
  let total = step * energyEvaluationsPerStep(sampler, batchSize);
  if (options.localSearch) {
    for (let s = 2; s <= step; s += 2) if (runsLocalSearch(options, s)) total += batchSize * (options.localSearchSteps + 1);
  }
  return total;
}

interface Truth {
  samples: Float32Array;
  bandwidth: number;
}

/** The metrics of a set of on-policy trajectories: log Z estimates, ESS, their gaps to a known log Z, modes covered. */
function trajectoryMetrics(sampler: DiffusionSampler, target: SamplerTarget, tr: Trajectories): Record<string, number> {
  const logW = tr.logWeights;
  let sum = 0;
  for (const v of logW) sum += v;
  const metrics: Record<string, number> = {
    'log-z-elbo': sum / tr.n,
    'log-z-iw': logMeanExp(logW),
    'log-z-learned': sampler.learnedLogZ(),
    ess: effectiveSampleShare(logW),
  };
  if (target.logZ.known) {
    metrics['delta-log-z-elbo'] = target.logZ.value - metrics['log-z-elbo'];
    metrics['delta-log-z-iw'] = Math.abs(target.logZ.value - metrics['log-z-iw']);
  }
  const modes = modeCounts(target, finalStates(tr));
  if (modes) {
    metrics['modes-covered'] = modes.covered;
    metrics['modes-total'] = modes.counts.length;
  }
  return metrics;
}

/**
 * The evaluation's metrics from `count` fresh on-policy trajectories (and as many exact samples,
 * where the target has them); `request.size` is the training batch size (energy evaluations so far).
 */
export function evaluationMetrics(sampler: DiffusionSampler, target: SamplerTarget, count: number, request: BatchRequest, truth: Truth | undefined, options: TrajectoryBalanceOptions): Record<string, number> {
  const tr = forwardTrajectories(sampler, target, count, request.rng);
  const metrics = trajectoryMetrics(sampler, target, tr);
  metrics['energy-evaluations'] = energyEvaluationsUpTo(sampler, options, request.size, request.step);
  if (truth) {
    const d = target.dimension;
    const samples = finalStates(tr);
    const back = backwardTrajectories(sampler, target, truth.samples, count, request.rng);
    let eubo = 0;
    for (const v of back.logWeights) eubo += v;
    metrics.eubo = eubo / count;
    metrics['sliced-w2'] = slicedW2(samples, truth.samples, d, request.rng);
    metrics.mmd = mmd(samples, truth.samples, d, truth.bandwidth);
  }
  return metrics;
}

/** Points on each side of the exact W2 computed at the end of a run: 2,000 (the issue's), or twice evalSamples when that is fewer (small test runs). */
export const exactW2Points = (options: Pick<TrajectoryBalanceOptions, 'evalSamples'>) => Math.min(2000, 2 * options.evalSamples);

/**
 * Exact W2 (optimal transport) between `samples` and as many exact samples of the target drawn
 * from `rng`, and the seconds the draw and the transport took (not a logged metric: metrics are
 * the same on every run of a spec and seed; bench/sampler.ts prints it).
 */
export function exactW2To(target: SamplerTarget, samples: Float32Array, rng: Rng): { w2: number; seconds: number } | undefined {
  if (!target.sample) return undefined;
  const started = performance.now();
  const truth = target.sample(samples.length / target.dimension, rng);
  const w2 = exactW2(samples, truth, target.dimension);
  return { w2, seconds: (performance.now() - started) / 1000 };
}

/** The end of a run: `n` fresh on-policy trajectories' metrics, their exact W2 and its seconds (where the target has exact samples). */
export function finalEvaluation(sampler: DiffusionSampler, target: SamplerTarget, n: number, rng: Rng): Record<string, number> {
  const tr = forwardTrajectories(sampler, target, n, rng);
  const transport = exactW2To(target, finalStates(tr), rng);
  return { ...trajectoryMetrics(sampler, target, tr), ...(transport ? { w2: transport.w2, 'w2-seconds': transport.seconds } : {}) };
}

/** Median distance between exact samples: the MMD kernel's bandwidth (fixed per run). */
function medianDistance(samples: Float32Array, d: number): number {
  const n = Math.min(samples.length / d, 200);
  const distances: number[] = [];
  for (let i = 0; i < n; i++) {
    for (let k = i + 1; k < n; k++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += (samples[i * d + j] - samples[k * d + j]) ** 2;
      distances.push(Math.sqrt(s));
    }
  }
  distances.sort((a, b) => a - b);
  return distances[Math.floor(distances.length / 2)] || 1;
}

/**
 * Local search's buffers in checkpoints: `replay/<buffer>/points` [n, d] and `replay/<buffer>/log-r`
 * [n] per buffer, float32. Restoring checks names, shapes, capacity and values (a checkpoint is a
 * file like any other); a checkpoint without them (written before buffers were saved) leaves the
 * buffers empty, as they were then.
 */
function localSearchState(buffers: Record<'policy' | 'searched', ReplayBuffer>, d: number): Pick<Objective, 'saveState' | 'restoreState'> {
  const names = Object.keys(buffers).flatMap((buffer) => [`replay/${buffer}/points`, `replay/${buffer}/log-r`]);
  return {
    saveState: () =>
      Object.entries(buffers).flatMap(([buffer, replay]) => {
        const { points, logR } = replay.contents();
        return [
          { name: `replay/${buffer}/points`, tensor: tf.tensor2d(points, [replay.size, d]) },
          { name: `replay/${buffer}/log-r`, tensor: tf.tensor1d(logR) },
        ];
      }),
    restoreState(state) {
      if (state.length === 0) return;
      const byName = new Map(state.map((s) => [s.name, s.tensor]));
      const unknown = state.find((s) => !names.includes(s.name));
      if (unknown) throw new Error(`checkpoint objective state: unknown tensor '${unknown.name.slice(0, 80)}' (expected ${names.join(', ')})`);
      for (const [buffer, replay] of Object.entries(buffers)) {
        const what = `checkpoint replay buffer '${buffer}'`;
        const points = byName.get(`replay/${buffer}/points`);
        const logR = byName.get(`replay/${buffer}/log-r`);
        if (!points || !logR) throw new Error(`${what}: expected tensors replay/${buffer}/points and replay/${buffer}/log-r`);
        if (points.dtype !== 'float32' || logR.dtype !== 'float32') throw new Error(`${what}: expected float32 tensors, got ${points.dtype} and ${logR.dtype}`);
        if (points.rank !== 2 || points.shape[1] !== d || logR.rank !== 1 || logR.shape[0] !== points.shape[0]) {
          throw new Error(`${what}: expected points [n, ${d}] and log R [n], got [${points.shape.join(', ')}] and [${logR.shape.join(', ')}]`);
        }
        replay.restore(points.dataSync() as Float32Array, logR.dataSync() as Float32Array, what);
      }
    },
  };
}

/** A loss of the TB residuals, or 'pis' (reparameterised trajectories, no residuals). */
type LossOf = ((residuals: tf.Tensor1D) => tf.Scalar) | 'pis';

function samplerObjective(name: string, options: TrajectoryBalanceOptions, context: BuildContext, lossOf: LossOf): Objective {
  const { task, spec } = context;
  if (!isSamplerTask(task)) throw new Error(`objective '${name}' needs a sampler target (task names starting with 'sampler-'), got task '${spec.task.name}'`);
  const target = task.target;
  let truth: Truth | undefined;
  const truthOf = (): Truth | undefined => {
    if (!target.sample) return undefined;
    if (!truth) {
      const samples = target.sample(options.evalSamples, createRng(spec.seed, 'sampler-truth'));
      truth = { samples, bandwidth: medianDistance(samples, target.dimension) };
    }
    return truth;
  };
  // Local search's buffers: the sampler's samples, and the states MALA accepted from them.
  const buffers = { policy: new ReplayBuffer(target.dimension, options.bufferSize, options.rankWeight), searched: new ReplayBuffer(target.dimension, options.bufferSize, options.rankWeight) };
  const trainingDraw = (sampler: DiffusionSampler, request: BatchRequest): SamplerBatch => {
    const { step, rng, size } = request;
    if (lossOf === 'pis') {
      const noise = pisNoise(sampler, size, rng);
      return {
        inputs: tf.zeros([1, sampler.inputWidth]),
        targets: tf.zeros([1, target.dimension]),
        sampler: { trajectories: size, steps: sampler.steps, tScale: sampler.tScale, logZ: () => sampler.logZ(), pisLoss: () => pisLoss(sampler, target, noise, size) },
      };
    }
    if (isBufferStep(options, step)) {
      if (runsLocalSearch(options, step) && buffers.policy.size > 0) {
        const found = mala(target, buffers.policy.sample(size, rng), size, rng, {
          steps: options.localSearchSteps,
          burnIn: options.localSearchBurnIn,
          stepSize: options.localSearchStepSize,
          targetAcceptance: options.targetAcceptance,
        });
        buffers.searched.add(found.accepted, found.acceptedLogR);
      }
      // Until a search has found something (e.g. right after a resume) the step stays on-policy.
      if (buffers.searched.size > 0) return trainingBatch(sampler, backwardTrajectories(sampler, target, buffers.searched.sample(size, rng), size, rng));
    }
    const tr = forwardTrajectories(sampler, target, size, rng, explorationAt(options.exploration, options.explorationDecaySteps, step));
    if (options.localSearch) buffers.policy.add(finalStates(tr), tr.logR);
    return trainingBatch(sampler, tr);
  };
  const bufferState = localSearchState(buffers, target.dimension);
  const requireSampler = (model: Model): DiffusionSampler => {
    if (!(model instanceof DiffusionSampler)) throw new Error(`objective '${name}' trains model 'diffusion-sampler', got '${spec.model.name}'`);
    return model;
  };
  return {
    ...(options.localSearch ? bufferState : {}),
    drawBatch(model, request): SamplerBatch {
      const sampler = requireSampler(model);
      if (request.purpose === 'train') return trainingDraw(sampler, request);
      const metrics = evaluationMetrics(sampler, target, options.evalSamples, { ...request, size: spec.training.batchSize }, truthOf(), options);
      // The last evaluation adds the exact W2 on fresh samples (2,000 with the default evalSamples; up to 15 s of transport).
      const transport = request.step === spec.training.steps && exactW2To(target, finalStates(forwardTrajectories(sampler, target, exactW2Points(options), request.rng)), request.rng);
      if (transport) metrics.w2 = transport.w2;
      return {
        inputs: tf.zeros([1, sampler.inputWidth]),
        targets: tf.zeros([1, target.dimension]),
        sampler: { trajectories: 0, steps: sampler.steps, tScale: sampler.tScale, logZ: () => sampler.logZ(), metrics },
      };
    },
    loss(output, targets, batch) {
      if (!isSamplerBatch(batch)) throw new Error(`objective '${name}' needs the batch it draws itself (trajectories of the sampler)`);
      if (lossOf === 'pis') {
        if (!batch.sampler.pisLoss) throw new Error(`objective '${name}' needs its own training batch (the noise of its trajectories)`);
        // log Z has no part in PIS: a zero term keeps it in the graph (the loop's optimizer updates every parameter with a gradient).
        return tf.add(batch.sampler.pisLoss(), tf.mul(batch.sampler.logZ(), 0)) as tf.Scalar;
      }
      return lossOf(trajectoryBalanceResiduals(output, targets, batch));
    },
    metrics(_output, _targets, batch) {
      if (!isSamplerBatch(batch) || !batch.sampler.metrics) throw new Error(`objective '${name}' evaluates on the batch it draws itself`);
      return Object.fromEntries(Object.entries(batch.sampler.metrics).map(([key, value]) => [key, tf.scalar(value)]));
    },
  };
}

export const trajectoryBalanceLoss = (r: tf.Tensor1D) => tf.mean(tf.mul(tf.square(r), 0.5)) as tf.Scalar;
/** The batch variance of the residuals / 2: log Z drops out, replaced by the batch mean. */
export const varGradLoss = (r: tf.Tensor1D) => tf.mean(tf.mul(tf.square(tf.sub(r, tf.mean(r))), 0.5)) as tf.Scalar;

export const createTrajectoryBalance = (options: TrajectoryBalanceOptions, context: BuildContext) => samplerObjective('trajectory-balance', options, context, trajectoryBalanceLoss);
export const createVarGrad = (options: VarGradOptions, context: BuildContext) => samplerObjective('vargrad', options, context, varGradLoss);

/** PIS trains on-policy, without log Z (its learned log Z stays at 0), exploration or local search. */
const PIS_METHOD = { exploration: 0, explorationDecaySteps: 0, logZLearningRate: 0.1, localSearch: false, localSearchEvery: 100, localSearchSteps: 0, localSearchBurnIn: 0, localSearchStepSize: 0.001, targetAcceptance: 0.574, bufferSize: 1, rankWeight: 0.01 };
export const createPis = (options: PisOptions, context: BuildContext) => samplerObjective('pis', { ...PIS_METHOD, ...options }, context, 'pis');
