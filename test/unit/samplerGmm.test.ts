/**
 * The mixture a user writes (task `sampler-gmm`, src/core/sampler/targets.ts gmmTarget): log R and
 * its autodiff gradient against the formula and central differences with unequal weights, the
 * normaliser by quadrature (log Z = log of the weight sum), exact samples per component in
 * proportion to the weights, the defaults equal to the built-in 25GMM, and bad values as located
 * spec problems.
 */
import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { createRng } from '../../src/core/rng';
import { gmmOptions } from '../../src/core/sampler/options';
import { describeTarget, gmm25Target, gmmTarget, type SamplerTarget } from '../../src/core/sampler/targets';
import { parseSpec } from '../../src/core/spec/validate';
import { useWasmBackend } from '../helpers/backend';

before(useWasmBackend);

const rule = { modeRadius: 1.5, modeShare: 0.01 };
const three = { means: [[-2, 1], [3, 0.5], [0, -4]], weights: [1, 2, 0.5], std: 0.8, ...rule };
const logR = (target: SamplerTarget, points: number[][]) => tf.tidy(() => Array.from(target.logDensity(tf.tensor2d(points)).dataSync()));

test('log R of a weighted mixture is log sum_k w_k N(x; mean_k, std^2 I), its gradient matches central differences', () => {
  const target = gmmTarget(three);
  const points = [[0.3, -1.2], [-2.4, 0.9], [2.1, 1.7]];
  points.forEach((point, i) => {
    let density = 0;
    three.means.forEach(([m0, m1], k) => {
      density += (three.weights[k] * Math.exp(-((point[0] - m0) ** 2 + (point[1] - m1) ** 2) / (2 * three.std ** 2))) / (2 * Math.PI * three.std ** 2);
    });
    assert.ok(Math.abs(logR(target, points)[i] - Math.log(density)) < 1e-4, `point ${i}`);
  });
  const grad = tf.tidy(() => tf.grad((x: tf.Tensor) => tf.sum(target.logDensity(x as tf.Tensor2D)))(tf.tensor2d(points)).arraySync() as number[][]);
  const h = 1e-2;
  points.forEach((point, i) =>
    point.forEach((_, j) => {
      const up = [...point];
      const down = [...point];
      up[j] += h;
      down[j] -= h;
      const [fu, fd] = logR(target, [up, down]);
      const numeric = (fu - fd) / (2 * h);
      assert.ok(Math.abs(numeric - grad[i][j]) <= 2e-2 * Math.max(1, Math.abs(grad[i][j])), `point ${i} coordinate ${j}: autodiff ${grad[i][j]}, differences ${numeric}`);
    }),
  );
});

test('unnormalised weights: log Z = log of their sum, and quadrature agrees', () => {
  const target = gmmTarget(three);
  assert.ok(target.logZ.known && Math.abs(target.logZ.value - Math.log(3.5)) < 1e-12, JSON.stringify(target.logZ));
  const [[a0, a1], [b0, b1]] = target.range;
  const cells = 300;
  const ha = (a1 - a0) / cells;
  const hb = (b1 - b0) / cells;
  let z = 0;
  for (let i = 0; i < cells; i++) {
    const rows = Array.from({ length: cells }, (_, j) => [a0 + (i + 0.5) * ha, b0 + (j + 0.5) * hb]);
    for (const v of logR(target, rows)) z += Math.exp(v) * ha * hb;
  }
  assert.ok(Math.abs(z / 3.5 - 1) < 2e-3, `quadrature ${z}, weights sum to 3.5`);
  assert.deepEqual(target.range, [[-2 - 4, 3 + 4], [-4 - 4, 1 + 4]], 'the means padded by max(3, 5 std) = 4');
});

test('exact samples fall to each component in proportion to its weight (seeded)', () => {
  const target = gmmTarget(three);
  const n = 14000;
  const samples = target.sample!(n, createRng(3));
  const counts = [0, 0, 0];
  for (let i = 0; i < n; i++) {
    const nearest = three.means
      .map(([m0, m1]) => (samples[2 * i] - m0) ** 2 + (samples[2 * i + 1] - m1) ** 2)
      .reduce((best, d, k, all) => (d < all[best] ? k : best), 0);
    counts[nearest]++;
  }
  // Binomial standard error at n = 14,000 is under 0.005; the components overlap by less than 1e-4.
  counts.forEach((count, k) => assert.ok(Math.abs(count / n - three.weights[k] / 3.5) < 0.02, `component ${k}: ${count / n}`));
  assert.deepEqual(Array.from(target.sample!(5, createRng(9))), Array.from(target.sample!(5, createRng(9))));
});

test("the defaults are 25GMM: the same log R, log Z, range, samples and description", () => {
  const { spec, problems } = parseSpec(specText({}), 'gmm.lab.json');
  assert.deepEqual(problems, []);
  const task = spec!.task as unknown as Parameters<typeof gmmTarget>[0];
  assert.equal(task.weights!.length, 25, 'omitted weights are recorded: 1/25 each');
  assert.ok(task.weights!.every((w) => w === 1 / 25));
  const written = gmmTarget(task);
  const builtIn = gmm25Target(rule);
  const points = [[1.3, -4.2], [9.6, 10.4], [-7.5, 2.5], [0, 0]];
  logR(written, points).forEach((v, i) => assert.ok(Math.abs(v - logR(builtIn, points)[i]) < 1e-5, `point ${i}: ${v} vs ${logR(builtIn, points)[i]}`));
  const { name: _a, ...writtenInfo } = describeTarget(written);
  const { name: _b, ...builtInInfo } = describeTarget(builtIn);
  assert.deepEqual(writtenInfo, builtInInfo);
  assert.deepEqual(Array.from(written.sample!(50, createRng(4))), Array.from(builtIn.sample!(50, createRng(4))));
  assert.equal((gmmOptions.properties.means as { default: number[][] }).default.length, 25);
});

const specText = (task: Record<string, unknown>) =>
  JSON.stringify({
    formatVersion: 1,
    kind: 'train',
    name: 'sampler-gmm',
    seed: 0,
    task: { name: 'sampler-gmm', ...task },
    model: { name: 'diffusion-sampler', steps: 4, hidden: 8, harmonics: 4, tScale: 1 },
    objective: { name: 'trajectory-balance', evalSamples: 10 },
    training: { steps: 2, batchSize: 8, learningRate: 0.001, logEvery: 1, evalEvery: 2, evalBatches: 1, checkpointEvery: 2 },
  });

test('bad means, weights or std are spec problems located under /task', () => {
  const problems = (task: Record<string, unknown>) => parseSpec(specText(task), 'e.lab.json').problems.map((p) => `${p.path}: ${p.message}`).join('\n');
  assert.match(problems({ means: [[0, 0], [1, 2, 3]] }), /^\/task\/means\/1: mean 1 has 3 coordinates but the first has 2/);
  assert.match(problems({ means: [[0, 0], [1, 2]], weights: [1] }), /^\/task\/weights: 1 weights for 2 means/);
  assert.match(problems({ means: [[0, 0], [1, 2]], weights: [1, -2] }), /^\/task\/weights\/1: /);
  assert.match(problems({ means: [[0, 0], [1, 2]], weights: [1, 0] }), /^\/task\/weights\/1: /);
  assert.match(problems({ std: 0 }), /^\/task\/std: /);
  assert.match(problems({ means: [] }), /^\/task\/means: /);
  assert.match(problems({ means: [[0, 'a']] }), /^\/task\/means\/0\/1: /);
  assert.equal(problems({ means: [[0, 0], [4, 4]], weights: [1, 3], std: 1 }), '');
});
