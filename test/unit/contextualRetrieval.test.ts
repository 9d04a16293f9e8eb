import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import {
  ContextualRetrievalTask,
  retrievalTuples,
  splitTuples,
  type RetrievalTruth,
} from '../../src/core/tasks/contextualRetrieval';
import { createRng } from '../../src/core/rng';
import { useWasmBackend } from '../helpers/backend';

const options = { seqLen: 10, searchFeatures: 2, retrievalFeatures: 4, split: 'ood', coefficients: 'random' } as const;

test('retrieval tuples enumerate all v_p^v_s combinations once', () => {
  const tuples = retrievalTuples(2, 4);
  assert.equal(tuples.length, 16);
  assert.equal(new Set(tuples.map((t) => t.join(','))).size, 16);
  assert.deepEqual(tuples[0], [0, 0]);
  assert.deepEqual(tuples[5], [1, 1]);
});

test('OOD split: disjoint, covers everything, training holds at least 80%', () => {
  const tuples = retrievalTuples(2, 4);
  const { train, test: held } = splitTuples(tuples);
  const key = (t: number[]) => t.join(',');
  assert.equal(train.length + held.length, tuples.length);
  assert.ok(train.length >= 0.8 * tuples.length);
  assert.ok(held.length > 0);
  const trainKeys = new Set(train.map(key));
  assert.ok(held.every((t) => !trainKeys.has(key(t))));
});

test('targets recomputed independently from the raw features match the generator', async () => {
  await useWasmBackend();
  const task = new ContextualRetrievalTask(options, 3);
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
  const task = new ContextualRetrievalTask(options, 0);
  for (const split of task.splits) {
    const allowed = new Set(task.tuples(split).map((t) => t.join(',')));
    const batch = task.batch(64, split, createRng('split', split));
    for (const example of batch.truth as RetrievalTruth[]) {
      for (const tuple of example.retrieved) assert.ok(allowed.has(tuple.join(',')), `${split} used ${tuple}`);
    }
    tf.dispose([batch.inputs, batch.targets]);
  }
});

test('same rng key, same batch; coefficients depend on the seed only', async () => {
  await useWasmBackend();
  const task = new ContextualRetrievalTask(options, 7);
  const a = task.batch(4, 'ood', createRng(1, 2));
  const b = task.batch(4, 'ood', createRng(1, 2));
  assert.deepEqual(await a.inputs.array(), await b.inputs.array());
  assert.deepEqual(new ContextualRetrievalTask(options, 7).coefficients, task.coefficients);
  assert.notDeepEqual(new ContextualRetrievalTask(options, 8).coefficients, task.coefficients);
  assert.ok(new ContextualRetrievalTask({ ...options, coefficients: 'ones' }, 7).coefficients.every((c) => c === 1));
  tf.dispose([a.inputs, a.targets, b.inputs, b.targets]);
});
