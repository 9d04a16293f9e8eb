import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ClassAverageBuilder, classAverages, softmax, sweepGrid, trialView, type ExampleLike } from '../../src/core/relational/panelData';

/** A 2-object example: constant images, a given similarity matrix and logits. */
function example(index: number, kind: 'same' | 'different', similarity: number[][], logits: number[]): ExampleLike {
  const image = (value: number) => Array.from({ length: 32 }, () => Array.from({ length: 32 }, () => [value]));
  return {
    split: 'test',
    index,
    step: 10,
    inputs: [image(0.25), image(kind === 'same' ? 0.25 : 0.75)],
    output: logits,
    truth: { objects: [3, kind === 'same' ? 3 : 7], label: kind === 'same' ? 0 : 1, kind },
    inspect: { similarity },
  };
}

test('a trial view has the pixels per object, the matrix, and the prediction against the truth', () => {
  const view = trialView(example(4, 'different', [[1, 0], [0.3, 0.7]], [0, Math.log(3)]));
  assert.equal(view.objects.length, 2);
  assert.equal(view.objects[0].length, 1024);
  assert.equal(view.objects[1][1023], 0.75);
  assert.deepEqual(view.objectIds, [3, 7]);
  assert.deepEqual(view.similarity, [[1, 0], [0.3, 0.7]]);
  assert.ok(Math.abs(view.probabilities[1] - 0.75) < 1e-12, 'softmax of [0, log 3] is [1/4, 3/4]');
  assert.equal(view.predicted, 1);
  assert.equal(view.label, 1);
  assert.equal(view.kind, 'different');
  const noMatrix = trialView({ ...example(0, 'same', [], [2, 1]), inspect: { hidden: [[1]] } });
  assert.equal(noMatrix.similarity, undefined);
  assert.equal(noMatrix.attention, undefined);
  // A transformer: two heads [H][T][T], shown as their mean.
  const transformer = trialView({ ...example(0, 'same', [], [2, 1]), inspect: { attention: [[[1, 0], [0.5, 0.5]], [[0, 1], [0.25, 0.75]]] } });
  assert.equal(transformer.similarity, undefined);
  assert.deepEqual(transformer.attention, [[0.5, 0.5], [0.375, 0.625]]);
  assert.throws(() => trialView({ ...example(0, 'same', [], [1]), inputs: undefined }), /no inputs/);
});

test('softmax sums to one and is shift invariant', () => {
  const p = softmax([1000, 1001, 999]);
  assert.ok(Math.abs(p.reduce((s, x) => s + x, 0) - 1) < 1e-12);
  assert.deepEqual(p, softmax([0, 1, -1]));
});

test('class averages are element-wise means per kind, with the accuracy on that kind', () => {
  const builder = new ClassAverageBuilder();
  builder.add(example(0, 'same', [[1, 0], [0.5, 0.5]], [2, 0])); // right
  builder.add(example(1, 'same', [[1, 0], [0.1, 0.9]], [0, 2])); // wrong
  builder.add(example(2, 'different', [[1, 0], [0.8, 0.2]], [0, 2])); // right
  const [different, same] = builder.result();
  assert.equal(same.kind, 'same');
  assert.equal(same.trials, 2);
  assert.equal(same.accuracy, 0.5);
  assert.ok(Math.abs(same.mean[1][0] - 0.3) < 1e-12 && Math.abs(same.mean[1][1] - 0.7) < 1e-12);
  assert.deepEqual(different.mean, [[1, 0], [0.8, 0.2]]);
  assert.equal(different.accuracy, 1);
  assert.throws(() => builder.add({ ...example(3, 'same', [], [1, 0]), inspect: {} }), /no similarity matrix/);
});

test('classAverages draws until every kind has its trials, and stops there', () => {
  const drawn: number[] = [];
  const averages = classAverages(
    (index) => {
      drawn.push(index);
      return example(index, index % 3 === 0 ? 'same' : 'different', [[index, 0], [0, 1]], [1, 0]);
    },
    2,
    100,
  );
  assert.deepEqual(averages.map((a) => [a.kind, a.trials]), [['different', 2], ['same', 2]]);
  assert.deepEqual(drawn, [0, 1, 2, 3], 'same at 0 and 3, different at 1 and 2');
  assert.deepEqual(averages[1].mean[0][0], 1.5, 'mean of indices 0 and 3');
});

test('the sweep grid has a row per model and task, a column per m, mean and spread over seeds', () => {
  const grid = { '/model/name': ['corelnet', 'relational-lstm'], '/task/m': [0, 95], '/seed': [0, 1] };
  const accuracy: Record<string, number | undefined> = {
    'corelnet.m0.s0': 1, 'corelnet.m0.s1': 0.9, 'corelnet.m95.s0': 0.95, 'corelnet.m95.s1': 0.85,
    'relational-lstm.m0.s0': 0.8, 'relational-lstm.m0.s1': 0.6, 'relational-lstm.m95.s0': 0.5, 'relational-lstm.m95.s1': undefined,
  };
  const members = Object.entries(accuracy).map(([label, value]) => {
    const [model, m, s] = label.split('.');
    return {
      runId: `run-${label}`,
      label,
      point: { '/model/name': model, '/task/m': Number(m.slice(1)), '/seed': Number(s.slice(1)) },
      state: value === undefined ? 'failed' : 'completed',
      records: value === undefined ? [] : [{ values: { 'eval/test/accuracy': 0.1 } }, { values: { 'eval/test/accuracy': value } }],
    };
  });
  const view = sweepGrid(grid, members, 'eval/test/accuracy');
  assert.deepEqual(view.columns, ['0', '95']);
  assert.deepEqual(view.rows.map((r) => r.label), ['corelnet', 'relational-lstm']);
  const corelnet95 = view.rows[0].cells[1]!;
  assert.ok(Math.abs(corelnet95.mean! - 0.9) < 1e-12);
  assert.ok(Math.abs(corelnet95.sd! - Math.sqrt(0.005)) < 1e-12);
  assert.deepEqual(corelnet95.runIds, ['run-corelnet.m95.s0', 'run-corelnet.m95.s1']);
  const lstm95 = view.rows[1].cells[1]!;
  assert.deepEqual([lstm95.values, lstm95.missing], [[0.5], 1]);
  assert.equal(view.seeds, 2);
});
