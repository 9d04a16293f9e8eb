import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { createRng } from '../../src/core/rng';
import { findTask } from '../../src/core/registry';
import '../../src/core/labs';
import { proceduralGlyphs } from '../../src/core/relational/glyphs';
import { objectPixels, OBJECT_PIXELS } from '../../src/core/relational/objectSet';
import { holdoutSplit, RelationalTask } from '../../src/core/relational/tasks';
import { RELATIONAL_TASKS, type RelationalTaskName, type Trial } from '../../src/core/relational/trials';
import { useWasmBackend } from '../helpers/backend';

const glyphs = proceduralGlyphs(0);
const distinct = (xs: number[]) => new Set(xs).size === xs.length;

/** The correct answer of a trial, worked out from its objects alone (throws if the trial is ill-formed). */
function expectedLabel(task: RelationalTaskName, objects: number[]): number {
  switch (task) {
    case 'same_diff':
      assert.equal(objects.length, 2);
      return objects[0] === objects[1] ? 0 : 1;
    case 'RMTS': {
      assert.equal(objects.length, 6);
      const isSame = (k: number) => objects[2 * k] === objects[2 * k + 1];
      const matching = [1, 2].filter((pair) => isSame(pair) === isSame(0));
      assert.equal(matching.length, 1, `exactly one candidate shares the source relation: ${objects}`);
      assert.equal(new Set(objects).size, isSame(0) ? 4 : 5, 'pairs use fresh objects');
      return matching[0] - 1;
    }
    case 'dist3': {
      const [row1, row2, options] = [objects.slice(0, 3), objects.slice(3, 5), objects.slice(5)];
      assert.ok(distinct(row1) && distinct(row2) && distinct(options));
      assert.ok(row2.every((o) => row1.includes(o)), 'row 2 repeats objects of row 1');
      const missing = row1.filter((o) => !row2.includes(o));
      assert.equal(missing.length, 1);
      assert.ok(row1.every((o) => options.includes(o)), 'the options include row 1');
      return options.indexOf(missing[0]);
    }
    case 'identity_rules': {
      const [row1, row2, options] = [objects.slice(0, 3), objects.slice(3, 5), objects.slice(5)];
      assert.ok(distinct(options));
      assert.ok(row2.every((o) => !row1.includes(o)), 'row 2 uses new objects');
      let answer: number;
      if (row1[0] === row1[1] && row1[1] === row1[2]) {
        assert.equal(row2[0], row2[1]);
        answer = row2[0]; // AAA
      } else if (row1[0] === row1[2] && row1[0] !== row1[1]) {
        assert.notEqual(row2[0], row2[1]);
        answer = row2[0]; // ABA
      } else if (row1[1] === row1[2] && row1[0] !== row1[1]) {
        assert.notEqual(row2[0], row2[1]);
        answer = row2[1]; // ABB
      } else {
        throw new Error(`row 1 follows no rule: ${row1}`);
      }
      assert.equal(options.filter((o) => o === answer).length, 1);
      return options.indexOf(answer);
    }
  }
}

for (const name of RELATIONAL_TASKS) {
  test(`${name}: every trial is valid, its label recomputed from the objects`, () => {
    const task = new RelationalTask(name, glyphs, 50, 0);
    const kinds = new Map<string, number>();
    const labels = new Map<number, number>();
    for (const split of task.splits) {
      const pool = new Set(task.pool(split));
      for (const trial of task.trials(2000, split, createRng('test', name, split))) {
        assert.equal(trial.label, expectedLabel(name, trial.objects), `trial ${JSON.stringify(trial)}`);
        assert.ok(trial.objects.every((o) => pool.has(o)), `${split} trial uses only ${split} objects`);
        kinds.set(trial.kind, (kinds.get(trial.kind) ?? 0) + 1);
        labels.set(trial.label, (labels.get(trial.label) ?? 0) + 1);
      }
    }
    // Every class and kind occurs, roughly balanced (4000 trials).
    assert.equal(labels.size, task.layout.classes);
    for (const count of labels.values()) assert.ok(count > (4000 / task.layout.classes) * 0.8, `labels ${[...labels]}`);
    for (const count of kinds.values()) assert.ok(count > 4000 / kinds.size * 0.8, `kinds ${[...kinds]}`);
  });
}

test('the m-holdout split: train and test objects are disjoint, m of them tested, seeded', () => {
  for (const m of [50, 85, 95, 98]) {
    const { train, test: held } = holdoutSplit(100, m, 7);
    assert.equal(held.length, m);
    assert.equal(train.length, 100 - m);
    assert.ok(train.every((o) => !held.includes(o)), 'disjoint');
    assert.deepEqual([...train, ...held].sort((a, b) => a - b), Array.from({ length: 100 }, (_, i) => i));
  }
  assert.deepEqual(holdoutSplit(100, 50, 7), holdoutSplit(100, 50, 7));
  assert.notDeepEqual(holdoutSplit(100, 50, 7), holdoutSplit(100, 50, 8));
  const all = holdoutSplit(100, 0, 7);
  assert.deepEqual([...all.test].sort(), [...all.train].sort(), 'm = 0 tests on every object');
});

test('invalid m values are refused with the reason', () => {
  assert.throws(() => new RelationalTask('RMTS', glyphs, 96, 0), /task\.m must be an integer from 0 to 95/);
  assert.throws(() => new RelationalTask('dist3', glyphs, 2, 0), /holds out too few objects/);
  assert.doesNotThrow(() => new RelationalTask('same_diff', glyphs, 98, 0));
});

test('batches: the pixels are the trial objects, targets one-hot, same rng key same batch', async () => {
  await useWasmBackend();
  const task = new RelationalTask('identity_rules', glyphs, 95, 1);
  const batch = task.batch(8, 'test', createRng('batch', 1));
  assert.deepEqual(batch.inputs.shape, [8, 9, 32, 32, 1]);
  assert.deepEqual(batch.targets.shape, [8, 4]);
  const inputs = batch.inputs.dataSync();
  const targets = batch.targets.dataSync();
  (batch.truth as Trial[]).forEach((trial, b) => {
    trial.objects.forEach((object, t) => {
      const offset = (b * 9 + t) * OBJECT_PIXELS;
      assert.deepEqual(inputs.subarray(offset, offset + OBJECT_PIXELS), objectPixels(glyphs, object));
    });
    assert.deepEqual([...targets.subarray(b * 4, b * 4 + 4)], [0, 1, 2, 3].map((k) => (k === trial.label ? 1 : 0)));
  });
  const again = task.batch(8, 'test', createRng('batch', 1));
  assert.deepEqual(again.inputs.dataSync(), inputs);
  assert.deepEqual(again.truth, batch.truth);
  const other = task.batch(8, 'test', createRng('batch', 2));
  assert.notDeepEqual(other.truth, batch.truth);
  tf.dispose([batch.inputs, batch.targets, again.inputs, again.targets, other.inputs, other.targets]);
});

test('registered tasks build from spec options and refuse unknown splits', () => {
  const entry = findTask('rmts');
  assert.ok(entry, 'rmts is registered');
  const task = entry.create({ m: 85, objectSet: 'procedural' }, 3) as RelationalTask;
  assert.deepEqual(task.inputShape, [6, 32, 32, 1]);
  assert.deepEqual(task.segments, [[0, 1], [2, 3], [4, 5]]);
  assert.equal(task.pool('test').length, 85);
  assert.throws(() => task.batch(1, 'ood', createRng(0)), /unknown split 'ood': expected one of train, test/);
});
