/**
 * Local search (src/core/sampler/localSearch.ts): MALA keeps a Gaussian invariant (moments
 * within stated error, at the step size its adaptation settles on, where an unadjusted Langevin
 * step would be visibly biased); the replay buffer draws by rank and forgets the oldest; a
 * trajectory-balance run with local search alternates its steps and counts its energy evaluations.
 */
import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { createRng } from '../../src/core/rng';
import { mala, ReplayBuffer } from '../../src/core/sampler/localSearch';
import type { SamplerTarget } from '../../src/core/sampler/targets';
import { useWasmBackend } from '../helpers/backend';
import { trainedValues } from '../helpers/memorySink';

before(useWasmBackend);

const VARIANCE = 2;
const gaussian: SamplerTarget = {
  name: 'gaussian',
  dimension: 2,
  coordinates: ['x1', 'x2'],
  logZ: { known: true, value: Math.log(2 * Math.PI * VARIANCE) },
  range: [[-5, 5], [-5, 5]],
  logDensity: (x) => tf.tidy(() => tf.mul(tf.sum(tf.square(x), 1), -0.5 / VARIANCE) as tf.Tensor1D),
};

test('MALA keeps N(0, 2 I) invariant: mean within 0.1 and variance within 10% after 60 steps from exact samples (4,000 chains)', () => {
  const n = 4000;
  const rng = createRng(11);
  const start = Float32Array.from({ length: 2 * n }, () => Math.sqrt(VARIANCE) * rng.normal());
  const result = mala(gaussian, start, n, rng, { steps: 60, burnIn: 30, stepSize: 0.5, targetAcceptance: 0.574 });
  for (let j = 0; j < 2; j++) {
    let mean = 0;
    for (let k = 0; k < n; k++) mean += result.final[k * 2 + j] / n;
    let variance = 0;
    for (let k = 0; k < n; k++) variance += (result.final[k * 2 + j] - mean) ** 2 / n;
    assert.ok(Math.abs(mean) < 0.1, `coordinate ${j}: mean ${mean}`);
    assert.ok(Math.abs(variance / VARIANCE - 1) < 0.1, `coordinate ${j}: variance ${variance}`);
  }
  // In 2-D the acceptance stays above 0.574, so the step grows (1% a step) from 0.5; at h = 0.7 an
  // unadjusted Langevin step's stationary variance is 2 / (1 - h / 4) = 2.4, 20% too wide.
  assert.ok(result.acceptance > 0.574, `acceptance ${result.acceptance}`);
  assert.ok(result.stepSize > 0.7, `step size ${result.stepSize}`);
  assert.equal(result.acceptedLogR.length, result.accepted.length / 2);
  assert.equal(result.energyEvaluations, n * 61);
});

test('the replay buffer draws by rank (weight 1 / (0.01 N + rank)) and keeps the newest `capacity` samples', () => {
  const buffer = new ReplayBuffer(1, 100, 0.01);
  buffer.add(Float32Array.from({ length: 100 }, (_, i) => i), Array.from({ length: 100 }, (_, i) => -i)); // sample i has rank i
  const draws = buffer.sample(200000, createRng(4));
  const counts = new Array<number>(100).fill(0);
  for (const v of draws) counts[v] += 1;
  // rank 0 against rank 9: weights 1/1 and 1/10.
  assert.ok(Math.abs(counts[0] / counts[9] - 10) < 1, `${counts[0]} / ${counts[9]}`);
  buffer.add(Float32Array.from([1000, 1001]), [5, 6]);
  assert.equal(buffer.size, 100);
  const after = buffer.sample(5000, createRng(5));
  assert.ok(!after.includes(0) && !after.includes(1), 'the two oldest left');
  assert.ok(after.filter((v) => v === 1001).length > after.filter((v) => v === 1000).length, 'the highest log R is drawn most');
});

test('trajectory balance with local search: alternating steps run, seeded, and energy evaluations count the searches', async () => {
  const text = JSON.stringify({
    formatVersion: 1,
    kind: 'train',
    name: 'sampler-local-search',
    seed: 5,
    task: { name: 'sampler-gmm25' },
    model: { name: 'diffusion-sampler', steps: 5, hidden: 16, harmonics: 8 },
    objective: { name: 'trajectory-balance', exploration: 0.2, localSearch: true, localSearchEvery: 2, localSearchSteps: 5, localSearchBurnIn: 1, evalSamples: 40 },
    training: { steps: 4, batchSize: 16, learningRate: 0.001, logEvery: 1, evalEvery: 4, evalBatches: 1, checkpointEvery: 4 },
  });
  const runOnce = () => trainedValues(text, 'ls.lab.json');
  const first = await runOnce();
  assert.deepEqual(await runOnce(), first);
  for (const [, values] of first) if ('train/loss' in values) assert.ok(Number.isFinite(values['train/loss']));
  // 4 batches of 16, and local searches at steps 2 and 4 of 16 chains x (5 + 1) evaluations.
  assert.equal(first.at(-1)![1]['eval/train/energy-evaluations'], 4 * 16 + 2 * 16 * 6);
});
