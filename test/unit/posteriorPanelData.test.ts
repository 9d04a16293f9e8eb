import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { useWasmBackend } from '../helpers/backend';
import { MemorySink } from '../helpers/memorySink';
import { buildExperiment } from '../../src/core/experiment';
import { train, disposeExperiment } from '../../src/core/train';
import type { Checkpoint } from '../../src/core/sink';
import type { ResolvedSpec } from '../../src/core/spec/types';
import { gaussianMeanPosterior, linearRegressionPosterior, symmetricKlDiagonal } from '../../src/core/posterior/exact';
import { wasserstein2 } from '../../src/core/posterior/metrics';
import { ParametricFunctionModel } from '../../src/core/posterior/models/parametricFunction';
import { sampleRows } from '../../src/shared/sampleMatrix';
import {
  openPosteriorPanelModel,
  posteriorForData,
  referenceForData,
  simulatedExample,
  type PanelData,
  type PosteriorPanelModel,
} from '../../src/core/posterior/panelData';

const baseSpec: ResolvedSpec = {
  formatVersion: 1,
  kind: 'train',
  name: 'panel-posterior',
  seed: 0,
  task: { name: 'posterior-gaussian-mean', dim: 2, contextMin: 8, contextMax: 16, heldOut: 10 },
  model: { name: 'amortized-posterior', encoder: 'deepsets', family: 'gaussian', dim: 32, layers: 1, heads: 2, feedForward: 32, flowBlocks: 2, flowHidden: 16 },
  objective: { name: 'forward-kl' },
  training: { steps: 300, batchSize: 32, learningRate: 3e-3, optimizer: 'adam', logEvery: 100, evalEvery: 300, evalBatches: 1, checkpointEvery: 300, keepCheckpoints: 1 },
};

/** The freshly initialised weights of a spec, as a checkpoint (enough to test shapes and the exact side). */
function untrainedCheckpoint(spec: ResolvedSpec): Checkpoint {
  const experiment = buildExperiment(spec);
  const weights = experiment.model.parameters.map(({ name, variable }) => ({ name, tensor: tf.clone(variable) }));
  disposeExperiment(experiment);
  return { step: 0, weights, optimizer: [] };
}

function withPanel<T>(spec: ResolvedSpec, checkpoint: Checkpoint, body: (panel: PosteriorPanelModel) => T): T {
  const panel = openPosteriorPanelModel(spec, checkpoint);
  try {
    return body(panel);
  } finally {
    panel.dispose();
  }
}

const disposeCheckpoint = (c: Checkpoint) => tf.dispose([...c.weights, ...c.optimizer].map((t) => t.tensor));

test('Gaussian mean: the exact posterior is exact.ts\'s, the network follows an edit in the same direction, shapes and seeding hold', async () => {
  await useWasmBackend();
  const sink = new MemorySink();
  await train({ spec: baseSpec, sink, shouldStop: () => false });
  const checkpoint = sink.checkpoints.get(300)!;
  const before = tf.memory().numTensors;
  withPanel(baseSpec, checkpoint, (panel) => {
    const example = simulatedExample(panel, 3);
    assert.equal(example.data.x.length, 8, 'as many points as the smallest training set');
    assert.equal(example.data.y, undefined, 'a density model has no targets');
    assert.deepEqual(simulatedExample(panel, 3).data, example.data, 'same index, same data set');
    assert.notDeepEqual(simulatedExample(panel, 4).data, example.data);
    assert.deepEqual(example.task.thetaNames, ['μ1', 'μ2']);
    assert.equal(example.task.hasExact, true);

    const data = example.data;
    const result = posteriorForData(panel, data, { samples: 500 });
    assert.equal(result.points, 8);
    assert.equal(result.samples.count, 500);
    assert.equal(result.samples.dim, 2);
    assert.ok(result.samples.values.every(Number.isFinite));
    const exact = gaussianMeanPosterior(data.x.flat(), data.x.length, 2);
    assert.ok(result.exact, 'GM has an exact posterior');
    result.exact.mean.forEach((m, i) => assert.equal(m, exact.mean[i]));
    assert.deepEqual(result.exact.covariance.flat(), Array.from(exact.covariance));
    assert.equal(result.exact.samples.count, 500);
    const exactSd = Math.sqrt(exact.covariance[0]);
    // 500 exact samples: their mean is within 4 standard errors of the exact mean.
    const exactSampleMean = [0, 1].map((f) => sampleRows(result.exact!.samples).reduce((s, v) => s + v[f], 0) / 500);
    exactSampleMean.forEach((m, f) => assert.ok(Math.abs(m - exact.mean[f]) < (4 * exactSd) / Math.sqrt(500), `exact sample mean ${m}`));
    assert.ok(result.network.gaussian, 'the Gaussian family reports its own moments');
    assert.equal(result.exact.symmetricKlPerDim, symmetricKlDiagonal(result.network.gaussian.mean, result.network.gaussian.variance, exact) / 2);
    result.network.mean.forEach((m, f) => assert.ok(Math.abs(m - exact.mean[f]) < exactSd, `network mean[${f}] ${m} vs exact ${exact.mean[f]}`));
    assert.deepEqual(posteriorForData(panel, data, { samples: 500 }).samples, result.samples, 'same seed, same samples');
    assert.equal(result.band, undefined);
    assert.equal(result.field, undefined);
    assert.deepEqual(result.warnings, []);

    // Add a point far up and right: both posteriors move up and right.
    const edited: PanelData = { x: [...data.x, [4, 4]] };
    const after = posteriorForData(panel, edited, { samples: 500 });
    for (const f of [0, 1]) {
      assert.ok(after.exact!.mean[f] > result.exact.mean[f], `exact mean[${f}] moves towards the new point`);
      assert.ok(after.network.gaussian!.mean[f] > result.network.gaussian.mean[f], `network mean[${f}] moves towards the new point`);
    }

    const few = posteriorForData(panel, { x: data.x.slice(0, 2) }, { samples: 10 });
    assert.match(few.warnings.join(' '), /trained on data sets of 8–16 points; this one has 2/);
    const none = posteriorForData(panel, { x: [] }, { samples: 10 });
    assert.equal(none.points, 0);
    assert.deepEqual(none.exact!.mean, [0, 0], 'no data: the exact posterior is the prior');
    assert.throws(() => posteriorForData(panel, data, { samples: 0 }), /samples must be an integer/);
    assert.throws(() => posteriorForData(panel, { x: [[1, 2, 3]] }, { samples: 5 }), /x\[0\] must be an array of 2 finite numbers/);

    // One forward pass on a small data set, as the panel asks after each edit.
    const times = Array.from({ length: 5 }, () => posteriorForData(panel, data, { samples: 500 }).timing);
    const best = Math.min(...times.map((t) => t.totalMs));
    console.log(`posteriorForData (deepsets, 8 points, 500 samples, wasm): best of 5 ${best.toFixed(1)} ms total, network ${Math.min(...times.map((t) => t.networkMs)).toFixed(1)} ms`);
    assert.ok(best < 50, `an edit must update in well under 50 ms, took ${best} ms`);
  });
  assert.equal(tf.memory().numTensors, before, 'nothing left behind');
  for (const c of sink.checkpoints.values()) disposeCheckpoint(c);
});

test('linear regression: the predictive band is ordered and the exact band is the closed form of f = w x + b', async () => {
  await useWasmBackend();
  const spec: ResolvedSpec = { ...baseSpec, task: { name: 'posterior-linear-regression', dim: 1, contextMin: 8, contextMax: 16, heldOut: 10 } };
  const checkpoint = untrainedCheckpoint(spec);
  const before = tf.memory().numTensors;
  withPanel(spec, checkpoint, (panel) => {
    const example = simulatedExample(panel, 0);
    assert.equal(example.task.plot, 'regression');
    assert.deepEqual(example.task.thetaNames, ['w1', 'b']);
    assert.equal(example.data.y?.length, 8);
    const view = { x: [-3, 3] as [number, number], y: [-4, 4] as [number, number] };
    const result = posteriorForData(panel, example.data, { samples: 300, view });
    const band = result.band!;
    assert.ok(band, '1-D regression has a band');
    assert.equal(band.x.length, 80);
    assert.equal(band.x[0], -3);
    assert.equal(band.x[79], 3);
    for (const b of [band.network, band.exact!]) {
      assert.equal(b.mean.length, 80);
      b.mean.forEach((m, g) => assert.ok(b.lower[g] <= m && m <= b.upper[g], `band ordered at ${g}: ${b.lower[g]} <= ${m} <= ${b.upper[g]}`));
    }
    // The network's band holds the f values of its own samples: check one grid point directly.
    const g = 40;
    const fs = sampleRows(result.samples).slice(0, 200).map(([w, b]) => w * band.x[g] + b);
    const mean = fs.reduce((s, v) => s + v, 0) / fs.length;
    assert.ok(Math.abs(mean - band.network.mean[g]) < 1e-4, `band mean ${band.network.mean[g]} vs samples ${mean}`);
    const exact = linearRegressionPosterior(example.data.x.flat(), example.data.y!, 8, 1, 0.25);
    const x = band.x[g];
    assert.ok(Math.abs(band.exact!.mean[g] - (exact.mean[0] * x + exact.mean[1])) < 1e-12);
    const sd = Math.sqrt(exact.covariance[0] * x * x + 2 * exact.covariance[1] * x + exact.covariance[3]);
    assert.ok(Math.abs(band.exact!.upper[g] - band.exact!.mean[g] - 1.6448536 * sd) < 1e-6);
    assert.deepEqual(result.exact!.mean, Array.from(exact.mean));
    const far = posteriorForData(panel, { x: [[5]], y: [0] }, { samples: 5 });
    assert.match(far.warnings.join(' '), /1 input value beyond ±4/);
  });
  assert.equal(tf.memory().numTensors, before, 'nothing left behind');
  disposeCheckpoint(checkpoint);
});

test('linear classification: a probability field over the view, summing to one per cell; no exact posterior', async () => {
  await useWasmBackend();
  const spec: ResolvedSpec = { ...baseSpec, task: { name: 'posterior-linear-classification', dim: 2, classes: 3, contextMin: 8, contextMax: 16, heldOut: 10 } };
  const checkpoint = untrainedCheckpoint(spec);
  withPanel(spec, checkpoint, (panel) => {
    const example = simulatedExample(panel, 1);
    assert.equal(example.task.plot, 'classification');
    assert.equal(example.task.thetaNames.length, 9);
    assert.ok(example.data.y!.every((c) => Number.isInteger(c) && c >= 0 && c < 3));
    const result = posteriorForData(panel, example.data, { samples: 100 });
    assert.equal(result.exact, undefined);
    const field = result.field!;
    assert.equal(field.classes, 3);
    assert.equal(field.probabilities.length, field.xs.length * field.ys.length * 3);
    for (let cell = 0; cell < field.xs.length * field.ys.length; cell++) {
      const sum = field.probabilities[cell * 3] + field.probabilities[cell * 3 + 1] + field.probabilities[cell * 3 + 2];
      assert.ok(Math.abs(sum - 1) < 1e-4, `cell ${cell} sums to ${sum}`);
    }
    // One cell against the simulator's own forward (ParametricFunctionModel.evaluate): mean over the 32 samples used of softmax(f / 0.1).
    const model = panel.task.model as ParametricFunctionModel;
    const cell = 17 * field.xs.length + 5;
    const used = sampleRows(result.samples).slice(0, 32);
    const expected = [0, 0, 0];
    for (const theta of used) {
      const logits = model.evaluate(theta, [field.xs[5], field.ys[17]]).map((v) => v / 0.1);
      const top = Math.max(...logits);
      const total = logits.reduce((s, v) => s + Math.exp(v - top), 0);
      logits.forEach((v, c) => (expected[c] += Math.exp(v - top) / total / used.length));
    }
    expected.forEach((p, c) => assert.ok(Math.abs(field.probabilities[cell * 3 + c] - p) < 1e-9, `class ${c}: ${field.probabilities[cell * 3 + c]} vs ${p}`));
  });
  disposeCheckpoint(checkpoint);
});

test('nonlinear regression: the band is the mean and quantiles of the network f(x; theta) over samples', async () => {
  await useWasmBackend();
  const spec: ResolvedSpec = { ...baseSpec, task: { name: 'posterior-nonlinear-regression', dim: 1, hidden: 8, layers: 2, activation: 'tanh', contextMin: 8, contextMax: 16, heldOut: 10 } };
  const checkpoint = untrainedCheckpoint(spec);
  withPanel(spec, checkpoint, (panel) => {
    const example = simulatedExample(panel, 2);
    const result = posteriorForData(panel, example.data, { samples: 300 });
    assert.equal(result.exact, undefined);
    const band = result.band!;
    const model = panel.task.model as ParametricFunctionModel;
    for (const g of [0, 33, 79]) {
      const fs = sampleRows(result.samples).slice(0, 200).map((theta) => model.evaluate(theta, [band.x[g]])[0]).sort((a, b) => a - b);
      const mean = fs.reduce((s, v) => s + v, 0) / fs.length;
      assert.ok(Math.abs(mean - band.network.mean[g]) < 1e-9, `mean at ${g}`);
      assert.ok(band.network.lower[g] >= fs[9] && band.network.lower[g] <= fs[10], `5% quantile at ${g} lies between the 10th and 11th of 200 sorted values`);
      assert.ok(band.network.upper[g] >= fs[189] && band.network.upper[g] <= fs[190], `95% quantile at ${g}`);
    }
  });
  disposeCheckpoint(checkpoint);
});

test('a run that is not a posterior run is refused with a message that says so', async () => {
  await useWasmBackend();
  const spec: ResolvedSpec = {
    ...baseSpec,
    task: { name: 'contextual-retrieval', seqLen: 10, searchFeatures: 2, retrievalFeatures: 4, split: 'ood', coefficients: 'random' },
    model: { name: 'multi-head-attention', dim: 16, heads: 2, concat: true },
    objective: { name: 'l1' },
  };
  assert.throws(() => openPosteriorPanelModel(spec, { step: 0, weights: [], optimizer: [] }), /is not a posterior run/);
});

test('the HMC reference of the panel: compared with the very samples the panel shows, from the same seed', async () => {
  await useWasmBackend();
  const spec: ResolvedSpec = { ...baseSpec, task: { name: 'posterior-linear-classification', dim: 2, classes: 2, contextMin: 8, contextMax: 16, heldOut: 10 } };
  const checkpoint = untrainedCheckpoint(spec);
  const before = tf.memory().numTensors;
  withPanel(spec, checkpoint, (panel) => {
    const example = simulatedExample(panel, 2);
    const shown = posteriorForData(panel, example.data, { samples: 50 });
    const reference = referenceForData(panel, example.data, { samples: 50 });
    assert.equal(reference.method, 'hmc');
    assert.equal(reference.samples.length, reference.settings.chains * reference.settings.samples);
    assert.equal(reference.samples[0].length, 6, 'theta of a 2-class, 2-D linear classifier');
    // W2 of the shown samples against the reference, computed independently of the session.
    const again = wasserstein2(sampleRows(shown.samples), reference.samples);
    assert.ok(Math.abs(again.distance - reference.distance.distance) < 1e-9, `${again.distance} vs ${reference.distance.distance}`);
    assert.throws(() => referenceForData(panel, example.data, { samples: 1 }), /samples must be an integer in 2\.\./);
  });
  assert.equal(tf.memory().numTensors, before, 'no tensors leak');
  disposeCheckpoint(checkpoint);
});

test('the panel warns when its posterior predictive check says the data look unlike the simulator', async () => {
  await useWasmBackend();
  const spec: ResolvedSpec = { ...baseSpec, task: { name: 'posterior-linear-regression', dim: 1, contextMin: 8, contextMax: 16, heldOut: 10 } };
  const checkpoint = untrainedCheckpoint(spec);
  withPanel(spec, checkpoint, (panel) => {
    // A zig-zag of amplitude 4 through 12 inputs: no line with noise sd 0.5 simulates that.
    const x = Array.from({ length: 12 }, (_, i) => [-2 + (4 * i) / 11]);
    const zigzag = posteriorForData(panel, { x, y: x.map((_, i) => (i % 2 ? 4 : -4)) }, { samples: 300 });
    assert.ok(zigzag.predictiveCheck && zigzag.predictiveCheck.pValue < 0.01, `p = ${zigzag.predictiveCheck?.pValue}`);
    assert.ok(zigzag.warnings.some((w) => /looks unlike the training simulator: posterior predictive check p = /.test(w)), zigzag.warnings.join(' | '));
    const empty = posteriorForData(panel, { x: [], y: [] }, { samples: 100 });
    assert.equal(empty.predictiveCheck, undefined, 'nothing to check on an empty data set');
  });
  disposeCheckpoint(checkpoint);
});
