import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { useWasmBackend } from '../helpers/backend';
import { MemorySink } from '../helpers/memorySink';
import { createRng } from '../../src/core/rng';
import { train } from '../../src/core/train';
import type { ResolvedSpec } from '../../src/core/spec/types';
import { gaussianMeanLogEvidence, linearRegressionPosterior, symmetricKlDiagonal } from '../../src/core/posterior/exact';
import { GaussianFamily } from '../../src/core/posterior/families';
import { GaussianMeanModel } from '../../src/core/posterior/models/gaussianMean';
import { linearRegression } from '../../src/core/posterior/models/parametricFunction';
import { simulateBatch } from '../../src/core/posterior/dataSets';
import { elboEstimate, elboTerms, normalisedSymmetricKl, warmupWeight } from '../../src/core/posterior/objectives';
import { linearRegressionExact } from '../../src/core/posterior/tasks';

const close = (actual: number, expected: number, tolerance: number, what: string) =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} vs ${expected} (tolerance ${tolerance})`);

test('ELBO: with q the exact posterior of the Gaussian mean it equals the log evidence; a perturbed q gives less, by KL(q || p)', async () => {
  await useWasmBackend();
  const model = new GaussianMeanModel(2);
  const family = new GaussianFamily(2);
  const batch = simulateBatch(model, 3, { contextMin: 5, contextMax: 20, heldOut: 1 }, createRng(1, 'elbo'));
  const { context } = batch.posterior;
  const samples = 4000;
  const noise = tf.randomNormal([context.count, samples, 2], 0, 1, 'float32', 7);
  for (let b = 0; b < context.count; b++) {
    const n = context.sizes[b];
    const x = context.x.subarray(b * context.capacity * 2, (b * context.capacity + n) * 2);
    const logEvidence = gaussianMeanLogEvidence(x, n, 2);
    const mean = [0, 1].map((f) => Array.from({ length: n }, (_, i) => x[2 * i + f]).reduce((a, v) => a + v, 0) / (n + 1));
    const variance = 1 / (n + 1);
    // Shifted mean and a wider q: KL(q' || p) in closed form.
    const shift = [0.3, -0.2];
    const factor = 2.5;
    const kl = 0.5 * (2 * factor - 2 - 2 * Math.log(factor) + (shift[0] ** 2 + shift[1] ** 2) / variance);
    const conditionOf = (m: number[], v: number) =>
      tf.tensor2d(Array.from({ length: context.count }, () => [...m, Math.log(v), Math.log(v)]));
    const elbo = (m: number[], v: number) =>
      tf.tidy(() => elboEstimate(family, model, conditionOf(m, v), context, noise).dataSync()[b]);
    const exact = elbo(mean, variance);
    close(exact, logEvidence, 1e-3 * Math.abs(logEvidence), `exact q, data set ${b}`);
    // Per-sample ELBO terms of the perturbed q: their mean is log p(D) - KL(q' || p) up to
    // Monte Carlo error, which we measure from the same samples.
    const perSample = tf.tidy(() => {
      const { logLikelihood, kl: klTerm } = elboTerms(family, model, conditionOf(mean.map((v, f) => v + shift[f]), variance * factor), context, noise);
      return (tf.sub(logLikelihood, klTerm).arraySync() as number[][])[b];
    });
    const perturbed = perSample.reduce((a, v) => a + v, 0) / samples;
    const standardError = Math.sqrt(perSample.reduce((a, v) => a + (v - perturbed) ** 2, 0) / (samples - 1) / samples);
    assert.ok(perturbed < exact, `perturbed ${perturbed} < exact ${exact}`);
    assert.ok(standardError > 0.01 && standardError < 0.2, `standard error ${standardError}`);
    close(perturbed, logEvidence - kl, 4 * standardError, `perturbed q, data set ${b}`);
  }
  noise.dispose();
});

test('symmetric KL metric (tensors) matches the double-precision formula', async () => {
  await useWasmBackend();
  const model = linearRegression(1);
  const batch = simulateBatch(model, 4, { contextMin: 3, contextMax: 10, heldOut: 1 }, createRng(2, 'skl'));
  const { context } = batch.posterior;
  const rng = createRng(3, 'q');
  const conditions = Array.from({ length: context.count }, () => [rng.normal(), rng.normal(), rng.normal() - 2, rng.normal() - 2]);
  const actual = tf.tidy(() => Array.from(normalisedSymmetricKl(tf.tensor2d(conditions), linearRegressionExact, context, 2).dataSync()));
  conditions.forEach(([m0, m1, lv0, lv1], b) => {
    const n = context.sizes[b];
    const p = linearRegressionPosterior(
      context.x.subarray(b * context.capacity, b * context.capacity + n),
      context.y.subarray(b * context.capacity, b * context.capacity + n),
      n, 1, 0.25,
    );
    const expected = symmetricKlDiagonal([m0, m1], [Math.exp(lv0), Math.exp(lv1)], p) / 2;
    close(actual[b], expected, 1e-3 * Math.max(1, expected), `data set ${b}`);
  });
  batch.inputs.dispose();
  batch.targets.dispose();
});

test('the KL warm-up rises linearly from 0 to 1', () => {
  assert.deepEqual([0, 50, 100, 200].map((s) => warmupWeight(s, 100)), [0, 0.5, 1, 1]);
  assert.equal(warmupWeight(0, 0), 1);
});

function posteriorSpec(objective: { name: string } & Record<string, unknown>, overrides: Partial<ResolvedSpec['training']> = {}): ResolvedSpec {
  return {
    formatVersion: 1,
    kind: 'train',
    name: 'test-posterior',
    seed: 0,
    task: { name: 'posterior-gaussian-mean', dim: 2, contextMin: 8, contextMax: 16, heldOut: 10 },
    model: { name: 'amortized-posterior', encoder: 'deepsets', family: 'gaussian', dim: 32, layers: 1, heads: 2, feedForward: 32, flowBlocks: 2, flowHidden: 16 },
    objective,
    training: {
      steps: 150, batchSize: 32, learningRate: 3e-3, optimizer: 'adam',
      logEvery: 50, evalEvery: 150, evalBatches: 2, checkpointEvery: 1000, keepCheckpoints: 1,
      ...overrides,
    },
  };
}

for (const objective of [{ name: 'forward-kl' }, { name: 'reverse-kl', samples: 2, warmupSteps: 20 }]) {
  test(`${objective.name}: a short run learns the Gaussian-mean posterior, deterministically, without leaking tensors`, async () => {
    await useWasmBackend();
    const before = tf.memory().numTensors;
    const run = async () => {
      const sink = new MemorySink();
      await train({ spec: posteriorSpec(objective), sink, shouldStop: () => false });
      return sink;
    };
    const sink = await run();
    const evaluation = sink.records.find((r) => 'eval/train/symmetric-kl' in r.values)!.values;
    assert.deepEqual(Object.keys(evaluation).sort(), [
      'eval/train/elbo', 'eval/train/exact-predictive-l2', 'eval/train/nll', 'eval/train/predictive-l2', 'eval/train/symmetric-kl',
    ]);
    // The prior scores about 44 on this metric (the notes); 150 small steps get well below 1.
    assert.ok(evaluation['eval/train/symmetric-kl'] < 1, JSON.stringify(evaluation));
    assert.ok(evaluation['eval/train/predictive-l2'] < 1.2 * evaluation['eval/train/exact-predictive-l2'], JSON.stringify(evaluation));
    const again = await run();
    assert.deepEqual(again.values(), sink.values(), 'same spec, same metrics');
    for (const s of [sink, again]) for (const c of s.checkpoints.values()) tf.dispose([...c.weights, ...c.optimizer].map((t) => t.tensor));
    assert.equal(tf.memory().numTensors, before, 'no tensors left behind');
  });
}

test('every family, encoder and likelihood has gradients on the wasm backend (flow permutations, classification)', async () => {
  await useWasmBackend();
  for (const task of [
    { name: 'posterior-nonlinear-classification', dim: 2, classes: 2, hidden: 4, layers: 2, activation: 'tanh', contextMin: 3, contextMax: 6, heldOut: 3 },
    { name: 'posterior-gaussian-mixture', dim: 2, clusters: 2, contextMin: 3, contextMax: 6, heldOut: 3 },
  ]) {
    for (const objective of [{ name: 'forward-kl' }, { name: 'reverse-kl', samples: 2, warmupSteps: 0 }]) {
      const spec = posteriorSpec(objective, { steps: 2, batchSize: 4, evalEvery: 2, evalBatches: 1 });
      spec.task = task;
      spec.model = { ...spec.model, encoder: 'transformer', family: 'flow' };
      const sink = new MemorySink();
      await train({ spec, sink, shouldStop: () => false });
      const last = sink.records[sink.records.length - 1].values;
      for (const [name, value] of Object.entries(last)) assert.ok(Number.isFinite(value), `${task.name} ${objective.name} ${name} = ${value}`);
      for (const c of sink.checkpoints.values()) tf.dispose([...c.weights, ...c.optimizer].map((t) => t.tensor));
    }
  }
});

test('reverse KL: a run resumed during the warm-up reproduces the uninterrupted run', async () => {
  await useWasmBackend();
  const spec = posteriorSpec({ name: 'reverse-kl', samples: 2, warmupSteps: 20 }, { steps: 30, logEvery: 5, evalEvery: 30 });
  const uninterrupted = new MemorySink();
  await train({ spec, sink: uninterrupted, shouldStop: () => false });
  const interrupted = new MemorySink();
  let polls = 0;
  await train({ spec, sink: interrupted, shouldStop: () => polls++ === 12 });
  const checkpoint = interrupted.checkpoints.get(12)!;
  assert.ok(checkpoint, 'stopped inside the warm-up, at step 12');
  await train({ spec, sink: interrupted, resumeFrom: checkpoint, shouldStop: () => false });
  assert.deepEqual(interrupted.values(), uninterrupted.values());
  for (const s of [uninterrupted, interrupted]) for (const c of s.checkpoints.values()) tf.dispose([...c.weights, ...c.optimizer].map((t) => t.tensor));
});
