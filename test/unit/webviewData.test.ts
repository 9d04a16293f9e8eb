import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MetricRecord } from '../../src/protocol';
import { buildMetricsCsv, csvField } from '../../src/shared/csv';
import { buildParamTable, flattenToDotted } from '../../webview/common/params';
import {
  alignSeries,
  appendPoint,
  buildSeries,
  emaSmooth,
  mainLossMetric,
  MetricStore,
  orderMetricNames,
  type StepSeries,
} from '../../src/shared/series';

const rec = (step: number, values: Record<string, number>, time = step * 10): MetricRecord => ({ step, time, values });

describe('emaSmooth', () => {
  it('returns a copy of the values when the weight is 0', () => {
    const values = [3, 1, 4, 1, 5];
    const out = emaSmooth(values, 0);
    assert.deepEqual(out, values);
    assert.notEqual(out, values);
  });

  it('is debiased: the first value is kept and a constant series stays constant', () => {
    assert.deepEqual(emaSmooth([2, 2, 2, 2], 0.9).map((v) => Number(v.toFixed(12))), [2, 2, 2, 2]);
    assert.equal(emaSmooth([5, 0], 0.5)[0], 5);
  });

  it('matches the debiased EMA formula', () => {
    const w = 0.6;
    const values = [1, 3, 2];
    // biased averages: 0.4, 0.4*0.6+0.4*3=1.44, 1.44*0.6+0.4*2=1.664; divided by 1-w^n
    const expected = [0.4 / (1 - w), 1.44 / (1 - w * w), 1.664 / (1 - w ** 3)];
    emaSmooth(values, w).forEach((v, i) => assert.ok(Math.abs(v - expected[i]) < 1e-12, `index ${i}: ${v} vs ${expected[i]}`));
  });

  it('lets NaN through without poisoning later values', () => {
    const out = emaSmooth([1, NaN, 1], 0.5);
    assert.ok(Number.isNaN(out[1]));
    assert.equal(out[2], 1);
  });

  it('rejects weights outside [0, 1)', () => {
    assert.throws(() => emaSmooth([1], 1), RangeError);
    assert.throws(() => emaSmooth([1], -0.1), RangeError);
  });
});

describe('appendPoint / MetricStore', () => {
  it('appends in step order', () => {
    const s: StepSeries = { steps: [], values: [] };
    appendPoint(s, 1, 0.5);
    appendPoint(s, 2, 0.4);
    assert.deepEqual(s, { steps: [1, 2], values: [0.5, 0.4] });
  });

  it('replaces points from a repeated step on (a resumed run logs them again)', () => {
    const s: StepSeries = { steps: [10, 20, 30, 40], values: [1, 2, 3, 4] };
    appendPoint(s, 30, 9);
    assert.deepEqual(s, { steps: [10, 20, 30], values: [1, 2, 9] });
  });

  it('keeps metrics of one record apart and reports what changed', () => {
    const store = new MetricStore();
    const changed = store.append('a', [rec(1, { 'train/loss': 2 }), rec(2, { 'train/loss': 1.5, 'eval/id/l1': 0.7 })]);
    assert.deepEqual([...changed].sort(), ['eval/id/l1', 'train/loss']);
    assert.deepEqual(store.series('a', 'train/loss'), { steps: [1, 2], values: [2, 1.5], times: [10, 20] });
    assert.deepEqual(store.series('a', 'eval/id/l1'), { steps: [2], values: [0.7], times: [20] });
    assert.equal(store.series('b', 'train/loss'), undefined);
  });

  it('a record replayed after a full read changes nothing', () => {
    const store = new MetricStore();
    const records = [rec(1, { 'train/loss': 2 }), rec(2, { 'train/loss': 1 })];
    store.append('a', records);
    store.append('a', records.slice(1));
    assert.deepEqual(store.series('a', 'train/loss'), { steps: [1, 2], values: [2, 1], times: [10, 20] });
  });

  it('latest() gives the last value of each metric under a prefix', () => {
    const store = new MetricStore();
    store.append('a', [rec(5, { 'eval/ood/l1': 0.9, 'eval/id/l1': 0.5 }), rec(10, { 'eval/id/l1': 0.3, 'train/loss': 1 })]);
    assert.deepEqual(store.latest('a', 'eval/'), [
      { metric: 'eval/id/l1', step: 10, value: 0.3 },
      { metric: 'eval/ood/l1', step: 5, value: 0.9 },
    ]);
  });
});

describe('metric names', () => {
  it('orders training loss, training metrics, evaluation metrics, others', () => {
    assert.deepEqual(orderMetricNames(['eval/ood/l1', 'lr', 'train/grad_norm', 'eval/id/l1', 'train/loss']), [
      'train/loss', 'train/grad_norm', 'eval/id/l1', 'eval/ood/l1', 'lr',
    ]);
  });

  it('picks the training loss as main curve, else the first training metric', () => {
    assert.equal(mainLossMetric(['eval/id/l1', 'train/loss']), 'train/loss');
    assert.equal(mainLossMetric(['eval/id/l1', 'train/kl']), 'train/kl');
    assert.equal(mainLossMetric([]), undefined);
  });
});

describe('alignSeries', () => {
  it('puts runs on the union of their steps with nulls where a run did not log', () => {
    const { steps, columns } = alignSeries([
      { steps: [0, 10, 20], values: [3, 2, 1] },
      { steps: [5, 10], values: [7, NaN] },
    ]);
    assert.deepEqual(steps, [0, 5, 10, 20]);
    assert.deepEqual(columns[0], [3, null, 2, 1]);
    assert.equal(columns[1][0], null);
    assert.equal(columns[1][1], 7);
    assert.ok(Number.isNaN(columns[1][2] as number), 'NaN is kept as logged');
    assert.equal(columns[1][3], null);
  });
});

describe('buildSeries', () => {
  it('makes one series per (metric, run) in display order', () => {
    const series = buildSeries(
      [{ id: 'r1', name: 'first' }, { id: 'r2', name: 'second' }],
      { r1: [rec(1, { 'eval/id/l1': 1, 'train/loss': 4 })], r2: [rec(1, { 'train/loss': 3 }), rec(2, { 'train/loss': 2 })] },
    );
    assert.deepEqual(series.map((s) => [s.metric, s.runId, s.runName, s.values.length]), [
      ['train/loss', 'r1', 'first', 1],
      ['train/loss', 'r2', 'second', 2],
      ['eval/id/l1', 'r1', 'first', 1],
    ]);
  });
});

describe('CSV', () => {
  it('quotes only fields that need it', () => {
    assert.equal(csvField('plain'), 'plain');
    assert.equal(csvField('a,b'), '"a,b"');
    assert.equal(csvField('say "hi"'), '"say ""hi"""');
    assert.equal(csvField('two\nlines'), '"two\nlines"');
    assert.equal(csvField(undefined), '');
    assert.equal(csvField(0.1), '0.1');
  });

  it('writes one row per run and step, a column per metric, empty where not logged', () => {
    const csv = buildMetricsCsv(
      [{ id: 'r1', name: 'base, lr=1e-3' }, { id: 'r2', name: 'wide' }],
      {
        r1: [rec(1, { 'train/loss': 2.5 }, 100), rec(2, { 'train/loss': 2 }, 200), rec(2, { 'eval/id/l1': 0.75 }, 210)],
        r2: [rec(1, { 'train/loss': NaN }, 90)],
      },
    );
    assert.equal(
      csv,
      [
        'run_id,run_name,step,time_ms,train/loss,eval/id/l1',
        'r1,"base, lr=1e-3",1,100,2.5,',
        'r1,"base, lr=1e-3",2,210,2,0.75',
        'r2,wide,1,90,NaN,',
        '',
      ].join('\r\n'),
    );
  });

  it('keeps the resumed values when a run logged the same steps twice', () => {
    const csv = buildMetricsCsv([{ id: 'r', name: 'r' }], {
      r: [rec(1, { 'train/loss': 3 }), rec(2, { 'train/loss': 2 }), rec(3, { 'train/loss': 1 }), rec(2, { 'train/loss': 2.2 })],
    });
    assert.deepEqual(csv.trim().split('\r\n').slice(1), ['r,r,1,10,3', 'r,r,2,20,2.2']);
  });
});

describe('hyperparameter table', () => {
  it('flattens nested specs to dotted keys', () => {
    assert.deepEqual(
      flattenToDotted({ name: 'x', model: { heads: 4, sizes: [64, 64], opts: {} }, layers: [{ w: 1 }], flag: true, none: null }),
      { name: 'x', 'model.heads': '4', 'model.sizes': '[64,64]', 'model.opts': '{}', 'layers.0.w': '1', flag: 'true', none: 'null' },
    );
  });

  it('marks keys that differ between runs, a missing key included', () => {
    const table = buildParamTable([
      { seed: 1, training: { steps: 100, learningRate: 0.001 } },
      { seed: 2, training: { steps: 100, learningRate: 0.001, warmup: 10 } },
    ]);
    assert.deepEqual(table.keys, ['seed', 'training.steps', 'training.learningRate', 'training.warmup']);
    assert.deepEqual([...table.differing].sort(), ['seed', 'training.warmup']);
  });

  it('finds no difference for a single run', () => {
    assert.equal(buildParamTable([{ a: 1, b: { c: 2 } }]).differing.size, 0);
  });
});
