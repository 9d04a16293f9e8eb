/**
 * The sampler lab's targets (src/core/sampler/targets.ts): log-density and its autodiff gradient
 * against a hand-written formula and central differences, normalisers by quadrature (Manywell by
 * quadrature of one double-well factor), exact samples' moments, the landscape grid's layout.
 */
import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { createRng } from '../../src/core/rng';
import {
  describeTarget,
  funnelTarget,
  gmm25Target,
  gmm40Target,
  GMM25_MEANS,
  logDensityGrid,
  MANYWELL_Z_X1,
  manywellTarget,
  type SamplerTarget,
} from '../../src/core/sampler/targets';
import { useWasmBackend } from '../helpers/backend';

before(useWasmBackend);

const rule = { modeRadius: 1.5, modeShare: 0.01 };
const logR = (target: SamplerTarget, points: number[][]) => tf.tidy(() => Array.from(target.logDensity(tf.tensor2d(points)).dataSync()));
const gradient = (target: SamplerTarget, points: number[][]) =>
  tf.tidy(() => tf.grad((x: tf.Tensor) => tf.sum(target.logDensity(x as tf.Tensor2D)))(tf.tensor2d(points)).arraySync() as number[][]);

/** Integral of exp(log R) over a 2-D box by the midpoint rule, in chunks. */
function quadrature2d(target: SamplerTarget, [a0, a1]: [number, number], [b0, b1]: [number, number], cells: number, transform = (p: number[]) => ({ point: p, jacobian: 1 })): number {
  const ha = (a1 - a0) / cells;
  const hb = (b1 - b0) / cells;
  let total = 0;
  for (let i = 0; i < cells; i++) {
    const rows: number[][] = [];
    const jacobians: number[] = [];
    for (let j = 0; j < cells; j++) {
      const { point, jacobian } = transform([a0 + (i + 0.5) * ha, b0 + (j + 0.5) * hb]);
      rows.push(point);
      jacobians.push(jacobian);
    }
    logR(target, rows).forEach((v, j) => (total += Math.exp(v) * jacobians[j]));
  }
  return total * ha * hb;
}

test('log-densities equal the formulas written out by hand', () => {
  const point = [1.3, -4.2];
  let mixture = 0;
  for (const [m0, m1] of GMM25_MEANS) mixture += Math.exp(-((point[0] - m0) ** 2 + (point[1] - m1) ** 2) / (2 * 0.3)) / (2 * Math.PI * 0.3);
  assert.ok(Math.abs(logR(gmm25Target(rule), [point])[0] - Math.log(mixture / 25)) < 1e-4);

  const v = 0.7;
  const x = [v, 0.4, -1.1];
  const funnel = -0.5 * (v * v) / 9 - 0.5 * Math.log(2 * Math.PI * 9) + [0.4, -1.1].reduce((s, xi) => s - 0.5 * Math.log(2 * Math.PI * Math.exp(v)) - (0.5 * xi * xi) / Math.exp(v), 0);
  assert.ok(Math.abs(logR(funnelTarget({ dim: 3 }), [x])[0] - funnel) < 1e-4);

  const w = [0.3, -0.8, -1.7, 2.2];
  const well = (a: number, b: number) => -(a ** 4) + 6 * a * a + 0.5 * a - 0.5 * b * b;
  assert.ok(Math.abs(logR(manywellTarget({ dim: 4 }), [w])[0] - (well(w[0], w[1]) + well(w[2], w[3]))) < 1e-4);
});

test('each target’s gradient (autodiff) matches central differences', () => {
  const cases: [SamplerTarget, number[]][] = [
    [gmm25Target(rule), [4.1, -5.6]],
    [gmm40Target({ modeRadius: 4, modeShare: 0.00625 }), [-14.2, 9.9]],
    [funnelTarget({ dim: 4 }), [0.5, 0.3, -0.9, 1.4]],
    [manywellTarget({ dim: 4 }), [1.2, -0.4, -1.5, 0.8]],
  ];
  for (const [target, point] of cases) {
    const analytic = gradient(target, [point])[0];
    const h = 1e-2;
    point.forEach((_, j) => {
      const up = [...point];
      const down = [...point];
      up[j] += h;
      down[j] -= h;
      const [fu, fd] = logR(target, [up, down]);
      const numeric = (fu - fd) / (2 * h);
      assert.ok(Math.abs(numeric - analytic[j]) <= 2e-2 * Math.max(1, Math.abs(analytic[j])), `${target.name} coordinate ${j}: autodiff ${analytic[j]}, differences ${numeric}`);
    });
  }
});

test('normalisers: the mixtures and the 2-D funnel integrate to 1 (log Z = 0) by quadrature', () => {
  const z25 = quadrature2d(gmm25Target(rule), [-15, 15], [-15, 15], 300);
  assert.ok(Math.abs(z25 - 1) < 2e-3, `25GMM: ${z25}`);
  const z40 = quadrature2d(gmm40Target({ modeRadius: 4, modeShare: 0.00625 }), [-50, 50], [-50, 50], 400);
  assert.ok(Math.abs(z40 - 1) < 2e-3, `GMM-40: ${z40}`);
  // x2 = exp(x1 / 2) u: the funnel's neck becomes a box.
  const zFunnel = quadrature2d(funnelTarget({ dim: 2 }), [-20, 20], [-10, 10], 300, ([v, u]) => ({ point: [v, Math.exp(v / 2) * u], jacobian: Math.exp(v / 2) }));
  assert.ok(Math.abs(zFunnel - 1) < 2e-3, `funnel: ${zFunnel}`);
  for (const target of [gmm25Target(rule), funnelTarget({ dim: 10 })]) assert.deepEqual(target.logZ, { known: true, value: 0 });
});

test('Manywell: one double-well factor by quadrature gives the official Z_x1, and log Z = 164.696 for 32-D', () => {
  let z = 0;
  const h = 1e-4;
  for (let x = -6; x <= 6; x += h) z += Math.exp(-(x ** 4) + 6 * x * x + 0.5 * x) * h;
  assert.ok(Math.abs(z / MANYWELL_Z_X1 - 1) < 1e-6, `Z_x1 by quadrature ${z}`);
  const { logZ } = manywellTarget({ dim: 32 });
  assert.ok(logZ.known && Math.abs(logZ.value - 164.696) < 1e-3, JSON.stringify(logZ));
});

test('exact samples have the target’s moments (seeded)', () => {
  const n = 20000;
  const moments = (samples: Float32Array, d: number, j: number) => {
    let m = 0;
    let s = 0;
    for (let i = 0; i < n; i++) m += samples[i * d + j] / n;
    for (let i = 0; i < n; i++) s += (samples[i * d + j] - m) ** 2 / n;
    return { mean: m, variance: s };
  };
  // 25GMM: mean 0, variance 50 (the grid) + 0.3 per axis.
  const gmm = moments(gmm25Target(rule).sample!(n, createRng(1)), 2, 0);
  assert.ok(Math.abs(gmm.mean) < 0.2 && Math.abs(gmm.variance - 50.3) < 1.5, JSON.stringify(gmm));
  // Manywell's x1 against the quadrature mean of its factor; x2 standard normal.
  let num = 0;
  let den = 0;
  for (let x = -4; x <= 4; x += 1e-4) {
    const p = Math.exp(-(x ** 4) + 6 * x * x + 0.5 * x);
    num += x * p;
    den += p;
  }
  const wells = manywellTarget({ dim: 4 }).sample!(n, createRng(2));
  assert.ok(Math.abs(moments(wells, 4, 0).mean - num / den) < 0.03, `x1 mean ${moments(wells, 4, 0).mean} against ${num / den}`);
  assert.ok(Math.abs(moments(wells, 4, 1).variance - 1) < 0.05);
  // Funnel: x1 ~ N(0, 9).
  assert.ok(Math.abs(moments(funnelTarget({ dim: 3 }).sample!(n, createRng(3)), 3, 0).variance - 9) < 0.4);
});

test('the landscape grid: value (a, b) at b * grid + a over the asked box, other coordinates at the slice', () => {
  const target = manywellTarget({ dim: 4 });
  const grid = logDensityGrid(target, [0, 2], 3, [[-1, 1], [0, 2]], [0, 0.5, 0, -0.5]);
  const expected = logR(target, [[1, 0.5, 2, -0.5]])[0]; // a = 2 (x1 = 1), b = 2 (x3 = 2)
  assert.ok(Math.abs(grid[2 * 3 + 2] - expected) < 1e-4);
  assert.ok(Math.abs(grid[0] - logR(target, [[-1, 0.5, 0, -0.5]])[0]) < 1e-4);
  const info = describeTarget(gmm25Target(rule));
  assert.equal(info.mixture?.means.length, 25);
  assert.deepEqual(info.modeRule, { radius: 1.5, share: 0.01 });
  assert.equal(info.hasTrueSamples, true);
});
