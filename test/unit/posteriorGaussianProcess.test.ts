import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { useWasmBackend } from '../helpers/backend';
import { MemorySink } from '../helpers/memorySink';
import { buildExperiment } from '../../src/core/experiment';
import { findTask } from '../../src/core/registry';
import { createRng } from '../../src/core/rng';
import type { ResolvedSpec } from '../../src/core/spec/types';
import { parseSpec } from '../../src/core/spec/validate';
import { train } from '../../src/core/train';
import { isPosteriorBatch, type PosteriorBatch } from '../../src/core/posterior/dataSets';
import { gaussianProcessBatch, gaussianProcessTargets, rbfKernel } from '../../src/core/posterior/gaussianProcess';
import { cholesky } from '../../src/core/posterior/linalg';
import { nonlinearRegression } from '../../src/core/posterior/models/parametricFunction';
import { isPosteriorTask, type PosteriorTask } from '../../src/core/posterior/tasks';

const NOISE = 0.25;
/** The RBF kernel with lengthscale 1 and variance 1, from its definition. */
const rbf = (a: number[], b: number[]) => Math.exp(-0.5 * a.reduce((sum, v, f) => sum + (v - b[f]) ** 2, 0));

/** Sample mean and covariance of draws [N][n], and the standard errors of both. */
function moments(draws: Float32Array[]) {
  const count = draws.length;
  const n = draws[0].length;
  const mean = Array.from({ length: n }, (_, i) => draws.reduce((s, d) => s + d[i], 0) / count);
  const cov = Array.from({ length: n }, (_, i) =>
    Array.from({ length: n }, (_, j) => draws.reduce((s, d) => s + (d[i] - mean[i]) * (d[j] - mean[j]), 0) / (count - 1)),
  );
  // For Gaussian data: Var(mean_i) = S_ii / N, Var(S_ij) = (S_ij^2 + S_ii S_jj) / N.
  const meanError = (i: number) => Math.sqrt(cov[i][i] / count);
  const covError = (i: number, j: number) => Math.sqrt((cov[i][j] ** 2 + cov[i][i] * cov[j][j]) / count);
  return { mean, cov, meanError, covError };
}

test('the Cholesky factor the GP draws with reproduces an RBF kernel matrix (+ jitter); a singular matrix is refused', () => {
  const rng = createRng(3, 'cholesky');
  const n = 40;
  const x = Float64Array.from({ length: n }, () => rng.normal());
  const k = rbfKernel(x, n, 1);
  assert.equal(k[1], rbf([x[0]], [x[1]]));
  for (let i = 0; i < n; i++) k[i * n + i] += 1e-6;
  const l = cholesky(k, n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let product = 0;
      for (let m = 0; m < n; m++) product += l[i * n + m] * l[j * n + m];
      assert.ok(Math.abs(product - k[i * n + j]) < 1e-12, `(L L^T)[${i}][${j}] = ${product} vs ${k[i * n + j]}`);
      if (j > i) assert.equal(l[i * n + j], 0);
    }
  }
  assert.throws(() => cholesky([1, 1, 1, 1], 2), /not positive definite/);
});

for (const points of [[[-1], [0], [0.5], [2]], [[0, 0], [0.5, -0.5], [-1, 1]]]) {
  test(`GP targets at fixed inputs (${points[0].length}-D): sample mean 0, sample covariance = RBF kernel + noise within Monte Carlo error`, () => {
    const n = points.length;
    const dim = points[0].length;
    const x = Float32Array.from(points.flat());
    const rng = createRng(11, 'gp-covariance', dim);
    const draws = Array.from({ length: 20000 }, () => gaussianProcessTargets(x, n, dim, rng));
    const { mean, cov, meanError, covError } = moments(draws);
    for (let i = 0; i < n; i++) {
      assert.ok(Math.abs(mean[i]) < 4.5 * meanError(i), `mean ${i}: ${mean[i]} (standard error ${meanError(i)})`);
      for (let j = 0; j <= i; j++) {
        const expected = rbf(points[i], points[j]) + (i === j ? NOISE : 0);
        assert.ok(Math.abs(cov[i][j] - expected) < 4.5 * covError(i, j), `cov[${i}][${j}]: ${cov[i][j]} vs ${expected} (standard error ${covError(i, j)})`);
      }
    }
  });
}

test('GP batches: context and held-out points come from one draw (their covariance is E k(x, x\') = 3^(-1/2) for x, x\' ~ N(0, 1))', async () => {
  await useWasmBackend();
  // One context and one held-out point per data set: Cov(y_context, y_held) = E_x k(x, x') with
  // x - x' ~ N(0, 2), i.e. E exp(-z^2 / 2) = 1 / sqrt(3); independent draws would give 0.
  const model = nonlinearRegression(1, [4], 'relu');
  const count = 6000;
  const batch = gaussianProcessBatch(model, count, { contextMin: 1, contextMax: 1, heldOut: 1 }, createRng(5, 'gp-joint'));
  const { context, heldOut, theta } = batch.posterior;
  assert.equal(theta, undefined, 'GP data sets have no theta');
  assert.ok(Array.from(batch.targets.dataSync()).every(Number.isNaN), 'targets are NaN, never a plausible theta');
  tf.dispose([batch.inputs, batch.targets]);
  const draws = Array.from({ length: count }, (_, b) => Float32Array.of(context.y[b], heldOut.y[b]));
  const { cov, covError } = moments(draws);
  const expected = 1 / Math.sqrt(3);
  assert.ok(Math.abs(cov[0][1] - expected) < 4.5 * covError(0, 1), `covariance ${cov[0][1]} vs ${expected} (standard error ${covError(0, 1)})`);
  assert.ok(Math.abs(cov[0][0] - (1 + NOISE)) < 4.5 * covError(0, 0), `variance ${cov[0][0]}`);
  const xs = Array.from(context.x);
  const xMean = xs.reduce((a, v) => a + v, 0) / count;
  const xVariance = xs.reduce((a, v) => a + (v - xMean) ** 2, 0) / (count - 1);
  assert.ok(Math.abs(xMean) < 4.5 / Math.sqrt(count) && Math.abs(xVariance - 1) < 4.5 * Math.sqrt(2 / count), `x ~ N(0, 1): mean ${xMean}, variance ${xVariance}`);
});

test('GP batches are seeded: the same rng state gives the same data sets, another seed different ones', async () => {
  await useWasmBackend();
  const model = nonlinearRegression(2, [4], 'tanh');
  const sizes = { contextMin: 5, contextMax: 30, heldOut: 7 };
  const draw = (seed: number) => {
    const batch = gaussianProcessBatch(model, 6, sizes, createRng(seed, 'gp-seed'));
    const inputs = Array.from(batch.inputs.dataSync());
    tf.dispose([batch.inputs, batch.targets]);
    const { context, heldOut, noiseSeed } = batch.posterior;
    return { inputs, sizes: context.sizes, x: Array.from(context.x), y: Array.from(context.y), heldX: Array.from(heldOut.x), heldY: Array.from(heldOut.y), noiseSeed };
  };
  const first = draw(1);
  assert.deepEqual(draw(1), first);
  assert.ok(new Set(first.sizes).size > 1, `context sizes vary: ${first.sizes}`);
  assert.notDeepEqual(draw(2).y, first.y);
});

function nlrTask(options: Record<string, unknown> = {}): PosteriorTask {
  const task = findTask('posterior-nonlinear-regression')!.create(
    { dim: 1, hidden: 4, layers: 1, activation: 'relu', contextMin: 4, contextMax: 8, heldOut: 5, ...options },
    0,
  );
  assert.ok(isPosteriorTask(task));
  return task;
}

test("the split 'gaussian-process' exists only with task.gaussianProcessSplit; task.dataSource picks the training split's source", async () => {
  await useWasmBackend();
  assert.deepEqual(nlrTask().splits, ['train']);
  assert.deepEqual(nlrTask({ gaussianProcessSplit: false, dataSource: 'simulator' }).splits, ['train']);
  assert.throws(() => nlrTask().batch(2, 'gaussian-process', createRng(0)), /unknown split 'gaussian-process': expected one of train/);
  const task = nlrTask({ gaussianProcessSplit: true });
  assert.deepEqual(task.splits, ['train', 'gaussian-process']);
  const hasTheta = (split: string, t: PosteriorTask = task) => {
    const batch = t.batch(3, split, createRng(0, split)) as PosteriorBatch;
    tf.dispose([batch.inputs, batch.targets]);
    assert.ok(isPosteriorBatch(batch));
    return batch.posterior.theta !== undefined;
  };
  assert.equal(hasTheta('train'), true);
  assert.equal(hasTheta('gaussian-process'), false);
  assert.equal(hasTheta('train', nlrTask({ dataSource: 'gaussian-process' })), false);
  assert.throws(() => nlrTask({ dataSource: 'gp' }), /task\.dataSource must be one of 'simulator', 'gaussian-process', got "gp"/);

  // In a file: the defaults are filled in, and only the regression tasks take the options.
  const file = (task: Record<string, unknown>) =>
    parseSpec(JSON.stringify({ formatVersion: 1, kind: 'train', name: 'x', task, model: { name: 'amortized-posterior' }, objective: { name: 'reverse-kl' } }), 'x.lab.json');
  const resolved = file({ name: 'posterior-linear-regression' }).spec!;
  assert.equal(resolved.task.dataSource, 'simulator');
  assert.equal(resolved.task.gaussianProcessSplit, false);
  const refused = file({ name: 'posterior-gaussian-mean', gaussianProcessSplit: true });
  assert.equal(refused.spec, undefined);
  assert.ok(refused.problems.some((p) => p.path === '/task/gaussianProcessSplit'), JSON.stringify(refused.problems));
  assert.ok(file({ name: 'posterior-nonlinear-regression', dataSource: 'mlp' }).problems.some((p) => p.path === '/task/dataSource'));
});

function gpSpec(task: Record<string, unknown>, objective: { name: string } & Record<string, unknown>, steps = 3): ResolvedSpec {
  return {
    formatVersion: 1,
    kind: 'train',
    name: 'test-gp',
    seed: 0,
    task: { name: 'posterior-nonlinear-regression', dim: 1, hidden: 4, layers: 1, activation: 'relu', contextMin: 6, contextMax: 12, heldOut: 8, ...task },
    model: { name: 'amortized-posterior', encoder: 'deepsets', family: 'gaussian', dim: 16, layers: 1, heads: 2, feedForward: 16, flowBlocks: 2, flowHidden: 16 },
    objective,
    training: { steps, batchSize: 8, learningRate: 1e-3, optimizer: 'adam', logEvery: 1, evalEvery: steps, evalBatches: 2, checkpointEvery: 1000, keepCheckpoints: 1 },
  };
}

test("forward KL with task.dataSource 'gaussian-process' is refused when the experiment is built, naming the option and suggesting reverse KL", async () => {
  await useWasmBackend();
  const before = tf.memory().numTensors;
  assert.throws(
    () => buildExperiment(gpSpec({ dataSource: 'gaussian-process' }, { name: 'forward-kl' })),
    /objective 'forward-kl' trains on the true theta .* task\.dataSource is 'gaussian-process'.*use objective 'reverse-kl'/,
  );
  assert.equal(tf.memory().numTensors, before, 'the refused experiment leaves no weights behind');
  // Evaluating a forward-KL posterior on GP data is fine: only training needs theta.
  const experiment = buildExperiment(gpSpec({ gaussianProcessSplit: true }, { name: 'forward-kl' }));
  tf.dispose(experiment.model.parameters.map((p) => p.variable));
});

const disposeCheckpoints = (sink: MemorySink) => {
  for (const c of sink.checkpoints.values()) tf.dispose([...c.weights, ...c.optimizer].map((t) => t.tensor));
};
const evaluationOf = (sink: MemorySink) => sink.records.filter((r) => Object.keys(r.values).some((k) => k.startsWith('eval/'))).pop()!.values;

test('reverse KL trains on GP data: finite losses and metrics, no nll (no theta), no tensors left behind', async () => {
  await useWasmBackend();
  const before = tf.memory().numTensors;
  const sink = new MemorySink();
  await train({ spec: gpSpec({ dataSource: 'gaussian-process' }, { name: 'reverse-kl', samples: 2, warmupSteps: 2 }), sink, shouldStop: () => false });
  const losses = sink.records.map((r) => r.values['train/loss']).filter((v) => v !== undefined);
  assert.equal(losses.length, 3);
  for (const loss of losses) assert.ok(Number.isFinite(loss), `loss ${loss}`);
  const evaluation = evaluationOf(sink);
  assert.deepEqual(Object.keys(evaluation).sort(), ['eval/train/elbo', 'eval/train/predictive-l2']);
  for (const [name, value] of Object.entries(evaluation)) assert.ok(Number.isFinite(value), `${name} = ${value}`);
  disposeCheckpoints(sink);
  assert.equal(tf.memory().numTensors, before, 'no tensors left behind');
});

test("the GP split adds eval/gaussian-process/... and leaves the training split's metrics exactly as without it", async () => {
  await useWasmBackend();
  const run = async (task: Record<string, unknown>, objective: { name: string } & Record<string, unknown>) => {
    const sink = new MemorySink();
    await train({ spec: gpSpec(task, objective, 2), sink, shouldStop: () => false });
    disposeCheckpoints(sink);
    return evaluationOf(sink);
  };
  const plain = await run({}, { name: 'forward-kl' });
  const withSplit = await run({ gaussianProcessSplit: true }, { name: 'forward-kl' });
  const trainOnly = Object.fromEntries(Object.entries(withSplit).filter(([k]) => k.startsWith('eval/train/')));
  assert.deepEqual(trainOnly, plain);
  assert.deepEqual(Object.keys(withSplit).filter((k) => k.startsWith('eval/gaussian-process/')).sort(), [
    'eval/gaussian-process/elbo', 'eval/gaussian-process/predictive-l2',
  ]);
  // Linear regression keeps its exact-posterior metrics on GP data: the conjugate posterior reads
  // only the data, so it is the assumed model's exact answer there too.
  const linear = await run({ name: 'posterior-linear-regression', dim: 1, gaussianProcessSplit: true }, { name: 'reverse-kl', samples: 2, warmupSteps: 0 });
  assert.deepEqual(Object.keys(linear).filter((k) => k.startsWith('eval/gaussian-process/')).sort(), [
    'eval/gaussian-process/elbo', 'eval/gaussian-process/exact-predictive-l2', 'eval/gaussian-process/predictive-l2', 'eval/gaussian-process/symmetric-kl',
  ]);
  for (const [name, value] of Object.entries(linear)) assert.ok(Number.isFinite(value), `${name} = ${value}`);
});

test('the misspecification templates build (the validator alone does not check objective and data source together) and evaluate on the GP split', async () => {
  await useWasmBackend();
  for (const [name, source] of [['posterior-misspecified-nlr-test-on-gp', 'simulator'], ['posterior-misspecified-nlr-train-on-gp', 'gaussian-process']]) {
    const file = join(__dirname, '../../templates', `${name}.lab.json`);
    const { spec, problems } = parseSpec(readFileSync(file, 'utf8'), file);
    assert.ok(spec, JSON.stringify(problems));
    const experiment = buildExperiment(spec);
    assert.ok(isPosteriorTask(experiment.task));
    assert.equal(experiment.task.dataSource, source, name);
    assert.deepEqual(experiment.task.splits, ['train', 'gaussian-process'], name);
    tf.dispose(experiment.model.parameters.map((p) => p.variable));
  }
});
