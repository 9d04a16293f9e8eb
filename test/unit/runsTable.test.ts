// The runs table's model (webview/runsTable/tableModel.ts, hparams.ts) and the host's rows
// (src/host/runs/runsTableRows.ts): columns and the default set, sorting with missing values
// last, the filter language with located errors, the HParams axes, and rows that follow live
// metrics without re-reading them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MetricRecord, RunSummary } from '../../src/protocol';
import type { RunsTableRow } from '../../src/protocol/runsTable';
import { RunsTableRows } from '../../src/host/runs/runsTableRows';
import { buildAxis, parallelLines, scatterPoints, tickLabel } from '../../webview/runsTable/hparams';
import {
  availableColumns, defaultColumns, matchesFilter, parseFilter, sortRows, toTableRow, type TableRow,
} from '../../webview/runsTable/tableModel';

function row(id: string, overrides: Partial<RunsTableRow> & { lr?: number; optimizer?: string } = {}): RunsTableRow {
  const { lr = 0.001, optimizer = 'adam', ...rest } = overrides;
  return {
    id,
    name: id,
    lab: 'Relational reasoning',
    experiment: 'sweep',
    state: 'completed',
    step: 100,
    totalSteps: 100,
    createdAt: `2026-01-01T00:00:0${id.slice(-1)}.000Z`,
    durationMs: 30_000,
    metrics: { 'train/loss': 0.5, 'eval/test/accuracy': 0.8 },
    spec: { formatVersion: 1, kind: 'train', name: 'sweep', seed: 0, model: { name: 'corelnet' }, training: { learningRate: lr, optimizer } },
    ...rest,
  };
}

const sample = (): TableRow[] => [
  toTableRow(row('run-1', { lr: 0.001, metrics: { 'train/loss': 0.4, 'eval/test/accuracy': 0.95 } })),
  toTableRow(row('run-2', { lr: 0.01, optimizer: 'sgd', state: 'failed', durationMs: 200_000, metrics: { 'train/loss': 0.9, 'eval/test/accuracy': 0.6 } })),
  toTableRow(row('run-10', { lr: 0.1, metrics: { 'train/loss': 0.7 } })),
];

test('columns: run fields, metrics sorted, hyperparameters in spec order without the name fields; numbers stay numbers', () => {
  const rows = sample();
  const ids = availableColumns(rows).map((c) => c.id);
  assert.deepEqual(ids, [
    'name', 'lab', 'status', 'experiment', 'step', 'duration', 'created',
    'metric:eval/test/accuracy', 'metric:train/loss',
    'param:seed', 'param:model.name', 'param:training.learningRate', 'param:training.optimizer',
  ]);
  assert.equal(rows[0].cells['param:training.learningRate'], 0.001);
  assert.equal(rows[0].cells['param:training.optimizer'], 'adam');
  assert.equal(rows[0].cells.duration, 30, 'duration in seconds');
  assert.equal(rows[2].cells['metric:eval/test/accuracy'], undefined);
});

test('default columns: the run, the loss and held-out metrics, the hyperparameters that differ', () => {
  assert.deepEqual(defaultColumns(sample()), [
    'name', 'lab', 'status', 'duration', 'metric:train/loss', 'metric:eval/test/accuracy', 'param:training.learningRate', 'param:training.optimizer',
  ]);
});

test('sort: numbers by value, names in natural order, missing values last in both directions', () => {
  const rows = sample();
  const order = (column: string, descending: boolean) => sortRows(rows, { column, descending }).map((r) => r.id);
  assert.deepEqual(order('metric:eval/test/accuracy', true), ['run-1', 'run-2', 'run-10']);
  assert.deepEqual(order('metric:eval/test/accuracy', false), ['run-2', 'run-1', 'run-10']);
  assert.deepEqual(order('name', false), ['run-1', 'run-2', 'run-10']);
  assert.deepEqual(order('name', true), ['run-10', 'run-2', 'run-1']);
  assert.deepEqual(order('param:training.learningRate', true), ['run-10', 'run-2', 'run-1']);
});

function shown(filter: string, rows = sample()): string[] {
  const parsed = parseFilter(filter, availableColumns(rows));
  assert.ok(!('error' in parsed), `no error for ${filter}: ${JSON.stringify(parsed)}`);
  return rows.filter((r) => matchesFilter(r, parsed.terms)).map((r) => r.id);
}

test('filter: text, numeric comparisons on metrics and hyperparameters, text equality, durations, all terms together', () => {
  assert.deepEqual(shown(''), ['run-1', 'run-2', 'run-10']);
  assert.deepEqual(shown('run-1'), ['run-1', 'run-10'], 'a word matches the name');
  assert.deepEqual(shown('FAILED'), ['run-2'], 'any case, the status');
  assert.deepEqual(shown('eval/test/accuracy > 0.9'), ['run-1']);
  assert.deepEqual(shown('eval/test/accuracy>=0.6'), ['run-1', 'run-2'], 'no spaces needed; a run without the metric never matches');
  assert.deepEqual(shown('training.learningRate <= 0.01, status = completed'), ['run-1']);
  assert.deepEqual(shown('training.optimizer != adam'), ['run-2']);
  assert.deepEqual(shown('param:training.optimizer = ADAM and train/loss < 0.5'), ['run-1']);
  assert.deepEqual(shown('duration > 1m'), ['run-2']);
  assert.deepEqual(shown('duration <= 30'), ['run-1', 'run-10']);
  assert.deepEqual(shown('model.name ~ rel'), ['run-1', 'run-2', 'run-10']);
  assert.deepEqual(shown('"and"'), [], 'a quoted word is text, not the keyword');
});

test('filter errors say what is wrong and where (character range of the bad part)', () => {
  const columns = availableColumns(sample());
  const error = (text: string) => {
    const parsed = parseFilter(text, columns);
    assert.ok('error' in parsed, `an error for ${text}`);
    return parsed.error;
  };
  const unknown = error('status = completed eval/tst/accuracy > 0.9');
  assert.deepEqual([unknown.start, unknown.end], [19, 36]);
  assert.match(unknown.message, /unknown column 'eval\/tst\/accuracy'.*did you mean eval\/test\/accuracy\?/);
  const notNumber = error('train/loss > low');
  assert.deepEqual([notNumber.start, notNumber.end], [13, 16]);
  assert.match(notNumber.message, /expected a number after '>', found 'low'/);
  const noValue = error('train/loss <');
  assert.deepEqual([noValue.start, noValue.end], [12, 13]);
  assert.match(noValue.message, /expected a value after '<'/);
  const noColumn = error('> 0.5');
  assert.deepEqual([noColumn.start, noColumn.end], [0, 1]);
  assert.match(noColumn.message, /needs a column before it/);
  assert.match(error('name ! x').message, /unknown operator '!'/);
  const unclosed = error('"abc');
  assert.deepEqual([unclosed.start, unclosed.end], [0, 4]);
  assert.match(error('duration > soon').message, /expected a duration/);
});

test('HParams axes: log for a learning rate spanning a decade or more (unless turned off), categories for text, points and polylines per run', () => {
  const rows = sample();
  const columns = availableColumns(rows);
  const column = (id: string) => columns.find((c) => c.id === id)!;
  const lr = buildAxis(column('param:training.learningRate'), rows);
  assert.equal(lr.kind, 'log');
  assert.deepEqual([lr.position(0.001), lr.position(0.01), lr.position(0.1)], [0, 0.5, 1]);
  assert.deepEqual(lr.ticks.map((t) => t.label), ['0.001', '0.002', '0.005', '0.01', '0.02', '0.05', '0.1'], 'within two decades, 2x and 5x too');
  assert.equal(buildAxis(column('param:training.learningRate'), rows.slice(0, 2)).kind, 'log', 'a 10x span is log already (0.001, 0.01)');
  const linear = buildAxis(column('param:training.learningRate'), rows, { log: false });
  assert.equal(linear.kind, 'linear', 'log scales off');
  assert.equal(linear.position(0.1), 1);
  const optimizer = buildAxis(column('param:training.optimizer'), rows);
  assert.equal(optimizer.kind, 'categorical');
  assert.deepEqual([optimizer.position('adam'), optimizer.position('sgd'), optimizer.position('rmsprop')], [0, 1, undefined]);
  const accuracy = buildAxis(column('metric:eval/test/accuracy'), rows);
  assert.equal(accuracy.kind, 'linear');
  assert.ok(Math.abs(accuracy.position(0.95)! - 1) < 1e-12 && accuracy.position(0.6) === 0);
  const scatter = scatterPoints(rows, lr, accuracy);
  assert.deepEqual(scatter.points.map((p) => [p.runId, p.x]), [['run-1', 0], ['run-2', 0.5]]);
  assert.equal(scatter.omitted, 1, 'run-10 has no accuracy');
  assert.deepEqual([0.0005, 0.75, 1e-7, 2e6].map(tickLabel), ['0.0005', '0.75', '1e-7', '2e6']);
  const parallel = parallelLines(rows, [lr, optimizer, accuracy]);
  assert.deepEqual(parallel.lines.map((l) => l.runId), ['run-1', 'run-2']);
  assert.deepEqual(parallel.lines[1].positions.slice(0, 2), [0.5, 1]);
});

test('host rows: display name, lab, last metric values, kept up to date from live records without reading the metrics again', () => {
  const run: RunSummary = {
    id: '20260101-000000-mha', dir: '/runs/20260101-000000-mha', name: '20260101-000000-mha', experiment: 'mha', state: 'running',
    step: 10, totalSteps: 100, createdAt: '2026-01-01T00:00:00.000Z', notes: '', tags: [], elapsedMs: 1500,
  };
  const records: MetricRecord[] = [{ step: 5, time: 1, values: { 'train/loss': 2 } }, { step: 10, time: 2, values: { 'train/loss': 1.5, 'eval/ood/l1': 0.3 } }];
  const listeners: { metrics?: (runId: string, records: MetricRecord[]) => void } = {};
  let metricReads = 0;
  let changes = 0;
  const source = {
    listRuns: () => [run],
    readMetrics: () => (metricReads++, records),
    readSpec: () => ({ task: { name: 'contextual-retrieval' }, model: { name: 'multi-head-attention' }, objective: { name: 'mse' } }),
    onMetrics: (listener: (runId: string, records: MetricRecord[]) => void) => ((listeners.metrics = listener), { dispose: () => undefined }),
    onRunChanged: () => ({ dispose: () => undefined }),
  };
  const rows = new RunsTableRows(source, () => changes++);
  const [first] = rows.rows();
  assert.equal(first.name, 'mha 2026-01-01 00:00:00', 'the one display name');
  assert.equal(first.lab, 'Compositional attention');
  assert.equal(first.durationMs, 1500);
  assert.deepEqual(first.metrics, { 'train/loss': 1.5, 'eval/ood/l1': 0.3 });
  listeners.metrics!(run.id, [{ step: 15, time: 3, values: { 'train/loss': 1.1 } }]);
  assert.equal(changes, 1);
  assert.deepEqual(rows.rows()[0].metrics, { 'train/loss': 1.1, 'eval/ood/l1': 0.3 });
  assert.equal(metricReads, 1, 'metrics.jsonl read once, then followed');
});

test('host rows: a progressing run resends its own row; a run that appears resends the table', () => {
  const base = { dir: '/runs/x', experiment: 'mha', state: 'running' as const, step: 1, totalSteps: 10, createdAt: '2026-01-01T00:00:00.000Z', notes: '', tags: [] };
  const runs: RunSummary[] = [{ ...base, id: 'a', name: 'a' }, { ...base, id: 'b', name: 'b' }];
  const listeners: { metrics?: (runId: string, records: MetricRecord[]) => void; run?: (run: RunSummary) => void } = {};
  const source = {
    listRuns: () => [...runs],
    readMetrics: () => [],
    readSpec: () => undefined,
    onMetrics: (listener: (runId: string, records: MetricRecord[]) => void) => ((listeners.metrics = listener), { dispose: () => undefined }),
    onRunChanged: (listener: (run: RunSummary) => void) => ((listeners.run = listener), { dispose: () => undefined }),
  };
  const rows = new RunsTableRows(source, () => undefined);
  assert.equal(rows.rows().length, 2);
  assert.deepEqual(rows.update(), { full: false, rows: [] }, 'nothing changed');
  listeners.metrics!('b', [{ step: 2, time: 1, values: { 'train/loss': 0.5 } }]);
  const update = rows.update();
  assert.equal(update.full, false);
  assert.deepEqual(update.rows.map((r) => [r.id, r.metrics]), [['b', { 'train/loss': 0.5 }]]);
  runs.unshift({ ...base, id: 'c', name: 'c' });
  listeners.run!(runs[0]);
  const grown = rows.update();
  assert.equal(grown.full, true);
  assert.deepEqual(grown.rows.map((r) => r.id), ['c', 'a', 'b']);
});
