// The Sampler panel's answers on a zero-initialised (untrained) 25GMM sampler: the drift is 0, so
// the samples are Brownian motion from x0 = 0, N(0, tScale I) at T; the trajectories start at 0
// and end at the samples; the same seed gives the same samples; samples per mode count what lies
// within the rule's radius; the landscape is the mixture's log-density; bad parameters refused.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { useWasmBackend } from '../helpers/backend';
import '../../src/core/labs';
import { buildExperiment } from '../../src/core/experiment';
import type { InferenceSession } from '../../src/core/inference';
import type { InspectionSession } from '../../src/core/inspection';
import type { Checkpoint } from '../../src/core/sink';
import type { ResolvedSpec } from '../../src/core/spec/types';
import { disposeExperiment } from '../../src/core/train';
import { samplerLandscapeAnswer, samplerSamplesAnswer, samplerTargetAnswer, SamplerPanelInputError } from '../../src/core/sampler/panelData';

const T_SCALE = 5;
const STEPS = 10;
const baseSpec: ResolvedSpec = {
  formatVersion: 1,
  kind: 'train',
  name: 'panel-sampler',
  seed: 0,
  task: { name: 'sampler-gmm25', modeRadius: 1.5, modeShare: 0.01 },
  model: { name: 'diffusion-sampler', steps: STEPS, tScale: T_SCALE, hidden: 16, harmonics: 8, langevin: false },
  objective: {
    name: 'trajectory-balance', exploration: 0, explorationDecaySteps: 5000, logZLearningRate: 0.1, evalSamples: 100,
    localSearch: false, localSearchEvery: 100, localSearchSteps: 60, localSearchBurnIn: 20, localSearchStepSize: 0.001, targetAcceptance: 0.574, bufferSize: 1000, rankWeight: 0.01,
  },
  training: { steps: 100, batchSize: 32, learningRate: 1e-3, optimizer: 'adam', logEvery: 10, evalEvery: 100, evalBatches: 1, checkpointEvery: 100, keepCheckpoints: 1 },
};

/** The freshly initialised weights as a step-0 checkpoint, served by a session at step 0. */
function untrainedSession(spec: ResolvedSpec = baseSpec): { session: InspectionSession; dispose(): void } {
  const experiment = buildExperiment(spec);
  const weights = experiment.model.parameters.map(({ name, variable }) => ({ name, tensor: tf.clone(variable) }));
  disposeExperiment(experiment);
  const kept = new Map<string, { value: unknown; dispose: (value: never) => void }>();
  const session: InspectionSession = {
    spec,
    source: { steps: () => [0], load: async () => ({ step: 0, weights: weights.map(({ name, tensor }) => ({ name, tensor: tf.clone(tensor) })), optimizer: [] }) satisfies Checkpoint },
    inference: { step: 0 } as InferenceSession,
    async atStep<T>(key: string, build: () => Promise<T>, dispose: (value: T) => void): Promise<T> {
      if (!kept.has(key)) kept.set(key, { value: await build(), dispose: dispose as (value: never) => void });
      return kept.get(key)!.value as T;
    },
  };
  return {
    session,
    dispose: () => {
      for (const { value, dispose } of kept.values()) dispose(value as never);
      tf.dispose(weights.map((w) => w.tensor));
    },
  };
}

test('an untrained sampler: Brownian samples N(0, tScale I), paths from 0 to the samples, seeded, counted per mode', async () => {
  await useWasmBackend();
  const { session, dispose } = untrainedSession();
  try {
    const target = await samplerTargetAnswer(session);
    assert.equal(target.dimension, 2);
    assert.deepEqual(target.coordinates, ['x1', 'x2']);
    assert.equal(target.mixture?.means.length, 25);
    assert.deepEqual(target.logZ, { known: true, value: 0 });

    const n = 2000;
    const result = await samplerSamplesAnswer(session, { n, seed: 7, trajectories: 5 });
    assert.equal(result.step, 0);
    assert.equal(result.steps, STEPS);
    assert.equal(result.samples.count, n);
    assert.equal(result.samples.dim, 2);
    assert.equal(result.logWeights.length, n);
    assert.ok(result.samples.values.every(Number.isFinite) && result.logWeights.every(Number.isFinite));
    // Zero drift: x_T is the sum of T Gaussian steps of variance tScale / T per coordinate.
    for (const j of [0, 1]) {
      let mean = 0;
      let square = 0;
      for (let i = 0; i < n; i++) {
        mean += result.samples.values[i * 2 + j] / n;
        square += result.samples.values[i * 2 + j] ** 2 / n;
      }
      const variance = square - mean ** 2;
      // Standard errors at n = 2000: 0.05 for the mean, 0.16 for the variance; 5 of them allowed.
      assert.ok(Math.abs(mean) < 0.25, `coordinate ${j}: mean ${mean}, expected 0`);
      assert.ok(Math.abs(variance - T_SCALE) < 0.8, `coordinate ${j}: variance ${variance}, expected ${T_SCALE}`);
    }

    const paths = result.trajectories!;
    assert.equal(paths.count, 5 * (STEPS + 1), 'T + 1 points per path');
    for (let k = 0; k < 5; k++) {
      const start = paths.values.subarray(k * (STEPS + 1) * 2, k * (STEPS + 1) * 2 + 2);
      const end = paths.values.subarray((k * (STEPS + 1) + STEPS) * 2, (k * (STEPS + 1) + STEPS) * 2 + 2);
      assert.deepEqual(Array.from(start), [0, 0], `path ${k} starts at x0 = 0`);
      assert.deepEqual(Array.from(end), Array.from(result.samples.values.subarray(k * 2, k * 2 + 2)), `path ${k} ends at sample ${k}`);
    }

    const again = await samplerSamplesAnswer(session, { n, seed: 7 });
    assert.deepEqual(again.samples.values, result.samples.values, 'same seed, same samples');
    assert.equal(again.trajectories, undefined, 'no paths unless asked for');
    const other = await samplerSamplesAnswer(session, { n, seed: 8 });
    assert.notDeepEqual(other.samples.values, result.samples.values);

    const perMode = result.perMode!;
    assert.equal(perMode.counts.length, 25);
    const expected = target.mixture!.means.map(([mx, my]) => {
      let count = 0;
      for (let i = 0; i < n; i++) if (Math.hypot(result.samples.values[i * 2] - mx, result.samples.values[i * 2 + 1] - my) <= perMode.rule.radius) count++;
      return count;
    });
    assert.deepEqual(perMode.counts, expected, 'each count is the samples within the radius of that mean');
    assert.equal(perMode.covered, expected.filter((c) => c >= perMode.rule.share * n).length);
    assert.ok(perMode.covered < 25, `Brownian samples (sd ${Math.sqrt(T_SCALE).toFixed(2)}) cannot reach the outer modes at ±10: ${perMode.covered} covered`);
  } finally {
    dispose();
  }
});

test('the landscape is the mixture\'s log-density on the grid; bad requests are refused by name', async () => {
  await useWasmBackend();
  const { session, dispose } = untrainedSession();
  try {
    const landscape = await samplerLandscapeAnswer(session, { dims: [0, 1], grid: 5, range: [[-10, 10], [-5, 5]] });
    assert.deepEqual(landscape.slice, [0, 0]);
    const target = await samplerTargetAnswer(session);
    const { means, std } = target.mixture!;
    const logMixture = (x: number, y: number) => {
      const terms = means.map(([mx, my]) => -((x - mx) ** 2 + (y - my) ** 2) / (2 * std * std) - Math.log(2 * Math.PI * std * std) - Math.log(means.length));
      const top = Math.max(...terms);
      return top + Math.log(terms.reduce((sum, t) => sum + Math.exp(t - top), 0));
    };
    for (const [a, b] of [[0, 0], [2, 2], [4, 1], [1, 3]]) {
      const [x, y] = [-10 + 5 * a, -5 + 2.5 * b];
      const got = landscape.logDensity[b * 5 + a];
      assert.ok(Math.abs(got - logMixture(x, y)) < 1e-3 * Math.max(1, Math.abs(logMixture(x, y))), `(${x}, ${y}): ${got} vs ${logMixture(x, y)}`);
    }
    const byDefault = await samplerLandscapeAnswer(session, { dims: [1, 0], grid: 3 });
    assert.deepEqual(byDefault.range, [target.range[1], target.range[0]], 'the target\'s box by default');

    await assert.rejects(samplerSamplesAnswer(session, { n: 0 }), (error: Error) => error instanceof SamplerPanelInputError && /^samplerSamples: n must be/.test(error.message));
    await assert.rejects(samplerLandscapeAnswer(session, { dims: [0, 2], grid: 8 }), /samplerLandscape: dims must be two different coordinate indices in 0\.\.1, got \[0,2\]/);
  } finally {
    dispose();
  }
});

test('with local search on, the samples come with the states MALA accepts from them (the run\'s settings), seeded; none with it off', async () => {
  await useWasmBackend();
  const spec: ResolvedSpec = { ...baseSpec, objective: { ...baseSpec.objective, localSearch: true } };
  const { session, dispose } = untrainedSession(spec);
  try {
    const result = await samplerSamplesAnswer(session, { n: 300, seed: 1 });
    const buffer = result.buffer!;
    assert.ok(buffer, 'local search states');
    assert.equal(buffer.dim, 2);
    // 100 chains x (60 - 20 - 1) steps after burn-in, thinned to at most 3000.
    assert.ok(buffer.count > 100 && buffer.count <= 3000, `${buffer.count} states`);
    assert.ok(buffer.values.every(Number.isFinite));
    // MALA moves Brownian samples towards the modes: closer to their nearest mean on average.
    const means = (await samplerTargetAnswer(session)).mixture!.means;
    const nearest = (values: Float32Array, count: number) => {
      let total = 0;
      for (let i = 0; i < count; i++) total += Math.min(...means.map(([a, b]) => Math.hypot(values[i * 2] - a, values[i * 2 + 1] - b)));
      return total / count;
    };
    assert.ok(nearest(buffer.values, buffer.count) < nearest(result.samples.values, 100), 'the search moves towards the modes');
    const again = await samplerSamplesAnswer(session, { n: 300, seed: 1 });
    assert.deepEqual(again.buffer!.values, buffer.values, 'same seed, same search');
  } finally {
    dispose();
  }
  const off = untrainedSession();
  try {
    assert.equal((await samplerSamplesAnswer(off.session, { n: 300, seed: 1 })).buffer, undefined, 'local search off: no states');
  } finally {
    off.dispose();
  }
});

test('an edited mixture (a mode dragged, its weight changed): the landscape is the edited mixture\'s, computed in the session; bad edits refused by name', async () => {
  await useWasmBackend();
  const { session, dispose } = untrainedSession();
  try {
    const target = await samplerTargetAnswer(session);
    const { means, weights, std } = target.mixture!;
    const moved = means.map((mean) => [...mean]);
    const centre = moved.findIndex(([x, y]) => x === 0 && y === 0);
    moved[centre] = [2.5, 2.5];
    const reweighted = weights.map((w, k) => (k === centre ? 0.5 : w));
    const edit = { kind: 'mixture' as const, means: moved, weights: reweighted };
    const grid = 11;
    const range: [[number, number], [number, number]] = [[-2.5, 2.5], [-2.5, 2.5]];
    const edited = await samplerLandscapeAnswer(session, { dims: [0, 1], grid, range, edit });
    const logMixture = (x: number, y: number) =>
      Math.log(moved.reduce((sum, [mx, my], k) => sum + (reweighted[k] * Math.exp(-((x - mx) ** 2 + (y - my) ** 2) / (2 * std * std))) / (2 * Math.PI * std * std), 0));
    for (const [a, b] of [[0, 0], [5, 5], [10, 10], [10, 0], [3, 8]]) {
      const [x, y] = [-2.5 + 0.5 * a, -2.5 + 0.5 * b];
      const got = edited.logDensity[b * grid + a];
      assert.ok(Math.abs(got - logMixture(x, y)) < 1e-3 * Math.max(1, Math.abs(logMixture(x, y))), `(${x}, ${y}): ${got} vs ${logMixture(x, y)}`);
    }
    // The top of the edited landscape is where the mode was dragged; the run's own has it at (0, 0).
    const top = (values: Float32Array) => values.indexOf(Math.max(...values));
    assert.equal(top(edited.logDensity), 10 * grid + 10, 'maximum at (2.5, 2.5)');
    assert.equal(top((await samplerLandscapeAnswer(session, { dims: [0, 1], grid, range })).logDensity), 5 * grid + 5, 'without the edit: at (0, 0)');

    // Samples per mode at the edited modes: the same samples, counted around (2.5, 2.5) for the dragged one.
    const plain = await samplerSamplesAnswer(session, { n: 500, seed: 2 });
    const counted = await samplerSamplesAnswer(session, { n: 500, seed: 2, edit });
    assert.deepEqual(counted.samples.values, plain.samples.values);
    const within = (cx: number, cy: number) => {
      let count = 0;
      for (let i = 0; i < 500; i++) if (Math.hypot(plain.samples.values[2 * i] - cx, plain.samples.values[2 * i + 1] - cy) <= 1.5) count++;
      return count;
    };
    assert.equal(plain.perMode!.counts[centre], within(0, 0));
    assert.equal(counted.perMode!.counts[centre], within(2.5, 2.5));
    assert.notEqual(within(0, 0), within(2.5, 2.5));
    await assert.rejects(samplerSamplesAnswer(session, { n: 5, edit: { kind: 'mixture', means: [], weights: [] } }), /^Error: samplerSamples: edit\.means must be 25 means|samplerSamples: edit\.means must be 25 means/);

    const refused = async (bad: unknown, message: RegExp) =>
      assert.rejects(samplerLandscapeAnswer(session, { dims: [0, 1], grid: 4, edit: bad as typeof edit }), (error: Error) => error instanceof SamplerPanelInputError && message.test(error.message));
    await refused({ ...edit, means: moved.slice(1) }, /^samplerLandscape: edit\.means must be 25 means \(one per component of the target\), got 24/);
    await refused({ ...edit, means: moved.map((m, k) => (k === 3 ? [m[0], Number.NaN] : m)) }, /^samplerLandscape: edit\.means\[3\] must be 2 finite numbers/);
    await refused({ ...edit, means: moved.map((m, k) => (k === 4 ? [1, 2, 3] : m)) }, /^samplerLandscape: edit\.means\[4\] must be 2 finite numbers/);
    await refused({ ...edit, weights: reweighted.map((w, k) => (k === 2 ? 0 : w)) }, /^samplerLandscape: edit\.weights\[2\] must be a positive number/);
    await refused({ ...edit, weights: 'heavy' }, /^samplerLandscape: edit\.weights must be 25 weights/);
    await refused({ kind: 'expression', logDensity: '-x1**2' }, /^samplerLandscape: target 'gmm25' is not an expression/);
    await refused({ kind: 'drop tables' }, /^samplerLandscape: edit\.kind must be 'mixture' or 'expression'/);
  } finally {
    dispose();
  }
});

test('an edited expression target: the landscape is the new expression\'s; a malformed one is refused with the parser\'s words', async () => {
  await useWasmBackend();
  const spec: ResolvedSpec = { ...baseSpec, task: { name: 'sampler-expression', logDensity: '-(x1**2 + x2**2) / 2', coordinates: ['x1', 'x2'], range: [-4, 4] } };
  const { session, dispose } = untrainedSession(spec);
  try {
    const range: [[number, number], [number, number]] = [[-4, 4], [-4, 4]];
    const edited = await samplerLandscapeAnswer(session, { dims: [0, 1], grid: 5, range, edit: { kind: 'expression', logDensity: '-((x1 - 2)**2 + x2**2) / 2' } });
    for (const [a, b] of [[0, 0], [3, 2], [4, 1]]) {
      const [x, y] = [-4 + 2 * a, -4 + 2 * b];
      assert.ok(Math.abs(edited.logDensity[b * 5 + a] - -((x - 2) ** 2 + y ** 2) / 2) < 1e-4, `(${x}, ${y})`);
    }
    await assert.rejects(
      samplerLandscapeAnswer(session, { dims: [0, 1], grid: 4, edit: { kind: 'expression', logDensity: 'x1 ^ 2' } }),
      (error: Error) => error instanceof SamplerPanelInputError && /^samplerLandscape: edit\.logDensity: operator '\^' is not allowed/.test(error.message),
    );
    await assert.rejects(
      samplerLandscapeAnswer(session, { dims: [0, 1], grid: 4, edit: { kind: 'expression', logDensity: '3' } }),
      (error: Error) => error instanceof SamplerPanelInputError && /reads none of the coordinates/.test(error.message),
    );
    await assert.rejects(
      samplerLandscapeAnswer(session, { dims: [0, 1], grid: 4, edit: { kind: 'mixture', means: [[0, 0]], weights: [1] } }),
      /^Error: samplerLandscape: target 'expression' is not a mixture|samplerLandscape: target 'expression' is not a mixture/,
    );
  } finally {
    dispose();
  }
});
