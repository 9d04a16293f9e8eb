import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {
  ContextualRetrievalTask,
  coefficientValues,
  retrievalTuples,
  splitTuples,
  taskOptionsFromSpec,
  type ContextualRetrievalOptions,
  type RetrievalTruth,
} from '../../src/core/retrieval/contextualRetrieval';
import { buildExperiment } from '../../src/core/experiment';
import { findTask } from '../../src/core/registry';
import { createRng } from '../../src/core/rng';
import { parseSpec, parseSweepSpec } from '../../src/core/spec/validate';
import { restoreWeights } from '../../src/core/optimizers';
import { evaluate } from '../../src/core/train';
import { checkpointSource } from '../../src/runs/checkpointSource';
import { readMetrics, readSpec } from '../../src/runs/reader';
import { useWasmBackend } from '../helpers/backend';

const options: ContextualRetrievalOptions = {
  seqLen: 10,
  searchFeatures: 2,
  retrievalFeatures: 4,
  split: 'ood',
  splitRule: 'truncate',
  coefficientValues: coefficientValues('random', 2, 0),
};
const withSeed = (seed: number) => new ContextualRetrievalTask({ ...options, coefficientValues: coefficientValues('random', 2, seed) });

/** The task options of a spec resolved before issue 25: no split rule, no coefficient values. */
const oldSpecTask = { seqLen: 10, searchFeatures: 2, retrievalFeatures: 4, split: 'ood', coefficients: 'random' } as const;

test('retrieval tuples enumerate all v_p^v_s combinations once', () => {
  const tuples = retrievalTuples(2, 4);
  assert.equal(tuples.length, 16);
  assert.equal(new Set(tuples.map((t) => t.join(','))).size, 16);
  assert.deepEqual(tuples[0], [0, 0]);
  assert.deepEqual(tuples[5], [1, 1]);
});

test('OOD split: disjoint, covers everything, training holds int(0.8 x count)', () => {
  for (const [vs, vp] of [[2, 4], [3, 2], [2, 3], [1, 5], [3, 4]]) {
    const tuples = retrievalTuples(vs, vp);
    const { train, test: held } = splitTuples(tuples);
    const key = (t: number[]) => t.join(',');
    assert.equal(train.length, Math.max(Math.floor(0.8 * tuples.length), Math.ceil(tuples.length / 2)), `${vs} x ${vp}`);
    assert.equal(train.length + held.length, tuples.length);
    assert.ok(held.length > 0);
    const trainKeys = new Set(train.map(key));
    assert.ok(held.every((t) => !trainKeys.has(key(t))));
  }
});

test("the held-out tuples are the paper's code's (truncated split)", () => {
  // 2 x 4: 16 tuples, int(12.8) = 12 train, 4 held out (0-based retrieval indices, search 0 first).
  assert.deepEqual(splitTuples(retrievalTuples(2, 4)).test, [[2, 1], [2, 3], [3, 1], [3, 3]]);
  // 3 x 2: 8 tuples, int(6.4) = 6 train: the odd-indexed 5 and 7 stay held out.
  assert.deepEqual(splitTuples(retrievalTuples(3, 2)).test, [[1, 0, 1], [1, 1, 1]]);
  // 2 x 3: 9 tuples, int(7.2) = 7 train: odd-indexed 5 and 7 held out.
  assert.deepEqual(splitTuples(retrievalTuples(2, 3)).test, [[1, 2], [2, 1]]);
});

test("the 'top-up' rule of older runs holds out one tuple fewer", () => {
  assert.deepEqual(splitTuples(retrievalTuples(2, 4), 'top-up').test, [[2, 3], [3, 1], [3, 3]]);
  assert.deepEqual(splitTuples(retrievalTuples(3, 2), 'top-up').test, [[1, 1, 1]]);
  assert.deepEqual(splitTuples(retrievalTuples(2, 3), 'top-up').test, [[2, 1]]);
});

test('coefficient values per option', () => {
  assert.deepEqual(coefficientValues('paper', 2, 0), [-0.71347752, -0.6062312]);
  assert.deepEqual(coefficientValues('paper', 5, 9), [-0.71347752, -0.6062312, 0.66062073, -0.61213017, -0.82631877]);
  assert.deepEqual(coefficientValues('ones', 3, 0), [1, 1, 1]);
  // Seeded U(-1, 1): the values the code before issue 25 drew (pinned from it).
  assert.deepEqual(coefficientValues('random', 2, 0), [-0.46468156669288874, -0.07998194545507431]);
  assert.deepEqual(coefficientValues('random', 2, 1), [0.1015442912466824, -0.6583836521022022]);
});

test("a new experiment resolves to the paper's task, recording the split rule and the values", () => {
  const file = (task: Record<string, unknown>, seed = 1) =>
    JSON.stringify({ formatVersion: 1, kind: 'train', name: 'x', seed, task: { name: 'contextual-retrieval', ...task }, model: { name: 'multi-head-attention' }, objective: { name: 'l1' } });
  const { spec } = parseSpec(file({}), 'x.lab.json');
  assert.deepEqual(spec?.task, {
    name: 'contextual-retrieval', seqLen: 10, searchFeatures: 2, retrievalFeatures: 4, split: 'ood',
    splitRule: 'truncate', coefficients: 'paper', coefficientValues: [-0.71347752, -0.6062312],
  });
  assert.deepEqual(parseSpec(file({ coefficients: 'random' }), 'x.lab.json').spec?.task.coefficientValues, coefficientValues('random', 2, 1));
  assert.deepEqual(parseSpec(file({ coefficients: 'ones', searchFeatures: 3 }), 'x.lab.json').spec?.task.coefficientValues, [1, 1, 1]);
  // A run's spec read again as an experiment keeps its record; a stale one (another seed) is located.
  const recorded = coefficientValues('random', 2, 1);
  assert.deepEqual(parseSpec(file({ coefficients: 'random', coefficientValues: recorded }), 'x.lab.json').problems, []);
  const stale = parseSpec(file({ coefficients: 'random', coefficientValues: recorded }, 2), 'x.lab.json');
  assert.equal(stale.spec, undefined);
  assert.equal(stale.problems[0].path, '/task/coefficientValues');
  assert.match(stale.problems[0].message, /recorded by Model Lab.*seed 2/);
});

test('sweep members record their own values, also over a base file resolved with another seed', () => {
  const base = { seed: 0, task: { name: 'contextual-retrieval', coefficients: 'random' }, model: { name: 'multi-head-attention' }, objective: { name: 'l1' } };
  const grid = { '/task/coefficients': ['random', 'ones'], '/seed': [0, 1] };
  const baseFile = JSON.stringify({ formatVersion: 1, kind: 'train', name: 'base', ...base });
  for (const sweepBase of [base, { file: 'base.lab.json' }]) {
    const text = JSON.stringify({ formatVersion: 1, kind: 'sweep', name: 'grid', base: sweepBase, grid });
    const { members, problems } = parseSweepSpec(text, 'grid.lab.json', () => baseFile);
    assert.deepEqual(problems, []);
    assert.deepEqual(members!.map((m) => m.spec.task.coefficientValues), [
      coefficientValues('random', 2, 0), coefficientValues('random', 2, 1), [1, 1], [1, 1],
    ]);
  }
});

test('an old resolved spec (no split rule, no values) builds the old task: same coefficients, split and data', async () => {
  await useWasmBackend();
  assert.deepEqual(taskOptionsFromSpec(oldSpecTask, 0), { ...options, splitRule: 'top-up' });
  // Pinned from the code before issue 25: coefficients, held-out tuples, targets of one batch.
  const pinned = [
    { seed: 0, coefficients: [-0.46468156669288874, -0.07998194545507431], targets: [1.2675795555114746, 0.1680774688720703, 0.20759405195713043, 0.13944111764431, 0.4504657983779907, 0.47929099202156067] },
    { seed: 1, coefficients: [0.1015442912466824, -0.6583836521022022], targets: [0.7407612204551697, -0.14697419106960297, 0.17831259965896606, 0.06369660794734955, 0.8107312917709351, -1.3367611169815063] },
  ];
  for (const { seed, coefficients, targets } of pinned) {
    const task = findTask('contextual-retrieval')!.create({ ...oldSpecTask }, seed) as ContextualRetrievalTask;
    assert.deepEqual(task.coefficients, coefficients);
    assert.deepEqual(task.tuples('ood'), [[2, 3], [3, 1], [3, 3]]);
    const batch = task.batch(2, 'ood', createRng('pin', 'old'));
    assert.deepEqual(Array.from(batch.targets.dataSync()).slice(0, 6), targets);
    tf.dispose([batch.inputs, batch.targets]);
  }
});

test("an old run's checkpoint evaluates to the metrics it logged (its spec.json resumes the old task)", async () => {
  await useWasmBackend();
  // Trained before issue 25 (seed 1, 4000 steps): its spec.json records neither field.
  const runDir = join(__dirname, '..', 'fixtures', 'trained-retrieval', 'multi-head-4000');
  const spec = readSpec(runDir);
  assert.equal('splitRule' in spec.task || 'coefficientValues' in spec.task, false);
  const logged = readMetrics(runDir).records.filter((r) => r.step === 4000 && 'eval/ood/l1' in r.values).at(-1)!.values;
  const experiment = buildExperiment(spec);
  const checkpoint = await checkpointSource(runDir).load(4000);
  restoreWeights(experiment.model.parameters, checkpoint.weights);
  const values = await evaluate(spec, experiment, 4000);
  for (const name of ['eval/train/l1', 'eval/ood/l1']) {
    assert.ok(Math.abs(values[name] - logged[name]) < 1e-4, `${name}: ${values[name]} against ${logged[name]} logged`);
  }
  tf.dispose([...experiment.model.parameters.map((p) => p.variable), ...[...checkpoint.weights, ...checkpoint.optimizer].map((w) => w.tensor)]);
});

test('targets recomputed independently from the raw features match the generator', async () => {
  await useWasmBackend();
  const task = withSeed(3);
  const batch = task.batch(32, 'train', createRng('targets'));
  const x = (await batch.inputs.array()) as number[][][];
  const y = (await batch.targets.array()) as number[][];
  const truth = batch.truth as RetrievalTruth[];
  const [vs, vp] = [2, 4];
  for (let b = 0; b < x.length; b++) {
    for (let i = 0; i < 10; i++) {
      let expected = 0;
      for (let s = 0; s < vs; s++) {
        // Nearest other token by sorting distances (a different method from the generator's scan).
        const order = x[b]
          .map((token, j) => ({ j, d: Math.abs(token[s] - x[b][i][s]) }))
          .filter(({ j }) => j !== i)
          .sort((a, c) => a.d - c.d);
        const context = x[b][i].slice(vs + vp + s * vp, vs + vp + (s + 1) * vp);
        assert.equal(context.filter((v) => v === 1).length, 1, 'context is one-hot');
        const r = context.indexOf(1);
        assert.equal(truth[b].searched[i][s], order[0].j);
        assert.equal(truth[b].retrieved[i][s], r);
        expected += task.coefficients[s] * x[b][order[0].j][vs + r];
      }
      assert.ok(Math.abs(expected - y[b][i]) < 1e-5, `target of example ${b} token ${i}`);
    }
  }
  tf.dispose([batch.inputs, batch.targets]);
});

test('each split draws contexts only from its own retrieval combinations', async () => {
  await useWasmBackend();
  const task = new ContextualRetrievalTask(options);
  for (const split of task.splits) {
    const allowed = new Set(task.tuples(split).map((t) => t.join(',')));
    const batch = task.batch(64, split, createRng('split', split));
    for (const example of batch.truth as RetrievalTruth[]) {
      for (const tuple of example.retrieved) assert.ok(allowed.has(tuple.join(',')), `${split} used ${tuple}`);
    }
    tf.dispose([batch.inputs, batch.targets]);
  }
});

test('same rng key, same batch', async () => {
  await useWasmBackend();
  const task = withSeed(7);
  const a = task.batch(4, 'ood', createRng(1, 2));
  const b = task.batch(4, 'ood', createRng(1, 2));
  assert.deepEqual(await a.inputs.array(), await b.inputs.array());
  assert.deepEqual(withSeed(7).coefficients, task.coefficients);
  assert.notDeepEqual(withSeed(8).coefficients, task.coefficients);
  tf.dispose([a.inputs, a.targets, b.inputs, b.targets]);
});
