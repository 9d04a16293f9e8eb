/**
 * The diffusion sampler's policies and losses (src/core/sampler/{sampler,trajectories,objectives}.ts):
 * forward and backward log-probabilities against numbers worked out by hand; for the target
 * N(0, t_scale I) with zero drift and log Z at its true value, trajectory balance is 0 on every
 * trajectory and shifting log Z by d gives d^2/2; VarGrad ignores log Z; metrics on known cases;
 * a run is the same for the same spec and seed.
 */
import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { createRng } from '../../src/core/rng';
import { parseSpec } from '../../src/core/spec/validate';
import { train } from '../../src/core/train';
import { effectiveSampleShare, logMeanExp, modeCounts, slicedW2 } from '../../src/core/sampler/metrics';
import { explorationAt, trainingBatch, trajectoryBalanceLoss, trajectoryBalanceResiduals, varGradLoss } from '../../src/core/sampler/objectives';
import { DiffusionSampler } from '../../src/core/sampler/sampler';
import { gmm25Target, type SamplerTarget } from '../../src/core/sampler/targets';
import { pisLoss, pisNoise } from '../../src/core/sampler/pis';
import { backwardLogProbability, forwardTrajectories, policyLogProbability, type Trajectories } from '../../src/core/sampler/trajectories';
import { useWasmBackend } from '../helpers/backend';
import { MemorySink, trainedValues } from '../helpers/memorySink';

before(useWasmBackend);

const LOG_2PI = Math.log(2 * Math.PI);
const logNormal = (x: number, mean: number, variance: number) => -0.5 * (LOG_2PI + Math.log(variance) + ((x - mean) ** 2) / variance);

const samplerOf = (dimension: number, steps: number, tScale: number, seed = 0) =>
  new DiffusionSampler(dimension, { steps, tScale, hidden: 16, harmonics: 8, langevin: false }, 100, createRng(seed, 'init'));

/** Sets the drift's output bias (the output layer starts at zero, so the drift is then this constant). */
function setDriftBias(sampler: DiffusionSampler, value: number) {
  const bias = sampler.parameters.find((p) => p.name === 'joint.5.bias')!.variable;
  tf.tidy(() => bias.assign(tf.fill(bias.shape, value)));
}

function setLogZ(sampler: DiffusionSampler, value: number) {
  const v = sampler.parameters.find((p) => p.name === 'logZ')!.variable;
  tf.tidy(() => v.assign(tf.scalar(value / sampler.logZScale)));
}

/** An unnormalised N(0, s I): log R = -|x|^2 / (2 s), log Z = d/2 log(2 pi s). */
function gaussianTarget(d: number, s: number): SamplerTarget {
  return {
    name: 'gaussian',
    dimension: d,
    coordinates: ['x1', 'x2'].slice(0, d),
    logZ: { known: true, value: (d / 2) * Math.log(2 * Math.PI * s) },
    range: new Array(d).fill([-5, 5]),
    logDensity: (x) => tf.tidy(() => tf.mul(tf.sum(tf.square(x), 1), -0.5 / s) as tf.Tensor1D),
  };
}

test('forward and backward policy log-probabilities equal the hand computation (d = 1, T = 3, t_scale 2, drift 0.5)', () => {
  const sampler = samplerOf(1, 3, 2);
  setDriftBias(sampler, 0.5);
  const path = [0, 0.4, -0.3, 1.2];
  const tr = { n: 1, dimension: 1, steps: 3, states: Float32Array.from(path), logR: new Float64Array([0]), energyEvaluations: 0, logPF: new Float64Array(1) };
  const dt = 1 / 3;
  // p_F(x_{i+1} | x_i) = N(x_i + dt * 0.5, 2 dt)
  const forward = logNormal(0.4, 0 + dt * 0.5, 2 * dt) + logNormal(-0.3, 0.4 + dt * 0.5, 2 * dt) + logNormal(1.2, -0.3 + dt * 0.5, 2 * dt);
  assert.ok(Math.abs(policyLogProbability(sampler, tr)[0] - forward) < 1e-5, `${policyLogProbability(sampler, tr)[0]} vs ${forward}`);
  // p_B(x_i | x_{i+1}) = N(x_{i+1} i/(i+1), 2 dt i/(i+1)) for i = 1, 2; x_0 = 0 is certain.
  const backward = logNormal(0.4, -0.3 * (1 / 2), 2 * dt * (1 / 2)) + logNormal(-0.3, 1.2 * (2 / 3), 2 * dt * (2 / 3));
  assert.ok(Math.abs(backwardLogProbability(Float32Array.from(path), 0, 1, 3, 2) - backward) < 1e-5);
});

test('TB is 0 on every trajectory for N(0, t_scale I) with zero drift and the true log Z; shifting log Z by d gives d^2/2', () => {
  const tScale = 5;
  const target = gaussianTarget(2, tScale);
  const sampler = samplerOf(2, 10, tScale);
  setLogZ(sampler, (target.logZ as { value: number }).value);
  const tr = forwardTrajectories(sampler, target, 64, createRng(7));
  const batch = trainingBatch(sampler, tr);
  const residuals = tf.tidy(() => Array.from(trajectoryBalanceResiduals(sampler.forward(batch.inputs).output, batch.targets, batch).dataSync()));
  assert.equal(residuals.length, 64);
  for (const r of residuals) assert.ok(Math.abs(r) < 1e-4, `TB residual ${r}`);
  // The double-precision log-weights agree: log w = log Z exactly for this pair of policies.
  for (const w of tr.logWeights) assert.ok(Math.abs(w - (target.logZ as { value: number }).value) < 1e-4);
  for (const shift of [0.5, -2]) {
    setLogZ(sampler, (target.logZ as { value: number }).value + shift);
    const loss = tf.tidy(() => trajectoryBalanceLoss(trajectoryBalanceResiduals(sampler.forward(batch.inputs).output, batch.targets, batch)).dataSync()[0]);
    assert.ok(Math.abs(loss - (shift * shift) / 2) < 1e-4, `shift ${shift}: loss ${loss}`);
  }
  tf.dispose([batch.inputs, batch.targets]);
});

test('VarGrad is the batch variance of the TB residuals / 2, whatever log Z', () => {
  const target = gmm25Target({ modeRadius: 1.5, modeShare: 0.01 });
  const sampler = samplerOf(2, 5, 5);
  setDriftBias(sampler, 0.3);
  const batch = trainingBatch(sampler, forwardTrajectories(sampler, target, 32, createRng(3)));
  const values = [0, 3].map((logZ) => {
    setLogZ(sampler, logZ);
    return tf.tidy(() => {
      const r = trajectoryBalanceResiduals(sampler.forward(batch.inputs).output, batch.targets, batch);
      const data = Array.from(r.dataSync());
      const mean = data.reduce((a, b) => a + b, 0) / data.length;
      return { loss: varGradLoss(r).dataSync()[0], byHand: data.reduce((a, b) => a + (b - mean) ** 2, 0) / data.length / 2 };
    });
  });
  assert.ok(Math.abs(values[0].loss - values[0].byHand) < 1e-3 * Math.max(1, values[0].byHand));
  assert.ok(Math.abs(values[0].loss - values[1].loss) < 1e-3 * Math.max(1, values[0].loss));
  tf.dispose([batch.inputs, batch.targets]);
});

test('exploration decays linearly to 0 by explorationDecaySteps (0: constant); it widens the sampling noise only', () => {
  assert.equal(explorationAt(0.2, 5000, 0), 0.2);
  assert.ok(Math.abs(explorationAt(0.2, 5000, 2500) - 0.1) < 1e-12);
  assert.equal(explorationAt(0.2, 5000, 6000), 0);
  assert.equal(explorationAt(0.2, 0, 6000), 0.2);
  const target = gaussianTarget(2, 5);
  const sampler = samplerOf(2, 10, 5);
  const spread = (tr: Trajectories) => {
    let s = 0;
    for (let k = 0; k < tr.n; k++) s += tr.states[(k * 11 + 10) * 2] ** 2 / tr.n;
    return s;
  };
  const plain = spread(forwardTrajectories(sampler, target, 2000, createRng(5)));
  const explored = spread(forwardTrajectories(sampler, target, 2000, createRng(5), 1));
  // Variance of x_T: t_scale = 5 on-policy, 5 + T e^2 = 15 with e = 1 per step.
  assert.ok(Math.abs(plain - 5) < 0.6 && Math.abs(explored - 15) < 1.8, `${plain}, ${explored}`);
});

test('metrics: log mean exp, ESS, modes covered, sliced W2 on known cases', () => {
  assert.ok(Math.abs(logMeanExp([Math.log(1), Math.log(3)]) - Math.log(2)) < 1e-12);
  assert.ok(Math.abs(effectiveSampleShare([1, 1, 1, 1]) - 1) < 1e-12);
  assert.ok(Math.abs(effectiveSampleShare([0, -1000, -1000, -1000]) - 0.25) < 1e-9);
  const target = gmm25Target({ modeRadius: 1.5, modeShare: 0.01 });
  const atCentre = new Float32Array(200); // 100 samples at (0, 0): one mode of 25
  assert.deepEqual({ covered: modeCounts(target, atCentre)!.covered, centre: modeCounts(target, atCentre)!.counts[12] }, { covered: 1, centre: 100 });
  const a = target.sample!(1000, createRng(1));
  const shifted = a.map((v, i) => (i % 2 === 0 ? v + 3 : v));
  assert.ok(slicedW2(a, a, 2, createRng(2)) < 1e-9);
  // A shift s projects to s.theta: the mean of (s.theta)^2 over directions is |s|^2 / 2.
  const w = slicedW2(a, shifted, 2, createRng(2), 256);
  assert.ok(Math.abs(w - 3 / Math.SQRT2) < 0.25, `sliced W2 ${w}`);
});

test('a sampler run is seeded: the same spec and seed give the same losses and metrics', async () => {
  const text = JSON.stringify({
    formatVersion: 1,
    kind: 'train',
    name: 'sampler-seeded',
    seed: 3,
    task: { name: 'sampler-gmm25' },
    model: { name: 'diffusion-sampler', steps: 5, hidden: 16, harmonics: 8 },
    objective: { name: 'trajectory-balance', exploration: 0.2, evalSamples: 40 },
    training: { steps: 4, batchSize: 16, learningRate: 0.001, logEvery: 2, evalEvery: 4, evalBatches: 1, checkpointEvery: 4 },
  });
  const runOnce = () => trainedValues(text, 'seeded.lab.json');
  const first = await runOnce();
  assert.deepEqual(await runOnce(), first);
  const last = first.at(-1)![1];
  for (const key of ['eval/train/log-z-elbo', 'eval/train/log-z-iw', 'eval/train/ess', 'eval/train/eubo', 'eval/train/sliced-w2', 'eval/train/mmd', 'eval/train/modes-covered']) {
    assert.ok(Number.isFinite(last[key]), `${key}: ${last[key]}`);
  }
  assert.equal(last['eval/train/energy-evaluations'], 4 * 16);
  assert.equal(last['eval/train/modes-total'], 25);
});

test('Langevin parametrisation: at initialisation the drift is 0.01 clip(grad log R, +-100); the TB gradient through its scale matches central differences', () => {
  const target = gmm25Target({ modeRadius: 1.5, modeShare: 0.01 });
  const sampler = new DiffusionSampler(2, { steps: 4, tScale: 5, hidden: 16, harmonics: 8, langevin: true }, 100, createRng(0, 'init'));
  // At (60, 0) the nearest mean is (10, 0): grad log R = -(50, 0) / 0.3, clipped to -100.
  const points = [[60, 0], [4, 6]];
  const grad = tf.tidy(() => tf.grad((x: tf.Tensor) => tf.sum(target.logDensity(x as tf.Tensor2D)))(tf.tensor2d(points)).arraySync() as number[][]);
  const drift = tf.tidy(() => sampler.drift(tf.tensor2d(points), tf.tensor1d([0.25]), tf.tensor2d(grad)).arraySync() as number[][]);
  assert.ok(Math.abs(drift[0][0] - 0.01 * -100) < 1e-6, `clipped: ${drift[0][0]}`);
  points.forEach((_, k) => [0, 1].forEach((j) => assert.ok(Math.abs(drift[k][j] - 0.01 * Math.max(-100, Math.min(100, grad[k][j]))) < 1e-5)));

  const batch = trainingBatch(sampler, forwardTrajectories(sampler, target, 16, createRng(9)));
  const bias = sampler.parameters.find((p) => p.name === 'langevin.6.bias')!.variable;
  const loss = () => trajectoryBalanceLoss(trajectoryBalanceResiduals(sampler.forward(batch.inputs).output, batch.targets, batch));
  const analytic = tf.tidy(() => tf.variableGrads(loss, [bias]).grads[bias.name].dataSync()[0]);
  const at = (value: number) => tf.tidy(() => {
    bias.assign(tf.fill(bias.shape, value));
    return loss().dataSync()[0];
  });
  const h = 1e-3;
  const numeric = (at(0.01 + h) - at(0.01 - h)) / (2 * h);
  assert.ok(Math.abs(numeric - analytic) < 2e-2 * Math.max(1, Math.abs(analytic)), `autodiff ${analytic}, differences ${numeric}`);
  tf.dispose([batch.inputs, batch.targets]);
});

test('PIS: for N(0, t_scale I) with zero drift the loss is -log Z on every noise; its gradient matches central differences', () => {
  const tScale = 5;
  const target = gaussianTarget(2, tScale);
  const sampler = samplerOf(2, 8, tScale);
  const noise = pisNoise(sampler, 32, createRng(4));
  const loss = () => pisLoss(sampler, target, noise, 32);
  const value = tf.tidy(() => loss().dataSync()[0]);
  assert.ok(Math.abs(value + (target.logZ as { value: number }).value) < 1e-4, `PIS loss ${value}`);

  const gmm = gmm25Target({ modeRadius: 1.5, modeShare: 0.01 });
  const bias = sampler.parameters.find((p) => p.name === 'joint.5.bias')!.variable;
  const gmmLoss = () => pisLoss(sampler, gmm, noise, 32);
  const analytic = tf.tidy(() => Array.from(tf.variableGrads(gmmLoss, [bias]).grads[bias.name].dataSync()));
  const at = (values: number[]) => tf.tidy(() => {
    bias.assign(tf.tensor1d(values));
    return gmmLoss().dataSync()[0];
  });
  const h = 1e-2;
  [0, 1].forEach((j) => {
    const up = [0, 0];
    const down = [0, 0];
    up[j] = h;
    down[j] = -h;
    const numeric = (at(up) - at(down)) / (2 * h);
    assert.ok(Math.abs(numeric - analytic[j]) < 2e-2 * Math.max(1, Math.abs(analytic[j])), `coordinate ${j}: autodiff ${analytic[j]}, differences ${numeric}`);
  });
});

test('PIS and VarGrad train through the loop (finite losses, no tensor left behind; PIS leaves log Z at 0)', async () => {
  for (const objective of [{ name: 'pis', evalSamples: 20 }, { name: 'vargrad', evalSamples: 20 }]) {
    const { spec, problems } = parseSpec(
      JSON.stringify({
        formatVersion: 1,
        kind: 'train',
        name: `sampler-${objective.name}`,
        seed: 1,
        task: { name: 'sampler-gmm25' },
        model: { name: 'diffusion-sampler', steps: 4, hidden: 16, harmonics: 8 },
        objective,
        training: { steps: 2, batchSize: 8, learningRate: 0.001, logEvery: 1, evalEvery: 2, evalBatches: 1, checkpointEvery: 2 },
      }),
      `${objective.name}.lab.json`,
    );
    assert.deepEqual(problems, []);
    const sink = new MemorySink();
    const tensorsBefore = tf.memory().numTensors;
    await train({ spec: spec!, sink, shouldStop: () => false });
    for (const checkpoint of sink.checkpoints.values()) tf.dispose([...checkpoint.weights, ...checkpoint.optimizer].map((t) => t.tensor));
    assert.equal(tf.memory().numTensors, tensorsBefore, `${objective.name}: no tensor left behind by a run`);
    const values = sink.values();
    assert.ok(values.filter(([, v]) => 'train/loss' in v).every(([, v]) => Number.isFinite(v['train/loss'])), objective.name);
    if (objective.name === 'pis') assert.equal(values.at(-1)![1]['eval/train/log-z-learned'], 0);
  }
});
