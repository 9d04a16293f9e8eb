import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { useWasmBackend } from '../helpers/backend';
import { createRng } from '../../src/core/rng';
import { FlowFamily, GaussianFamily } from '../../src/core/posterior/families';

const close = (actual: number, expected: number, tolerance: number, what: string) =>
  assert.ok(Math.abs(actual - expected) <= tolerance, `${what}: ${actual} vs ${expected} (tolerance ${tolerance})`);

/** A flow whose every parameter is random (so no block is the identity), small enough to keep the mass inside the test grids. */
function randomFlow(dim: number, seed: number): FlowFamily {
  const flow = new FlowFamily('flow', dim, { blocks: 3, hidden: 16 }, createRng(seed, 'flow'));
  const rng = createRng(seed, 'flow-weights');
  for (const { variable } of flow.parameters()) {
    const values = Array.from({ length: variable.size }, () => 0.15 * rng.normal());
    tf.tidy(() => variable.assign(tf.tensor(values, variable.shape)));
  }
  return flow;
}

const condition = () => tf.tensor2d([[0.3, -0.5, Math.log(0.8), Math.log(1.5)]]);

test('flow: log-density equals log N(z) - log|det J| with J the numerical Jacobian of the sampling map', async () => {
  await useWasmBackend();
  const flow = randomFlow(2, 1);
  const c = condition();
  const map = (z: number[]) =>
    tf.tidy(() => Array.from(flow.transform(c, tf.tensor3d([[z]])).theta.dataSync()));
  const rng = createRng(2, 'points');
  for (let trial = 0; trial < 5; trial++) {
    const z = [rng.normal(), rng.normal()];
    // Central differences: column j of J is d theta / d z_j.
    const h = 1e-3;
    const columns = [0, 1].map((j) => {
      const plus = map(z.map((v, i) => (i === j ? v + h : v)));
      const minus = map(z.map((v, i) => (i === j ? v - h : v)));
      return plus.map((p, i) => (p - minus[i]) / (2 * h));
    });
    const logDetNumerical = Math.log(Math.abs(columns[0][0] * columns[1][1] - columns[1][0] * columns[0][1]));
    const logNormalZ = -0.5 * (z[0] ** 2 + z[1] ** 2) - Math.log(2 * Math.PI);
    const theta = map(z);
    const logProb = tf.tidy(() => flow.logProb(c, tf.tensor3d([[theta]])).dataSync()[0]);
    close(logProb, logNormalZ - logDetNumerical, 2e-3, `log q at trial ${trial}`);
    const sampled = tf.tidy(() => flow.sample(c, tf.tensor3d([[z]])).logProb.dataSync()[0]);
    close(sampled, logProb, 1e-4, 'sample() reports the same log q');
    const back = tf.tidy(() => Array.from(flow.inverse(c, tf.tensor3d([[theta]])).z.dataSync()));
    back.forEach((v, i) => close(v, z[i], 1e-4, `inverse recovers z[${i}]`));
  }
  tf.dispose([c, ...flow.parameters().map((p) => p.variable)]);
});

test('flow: the density integrates to 1 over a grid (2-D)', async () => {
  await useWasmBackend();
  const flow = randomFlow(2, 3);
  const c = condition();
  const step = 0.05;
  const points: number[][] = [];
  for (let a = -9; a <= 9; a += step) for (let b = -9; b <= 9; b += step) points.push([a, b]);
  const mass = tf.tidy(() => tf.sum(tf.exp(flow.logProb(c, tf.tensor3d([points])))).dataSync()[0]) * step * step;
  close(mass, 1, 0.01, 'total probability');
  tf.dispose([c, ...flow.parameters().map((p) => p.variable)]);
});

test('an untrained flow is the Gaussian family; the Gaussian family has the closed-form density', async () => {
  await useWasmBackend();
  const flow = new FlowFamily('flow', 2, { blocks: 4, hidden: 8 }, createRng(4, 'flow'));
  const gaussian = new GaussianFamily(2);
  const c = condition();
  const theta = tf.tensor3d([[[0.1, 0.2], [-1, 2], [3, -0.5]]]);
  const flowLogProb = tf.tidy(() => Array.from(flow.logProb(c, theta).dataSync()));
  const gaussianLogProb = tf.tidy(() => Array.from(gaussian.logProb(c, theta).dataSync()));
  const [m0, m1, v0, v1] = [0.3, -0.5, 0.8, 1.5];
  const expected = (theta.arraySync() as number[][][])[0].map(
    ([a, b]) => -0.5 * ((a - m0) ** 2 / v0 + (b - m1) ** 2 / v1 + Math.log(v0 * v1)) - Math.log(2 * Math.PI),
  );
  gaussianLogProb.forEach((v, i) => close(v, expected[i], 1e-4, `gaussian #${i}`));
  flowLogProb.forEach((v, i) => close(v, expected[i], 1e-4, `flow #${i}`));
  const noise = tf.tensor3d([[[0.5, -1]]]);
  const { theta: sampled, logProb } = gaussian.sample(c, noise);
  close(tf.tidy(() => gaussian.logProb(c, sampled).dataSync()[0]), logProb.dataSync()[0], 1e-5, 'sample log q');
  tf.dispose([c, theta, noise, sampled, logProb, ...flow.parameters().map((p) => p.variable)]);
});

test('a 1-D flow works (the coupling depends on the condition only)', async () => {
  await useWasmBackend();
  const flow = randomFlow(1, 5);
  const c = tf.tensor2d([[0.2, Math.log(0.5)]]);
  const step = 0.01;
  const grid = Array.from({ length: 2001 }, (_, i) => [-10 + i * step]);
  const mass = tf.tidy(() => tf.sum(tf.exp(flow.logProb(c, tf.tensor3d([grid])))).dataSync()[0]) * step;
  close(mass, 1, 0.01, 'total probability');
  tf.dispose([c, ...flow.parameters().map((p) => p.variable)]);
});
