import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, test } from 'node:test';
import { parseSpec } from '../../src/core/spec/validate';
import type { ResolvedSpec } from '../../src/core/spec/types';
import type { JobOutcome, ProgressListener, TrainingJob } from '../../src/engine/engine';
import type { MetricRecord, RunSummary } from '../../src/protocol';
import type { JobProgressDetail } from '../../src/protocol/worker';
import { RunRegistry } from '../../src/host/runs/runRegistry';
import { STATUS_FILE } from '../../src/runs/layout';
import { deleteRun, readMetrics, updateRunMeta } from '../../src/runs/reader';
import { createRun, DiskRunSink, type RunEnvironment } from '../../src/runs/store';

const template = fs.readFileSync(path.join(__dirname, '..', '..', 'templates', 'retrieval-mha-quick.lab.json'), 'utf8');
const environment: RunEnvironment = {
  backend: { name: 'cpu', requested: 'auto', version: '4.22.0', fallbackReason: 'test' },
  versions: {},
  workers: 1,
  platform: 'test',
};

function spec(name: string): ResolvedSpec {
  const parsed = parseSpec(template, 'template.lab.json');
  assert.ok(parsed.spec, JSON.stringify(parsed.problems));
  return { ...parsed.spec, name };
}

const record = (step: number, loss: number): MetricRecord => ({ step, time: step, values: { 'train/loss': loss } });

/** A TrainingJob driven by the test (the real one needs worker threads and tfjs). */
class ScriptedJob implements TrainingJob {
  readonly jobId = 'job-test';
  readonly done: Promise<JobOutcome>;
  finish!: (outcome: JobOutcome) => void;
  cancelled = false;
  private readonly listeners: ProgressListener[] = [];
  constructor(readonly runDir: string) {
    this.done = new Promise((resolve) => (this.finish = resolve));
  }
  onProgress(cb: ProgressListener): void {
    this.listeners.push(cb);
  }
  progress(step: number, total: number, records: MetricRecord[], detail?: JobProgressDetail): void {
    for (const listener of this.listeners) listener(step, total, records, detail);
  }
  cancel(): void {
    this.cancelled = true;
  }
}

let tmp: string;
let registry: RunRegistry;
beforeEach(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'host-registry-'));
  registry = new RunRegistry({ pollIntervalMs: 0, progressThrottleMs: 0 });
});
afterEach(() => {
  registry.dispose();
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('indexes runs of several runs folders by id, newest first', () => {
  const dirA = path.join(tmp, 'a', '.model-lab', 'runs');
  const dirB = path.join(tmp, 'b', 'runs');
  const first = createRun(dirA, spec('first'), { environment });
  const second = createRun(dirB, spec('second'), { specFile: '/b/second.lab.json', environment });
  registry.setRunsDirs([dirA, dirB, path.join(tmp, 'missing')]);

  const runs = registry.listRuns();
  assert.deepEqual(new Set(runs.map((run) => run.dir)), new Set([first, second]));
  const byId = registry.readRun(path.basename(second));
  assert.equal(byId?.experiment, 'second');
  assert.equal(byId?.specFile, '/b/second.lab.json');
  assert.equal(byId?.state, 'queued');
  assert.equal(registry.readRun('nope'), undefined);
  assert.equal((registry.readSpec(path.basename(first)) as ResolvedSpec).name, 'first');
  assert.equal(registry.readBackend(path.basename(first))?.name, 'cpu');
});

test('metrics: readMetrics then onMetrics gives every record exactly once (run trained by another process)', () => {
  const runsDir = path.join(tmp, 'runs');
  const runDir = createRun(runsDir, spec('cli'), { environment });
  const runId = path.basename(runDir);
  const sink = new DiskRunSink(runDir);
  sink.heartbeat(1); // 'queued' -> 'running'
  sink.appendMetrics([record(1, 0.9), record(2, 0.8)]);
  registry.setRunsDirs([runsDir]);
  assert.equal(registry.readRun(runId)?.state, 'running');

  const seen: MetricRecord[][] = [];
  registry.onMetrics((id, records) => id === runId && seen.push(records));
  assert.deepEqual(registry.readMetrics(runId).map((r) => r.step), [1, 2]);

  sink.appendMetrics([record(3, 0.7)]);
  sink.heartbeat(3);
  registry.pollActive();
  assert.deepEqual(seen.map((batch) => batch.map((r) => r.step)), [[3]]);
  registry.pollActive();
  assert.equal(seen.length, 1, 'nothing new, nothing announced');
  assert.deepEqual(registry.readMetrics(runId).map((r) => r.step), [1, 2, 3]);

  sink.setState('completed');
  sink.close();
  const changes: RunSummary[] = [];
  registry.onRunChanged((run) => changes.push(run));
  registry.pollActive();
  assert.equal(changes.at(-1)?.state, 'completed');
});

test('a running run whose heartbeat went stale turns interrupted on the next poll', () => {
  const runsDir = path.join(tmp, 'runs');
  const runDir = createRun(runsDir, spec('stale'), { environment });
  const sink = new DiskRunSink(runDir);
  sink.heartbeat(5);
  sink.close();
  registry.setRunsDirs([runsDir]);
  assert.equal(registry.listRuns()[0].state, 'running');

  const statusFile = path.join(runDir, STATUS_FILE);
  const status = JSON.parse(fs.readFileSync(statusFile, 'utf8'));
  fs.writeFileSync(statusFile, JSON.stringify({ ...status, heartbeat: new Date(Date.now() - 60_000).toISOString() }));
  const changes: RunSummary[] = [];
  registry.onRunChanged((run) => changes.push(run));
  registry.pollActive();
  assert.deepEqual(changes.map((run) => run.state), ['interrupted']);
});

test('a job of this window: queued until it starts, live steps, then the final state from disk', async () => {
  const runsDir = path.join(tmp, 'runs');
  const runDir = createRun(runsDir, spec('own'), { environment });
  const runId = path.basename(runDir);
  // Resuming a cancelled run: the folder still says 'cancelled' until the worker picks it up.
  const stopped = new DiskRunSink(runDir);
  stopped.setState('cancelled');
  stopped.close();
  registry.setRunsDirs([runsDir]);
  assert.equal(registry.readRun(runId)?.state, 'cancelled');

  const job = new ScriptedJob(runDir);
  const metrics: number[] = [];
  registry.onMetrics((id, records) => id === runId && metrics.push(...records.map((r) => r.step)));
  registry.trackJob(runDir, job, true);
  assert.equal(registry.readRun(runId)?.state, 'queued');
  assert.deepEqual(registry.activeJobRunIds(), [runId]);
  assert.equal(registry.jobOf(runId), job);

  // The worker: marks running, appends, then reports progress (status.json lags behind).
  const sink = new DiskRunSink(runDir);
  sink.setState('running');
  sink.appendMetrics([record(10, 0.5)]);
  job.progress(10, 300, [record(10, 0.5)]);
  assert.equal(registry.readRun(runId)?.state, 'running');
  assert.equal(registry.readRun(runId)?.step, 10, 'the live step beats the status file');
  assert.equal(registry.readRun(runId)?.totalSteps, 300);
  assert.deepEqual(metrics, [10]);

  sink.appendMetrics([record(20, 0.4)]);
  sink.heartbeat(20);
  sink.setState('completed');
  sink.close();
  job.finish({ state: 'completed' });
  await job.done;
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(registry.readRun(runId)?.state, 'completed');
  assert.equal(registry.readRun(runId)?.step, 20);
  assert.deepEqual(metrics, [10, 20]);
  assert.deepEqual(registry.activeJobRunIds(), []);
});

test('a job of this window: records come from its messages (offsets in metrics.jsonl), the file is read only to catch up', async () => {
  const runsDir = path.join(tmp, 'runs');
  const runDir = createRun(runsDir, spec('messages'), { environment });
  const runId = path.basename(runDir);
  const reads: number[] = [];
  const counting = new RunRegistry({
    pollIntervalMs: 0,
    progressThrottleMs: 0,
    metricsReader: (dir, fromOffset) => (reads.push(fromOffset), readMetrics(dir, fromOffset)),
  });
  try {
    counting.setRunsDirs([runsDir]);
    const job = new ScriptedJob(runDir);
    const announced: number[][] = [];
    counting.onMetrics((id, records) => id === runId && announced.push(records.map((r) => r.step)));
    counting.trackJob(runDir, job, false);
    const sink = new DiskRunSink(runDir);
    sink.setState('running');
    const send = (step: number, records: MetricRecord[]) => {
      sink.appendMetrics(records);
      job.progress(step, 30, records, { metrics: sink.lastAppended, elapsedMs: step * 100 });
    };

    send(2, [record(1, 0.9), record(2, 0.8)]);
    assert.deepEqual(reads, [], 'appended from the message');
    assert.deepEqual(announced, [[1, 2]]);
    assert.deepEqual(counting.readMetrics(runId).map((r) => r.step), [1, 2]);
    assert.deepEqual(reads, [], 'readMetrics answers from what the messages brought');
    assert.equal(counting.readRun(runId)?.step, 2);
    assert.equal(counting.readRun(runId)?.elapsedMs, 200, 'the training time comes with the message');
    assert.equal(counting.readRun(runId)?.state, 'running');

    // A message lost on the way: the next one does not follow on, so the file is read from the cursor.
    sink.appendMetrics([record(3, 0.7)]);
    send(4, [record(4, 0.6)]);
    assert.equal(reads.length, 1);
    assert.deepEqual(announced, [[1, 2], [3, 4]]);
    send(5, [record(5, 0.5)]);
    assert.equal(reads.length, 1, 'in step again: no read');
    assert.deepEqual(counting.readMetrics(runId).map((r) => r.step), [1, 2, 3, 4, 5]);
    // What the file says, not what the message said: a non-finite value reads back as NaN.
    send(6, [{ step: 6, time: 6, values: { 'train/loss': Infinity } }]);
    assert.deepEqual(counting.readMetrics(runId), readMetrics(runDir).records);
    assert.ok(Number.isNaN(counting.readMetrics(runId).at(-1)?.values['train/loss']));

    sink.setState('completed');
    sink.close();
    job.finish({ state: 'completed' });
    await job.done;
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(counting.readRun(runId)?.state, 'completed');
    assert.deepEqual(announced.flat(), [1, 2, 3, 4, 5, 6], 'every record once');
  } finally {
    counting.dispose();
  }
});

test('a resumed job of this window catches up from disk after its worker cut the records past the checkpoint', async () => {
  const runsDir = path.join(tmp, 'runs');
  const runDir = createRun(runsDir, spec('resumed'), { environment });
  const runId = path.basename(runDir);
  const first = new DiskRunSink(runDir);
  first.appendMetrics([record(1, 0.9), record(2, 0.8), record(3, 0.7), record(4, 0.6)]);
  first.setState('cancelled');
  first.close();
  registry.setRunsDirs([runsDir]);
  assert.deepEqual(registry.readMetrics(runId).map((r) => r.step), [1, 2, 3, 4]);

  const job = new ScriptedJob(runDir);
  registry.trackJob(runDir, job, true);
  const sink = new DiskRunSink(runDir);
  sink.setState('running');
  sink.rewindTo(2); // the checkpoint is at step 2: records 3 and 4 go
  const send = (step: number, records: MetricRecord[]) => {
    sink.appendMetrics(records);
    job.progress(step, 30, records, { metrics: sink.lastAppended, elapsedMs: step });
  };
  send(3, [record(3, 0.5)]);
  assert.deepEqual(registry.readMetrics(runId).map((r) => [r.step, r.values['train/loss']]), [[1, 0.9], [2, 0.8], [3, 0.5]]);
  send(4, [record(4, 0.4)]);
  assert.deepEqual(registry.readMetrics(runId).map((r) => [r.step, r.values['train/loss']]), [[1, 0.9], [2, 0.8], [3, 0.5], [4, 0.4]]);
  sink.close();
  job.finish({ state: 'cancelled' });
  await job.done;
});

test('refresh notices runs created, renamed and deleted by others', () => {
  const runsDir = path.join(tmp, 'runs');
  registry.setRunsDirs([runsDir]);
  let changes = 0;
  registry.onDidChange(() => changes++);
  assert.equal(registry.listRuns().length, 0);

  const runDir = createRun(runsDir, spec('later'), { environment });
  registry.refresh();
  assert.equal(registry.listRuns().length, 1);
  assert.ok(changes > 0);

  updateRunMeta(runDir, { name: 'renamed', notes: 'n', tags: ['t'] });
  registry.refreshRunDir(runDir);
  assert.equal(registry.listRuns()[0].name, 'renamed');
  assert.deepEqual(registry.listRuns()[0].tags, ['t']);

  deleteRun(runDir);
  changes = 0;
  registry.refresh();
  assert.equal(registry.listRuns().length, 0);
  assert.equal(changes, 1);
  assert.deepEqual(registry.readMetrics(path.basename(runDir)), []);
});

test('a run folder another process moves in (even into a runs folder made after the window opened) or out is listed by the poll, with no watcher or Refresh', async () => {
  const polled = new RunRegistry({ pollIntervalMs: 20 });
  try {
    const runsDir = path.join(tmp, 'later', 'runs');
    polled.setRunsDirs([runsDir]);
    const listedIds = () => polled.listRuns().map((run) => run.id);
    /** Resolves once the registry announces a listing that satisfies `check` (the deadline also keeps the process waiting: the poll timer is unref'd). */
    const listing = (what: string, check: (ids: string[]) => boolean) =>
      new Promise<void>((resolve, reject) => {
        const deadline = setTimeout(() => reject(new Error(`no listing with ${what} within 20 s: ${JSON.stringify(listedIds())}`)), 20_000);
        const subscription = polled.onDidChange(() => {
          if (!check(listedIds())) return;
          subscription.dispose();
          clearTimeout(deadline);
          resolve();
        });
      });

    const made = createRun(path.join(tmp, 'elsewhere'), spec('moved'), { environment });
    const id = path.basename(made);
    fs.mkdirSync(runsDir, { recursive: true });
    const shown = listing('the run moved in', (ids) => ids.includes(id));
    fs.renameSync(made, path.join(runsDir, id)); // a terminal's mv
    await shown;

    const gone = listing('the run moved out gone', (ids) => !ids.includes(id));
    fs.renameSync(path.join(runsDir, id), path.join(tmp, 'elsewhere', id));
    await gone;
    assert.deepEqual(listedIds(), []);
  } finally {
    polled.dispose();
  }
});

test('stop and resume are delegated to the training controller', () => {
  const calls: string[] = [];
  registry.setActions({ stop: (id) => calls.push(`stop ${id}`), resume: (id) => calls.push(`resume ${id}`) });
  registry.stopRun('a');
  registry.resumeRun('b');
  assert.deepEqual(calls, ['stop a', 'resume b']);
});
