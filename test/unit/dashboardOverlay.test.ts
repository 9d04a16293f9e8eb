import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MetricRecord } from '../../src/shared/runs';
import { runDisplayName } from '../../src/shared/runs';
import { MetricStore, onXAxis, overlayLines } from '../../src/shared/series';

const record = (step: number, time: number, values: Record<string, number>): MetricRecord => ({ step, time, values });

function storeOf(runs: Record<string, MetricRecord[]>): MetricStore {
  const store = new MetricStore();
  for (const [id, records] of Object.entries(runs)) store.append(id, records);
  return store;
}

test('an overlay chart holds each ticked metric of each shown run, metric-major, with its own colour slot', () => {
  const store = storeOf({
    a: [record(1, 100, { 'train/loss': 2, 'eval/id/l1': 0.9 }), record(2, 250, { 'train/loss': 1.5 })],
    b: [record(1, 120, { 'train/loss': 3 })],
  });
  const runs = [{ id: 'a', displayName: 'first' }, { id: 'b', displayName: 'second' }];
  const lines = overlayLines(runs, ['train/loss', 'eval/id/l1'], (run, metric) => store.series(run, metric), 'step');
  assert.deepEqual(
    lines.map(({ runId, metric, label, colorIndex, steps, values }) => ({ runId, metric, label, colorIndex, steps, values })),
    [
      { runId: 'a', metric: 'train/loss', label: 'first · train/loss', colorIndex: 0, steps: [1, 2], values: [2, 1.5] },
      { runId: 'b', metric: 'train/loss', label: 'second · train/loss', colorIndex: 1, steps: [1], values: [3] },
      // Run b has no eval/id/l1: no line, and a's keeps slot 2 (metric 1 x 2 runs + run 0).
      { runId: 'a', metric: 'eval/id/l1', label: 'first · eval/id/l1', colorIndex: 2, steps: [1], values: [0.9] },
    ],
  );
  // One run: the legend names only the metric.
  const single = overlayLines([runs[0]], ['train/loss', 'eval/id/l1'], (run, metric) => store.series(run, metric), 'step');
  assert.deepEqual(single.map((l) => l.label), ['train/loss', 'eval/id/l1']);
});

test('the wall-clock axis puts each point at its record time in seconds, and a resumed run keeps times aligned', () => {
  const store = storeOf({ a: [record(10, 500, { 'train/loss': 1 }), record(20, 1500, { 'train/loss': 0.5 }), record(30, 2750, { 'train/loss': 0.4 })] });
  // A resume from step 20 logs step 30 again: the later point replaces the earlier, time included.
  store.append('a', [record(30, 9000, { 'train/loss': 0.3 })]);
  const series = store.series('a', 'train/loss')!;
  assert.deepEqual(onXAxis(series, 'step'), { steps: [10, 20, 30], values: [1, 0.5, 0.3] });
  assert.deepEqual(onXAxis(series, 'time'), { steps: [0.5, 1.5, 9], values: [1, 0.5, 0.3] });
  const [line] = overlayLines([{ id: 'a', displayName: 'a' }], ['train/loss'], (run, metric) => store.series(run, metric), 'time');
  assert.deepEqual(line.steps, [0.5, 1.5, 9]);
});

test('a record without a usable time is left off the wall-clock axis, not put at zero', () => {
  const store = storeOf({ a: [record(1, Number.NaN, { m: 1 }), record(2, 2000, { m: 2 })] });
  assert.deepEqual(onXAxis(store.series('a', 'm')!, 'time'), { steps: [2], values: [2] });
});

test('one display name per run: experiment and start time for a run called by its id, a chosen name as it is', () => {
  const run = (id: string, experiment: string, name = id) => ({ id, name, experiment });
  assert.equal(runDisplayName(run('20250131-142501-mha', 'mha')), 'mha 2025-01-31 14:25:01');
  assert.equal(runDisplayName(run('20250131-142501-mha-2', 'mha')), 'mha 2025-01-31 14:25:01 #2');
  assert.equal(runDisplayName(run('20250131-142501-mha-2', 'mha'), { experimentShown: true }), '2025-01-31 14:25:01 #2');
  assert.equal(runDisplayName(run('20250131-142501-mha', 'mha', 'baseline')), 'baseline');
  assert.equal(runDisplayName(run('imported-run', 'mha')), 'imported-run');
});
