import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { useWasmBackend } from '../helpers/backend';
import { MemorySink } from '../helpers/memorySink';
import { train } from '../../src/core/train';
import type { Checkpoint } from '../../src/core/sink';
import type { ResolvedSpec } from '../../src/core/spec/types';
import { openPosteriorPanelModel } from '../../src/core/posterior/panelData';
import { binomialBand, calibrationForPanel, type PanelCalibration } from '../../src/core/posterior/panelCalibration';

const spec: ResolvedSpec = {
  formatVersion: 1,
  kind: 'train',
  name: 'panel-calibration',
  seed: 0,
  task: { name: 'posterior-gaussian-mean', dim: 2, contextMin: 8, contextMax: 16, heldOut: 10 },
  model: { name: 'amortized-posterior', encoder: 'deepsets', family: 'gaussian', dim: 32, layers: 1, heads: 2, feedForward: 32, flowBlocks: 2, flowHidden: 16 },
  objective: { name: 'forward-kl' },
  training: { steps: 300, batchSize: 32, learningRate: 3e-3, optimizer: 'adam', logEvery: 100, evalEvery: 300, evalBatches: 1, checkpointEvery: 300, keepCheckpoints: 1 },
};

const settings = { k: 120, l: 39, bins: 20, seed: 0 };

/** The trained network with every posterior sd divided by 4: log-variances (head bias, second half) - log 16. */
function overConfident(checkpoint: Checkpoint): Checkpoint {
  const P = 2;
  const weights = checkpoint.weights.map(({ name, tensor }) => {
    if (name !== 'head.bias') return { name, tensor: tf.clone(tensor) };
    const shift = tf.tensor1d(Array.from({ length: 2 * P }, (_, i) => (i < P ? 0 : -Math.log(16))));
    const shifted = tf.add(tensor, shift);
    shift.dispose();
    return { name, tensor: shifted };
  });
  assert.ok(checkpoint.weights.some((w) => w.name === 'head.bias'), 'the head has a bias');
  return { step: checkpoint.step, weights, optimizer: [] };
}

function calibrationAt(checkpoint: Checkpoint): PanelCalibration {
  const panel = openPosteriorPanelModel(spec, checkpoint);
  try {
    return calibrationForPanel(panel, settings);
  } finally {
    panel.dispose();
  }
}

/** Mean |observed coverage - level| over levels and dimensions. */
const coverageError = (c: PanelCalibration) =>
  c.coverage.perDimension.flat().reduce((s, v, i) => s + Math.abs(v - c.coverage.levels[i % c.coverage.levels.length]), 0) / c.coverage.perDimension.flat().length;

test('binomialBand holds at least the asked mass, each tail at most half the rest, and is the narrowest such cut', () => {
  for (const [n, p] of [[200, 1 / 20], [120, 1 / 20], [50, 0.5], [10, 0.1]] as const) {
    const pmf = Array.from({ length: n + 1 }, (_, j) => Math.exp(logChoose(n, j) + j * Math.log(p) + (n - j) * Math.log(1 - p)));
    const { low, high } = binomialBand(n, p, 0.99);
    const below = pmf.slice(0, low).reduce((a, b) => a + b, 0);
    const above = pmf.slice(high + 1).reduce((a, b) => a + b, 0);
    assert.ok(below <= 0.005 + 1e-12 && above <= 0.005 + 1e-12, `n ${n} p ${p}: tails ${below}, ${above}`);
    assert.ok(below + pmf[low] > 0.005 || low === 0, `n ${n}: low could be higher`);
    assert.ok(above + pmf[high] > 0.005 || high === n, `n ${n}: high could be lower`);
  }
});

function logChoose(n: number, k: number): number {
  let s = 0;
  for (let i = 1; i <= k; i++) s += Math.log((n - k + i) / i);
  return s;
}

test('panel calibration: a trained network is calibrated, the same network made over-confident is caught; seeded; no leaks', async () => {
  await useWasmBackend();
  const sink = new MemorySink();
  await train({ spec, sink, shouldStop: () => false });
  const trained = sink.checkpoints.get(300)!;
  const narrow = overConfident(trained);
  const before = tf.memory().numTensors;

  const good = calibrationAt(trained);
  const bad = calibrationAt(narrow);
  assert.equal(good.step, 300);
  assert.deepEqual(good.thetaNames, ['μ1', 'μ2']);
  for (const counts of good.histogram.counts) assert.equal(counts.reduce((a, b) => a + b, 0), settings.k);
  assert.equal(good.histogram.counts[0].length, settings.bins);
  assert.ok(coverageError(good) < 0.1, `trained coverage error ${coverageError(good)}`);
  assert.ok(bad.coverage.mean.every((c, i) => c < good.coverage.mean[i]), 'narrower intervals cover less at every level');
  assert.ok(coverageError(bad) > 3 * coverageError(good), `over-confident ${coverageError(bad)} vs trained ${coverageError(good)}`);
  assert.ok(bad.uniformityPValue < 1e-3, `over-confident ranks pile up at the ends (p ${bad.uniformityPValue})`);
  assert.equal(bad.verdict.evidenceAgainstUniform, true);
  assert.ok(bad.verdict.findings.every((f) => f.dispersion === 'over-confident'), JSON.stringify(bad.verdict.findings));
  assert.match(bad.verdict.text, /^The ranks are not uniform at the 1% level .*μ1: its ranks pile at both ends: over-confident/);
  assert.deepEqual(calibrationAt(trained).histogram.counts, good.histogram.counts, 'seeded: the same data sets and samples');
  assert.equal(tf.memory().numTensors, before, 'no tensor left behind');
  tf.dispose([...narrow.weights, ...trained.weights].map((t) => t.tensor));
});
