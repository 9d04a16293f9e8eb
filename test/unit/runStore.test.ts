import { test, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs';
import type { ResolvedSpec } from '../../src/core/spec/types';
import type { MetricRecord } from '../../src/protocol';
import { DiskRunSink, createRun, readSnapshot, writeSnapshot, type RunEnvironment } from '../../src/runs/store';
import { checkpointSource } from '../../src/runs/checkpointSource';
import {
  RunFileError,
  deleteRun,
  effectiveState,
  listRuns,
  readMetrics,
  readRun,
  readSpec,
  readStatus,
  updateRunMeta,
} from '../../src/runs/reader';
import { HEARTBEAT_TIMEOUT_MS, type RunStatusRecord } from '../../src/runs/layout';
import { storeSpec } from '../helpers/specs';

function makeSpec(name = 'retrieval', keepCheckpoints = 3): ResolvedSpec {
  return storeSpec(name, { keepCheckpoints });
}

const environment: RunEnvironment = {
  backend: { name: 'cpu', requested: 'cpu', version: tf.version.tfjs },
  versions: { tfjs: tf.version.tfjs },
  workers: 1,
  platform: `${process.platform}-${process.arch}`,
};

let root: string;
let runsDir: string;
let counter = 0;

before(async () => {
  await tf.setBackend('cpu');
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'model-lab-runs-'));
});
after(() => fs.rmSync(root, { recursive: true, force: true }));

/** A fresh runs dir per test, so tests do not see each other's runs. */
function freshRunsDir(): string {
  runsDir = path.join(root, `ws${++counter}`, '.model-lab', 'runs');
  return runsDir;
}

function entries(dir: string): string[] {
  return fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];
}

function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', '']);
  assert.equal(child.status, 0);
  return child.pid!;
}

test('createRun writes a complete queued run folder and nothing else', () => {
  const dir = freshRunsDir();
  const spec = makeSpec('my experiment/1');
  const runDir = createRun(dir, spec, { specFile: 'exp/a.lab.json', environment });

  assert.deepEqual(entries(dir), [path.basename(runDir)], 'no temp folder left behind');
  assert.match(path.basename(runDir), /^\d{8}-\d{6}-my-experiment-1$/);
  for (const file of ['run.json', 'spec.json', 'environment.json', 'status.json', 'metrics.jsonl']) {
    assert.ok(fs.existsSync(path.join(runDir, file)), `${file} exists`);
  }
  assert.deepEqual(readSpec(runDir), spec);
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(runDir, 'environment.json'), 'utf8')), environment);

  const run = readRun(runDir);
  assert.equal(run.state, 'queued');
  assert.equal(run.id, path.basename(runDir));
  assert.equal(run.name, run.id);
  assert.equal(run.experiment, 'my experiment/1');
  assert.equal(run.specFile, 'exp/a.lab.json');
  assert.equal(run.totalSteps, 100);
  assert.equal(run.step, 0);
  assert.deepEqual(run.tags, []);
  assert.equal(run.error, undefined);
});

test('createRun gives runs created in the same second distinct ids', () => {
  const dir = freshRunsDir();
  const ids = [1, 2, 3].map(() => path.basename(createRun(dir, makeSpec('same'), { environment })));
  assert.equal(new Set(ids).size, 3);
  assert.equal(listRuns(dir).length, 3);
});

test('createRun into an unwritable location fails with a clear error and leaves nothing', () => {
  const blocker = path.join(root, `a-file-${++counter}`);
  fs.writeFileSync(blocker, 'not a folder');
  const target = path.join(blocker, 'runs');
  assert.throws(
    () => createRun(target, makeSpec(), { environment }),
    (error: Error) => error.message.includes(`Cannot create a run in the folder "${target}"`),
  );
  assert.equal(fs.readFileSync(blocker, 'utf8'), 'not a folder');
});

test('createRun that fails half-way removes its temp folder', () => {
  const dir = freshRunsDir();
  const spec = makeSpec() as ResolvedSpec & { self?: unknown };
  spec.self = spec; // spec.json cannot be serialised: the build fails after the temp folder exists
  assert.throws(() => createRun(dir, spec, { environment }), /Cannot create a run in the folder/);
  assert.deepEqual(entries(dir), []);
  assert.deepEqual(listRuns(dir), []);
});

test('sink round trip: metrics, status, checkpoint tensors, optimizer state and loop state', async () => {
  const runDir = createRun(freshRunsDir(), makeSpec(), { environment });
  const sink = new DiskRunSink(runDir);
  sink.setState('running');

  const records: MetricRecord[] = [
    { step: 10, time: 120.5, values: { 'train/loss': 0.75 } },
    { step: 20, time: 250, values: { 'train/loss': 0.5, 'eval/id/l1': 0.25 } },
  ];
  sink.appendMetrics(records.slice(0, 1));
  sink.appendMetrics([...records.slice(1), { step: 30, time: 300, values: { 'train/loss': NaN } }]);
  sink.heartbeat(30);

  const kernel = tf.variable(tf.randomNormal([3, 4], 0, 1, 'float32', 1), true, 'layer0/kernel');
  const bias = tf.tensor1d([1.5, -2, 0.25, 8]);
  const counts = tf.tensor2d([[1, 2], [3, -4]], [2, 2], 'int32');
  const iterations = tf.scalar(30);
  const moment = tf.randomUniform([3, 4], -1, 1, 'float32', 2);
  await sink.saveCheckpoint({
    step: 30,
    weights: [
      { name: 'layer0/kernel', tensor: kernel },
      { name: 'layer0/bias', tensor: bias },
      { name: '2', tensor: counts }, // a numeric-looking name must keep its position
    ],
    optimizer: [
      { name: 'iter', tensor: iterations },
      { name: 'layer0/kernel/m', tensor: moment },
    ],
    loop: { lossSum: 1.25, lossCount: 3, notANumber: NaN },
  });

  const source = checkpointSource(runDir);
  assert.deepEqual(source.steps(), [30]);
  const loaded = await source.load(30);
  assert.equal(loaded.step, 30);
  assert.deepEqual(loaded.weights.map((w) => w.name), ['layer0/kernel', 'layer0/bias', '2']);
  assert.deepEqual(loaded.optimizer.map((w) => w.name), ['iter', 'layer0/kernel/m']);
  const originals = [kernel, bias, counts, iterations, moment];
  const reloaded = [...loaded.weights, ...loaded.optimizer].map((w) => w.tensor);
  for (let i = 0; i < originals.length; i++) {
    assert.equal(reloaded[i].dtype, originals[i].dtype);
    assert.deepEqual(reloaded[i].shape, originals[i].shape);
    assert.deepEqual(await reloaded[i].array(), await originals[i].array());
  }
  assert.equal(loaded.loop?.lossSum, 1.25);
  assert.equal(loaded.loop?.lossCount, 3);
  assert.ok(Number.isNaN(loaded.loop?.notANumber));
  tf.dispose([...originals, ...reloaded]);

  const { records: readBack, nextOffset } = readMetrics(runDir);
  assert.deepEqual(readBack.slice(0, 2), records);
  assert.ok(Number.isNaN(readBack[2].values['train/loss']), 'NaN survives as NaN');
  assert.equal(nextOffset, fs.statSync(path.join(runDir, 'metrics.jsonl')).size);
  assert.deepEqual(readMetrics(runDir, nextOffset).records, []);

  let run = readRun(runDir);
  assert.equal(run.state, 'running');
  assert.equal(run.step, 30);
  assert.equal(readStatus(runDir).pid, process.pid);

  sink.setState('failed', 'loss exploded');
  sink.close();
  run = readRun(runDir);
  assert.equal(run.state, 'failed');
  assert.equal(run.error, 'loss exploded');
  assert.throws(() => sink.appendMetrics(records), /closed/);
});

test('loading a missing checkpoint says which steps exist', async () => {
  const runDir = createRun(freshRunsDir(), makeSpec(), { environment });
  await assert.rejects(checkpointSource(runDir).load(5), (error: Error) => {
    return error instanceof RunFileError && /no checkpoint for step 5 \(available: none\)/.test(error.message);
  });
});

test('checkpoint retention keeps the newest keepCheckpoints and no temp folders', async () => {
  const runDir = createRun(freshRunsDir(), makeSpec('keep', 2), { environment });
  const sink = new DiskRunSink(runDir);
  for (let step = 10; step <= 50; step += 10) {
    const weight = tf.fill([4], step);
    await sink.saveCheckpoint({ step, weights: [{ name: 'w', tensor: weight }], optimizer: [] });
    weight.dispose();
  }
  sink.close();
  const source = checkpointSource(runDir);
  assert.deepEqual(source.steps(), [40, 50]);
  assert.deepEqual(entries(path.join(runDir, 'checkpoints')), ['step-00000040', 'step-00000050']);
  const latest = await source.load(50);
  assert.deepEqual(await latest.weights[0].tensor.array(), [50, 50, 50, 50]);
  assert.deepEqual(latest.optimizer, []);
  tf.dispose(latest.weights.map((w) => w.tensor));
});

test('a truncated last metrics line is skipped, not consumed, and repaired by the next writer', () => {
  const runDir = createRun(freshRunsDir(), makeSpec(), { environment });
  const metricsFile = path.join(runDir, 'metrics.jsonl');
  const sink = new DiskRunSink(runDir);
  sink.appendMetrics([
    { step: 1, time: 1, values: { a: 1 } },
    { step: 2, time: 2, values: { a: 2 } },
  ]);
  const full = JSON.stringify({ step: 3, time: 3, values: { a: 3 } }) + '\n';
  fs.appendFileSync(metricsFile, full.slice(0, 12)); // a kill in the middle of a write

  const first = readMetrics(runDir);
  assert.deepEqual(first.records.map((r) => r.step), [1, 2]);
  assert.equal(first.nextOffset, fs.statSync(metricsFile).size - 12, 'the fragment is not consumed');

  // A tailing reader picks the record up once the line is complete.
  fs.appendFileSync(metricsFile, full.slice(12));
  const second = readMetrics(runDir, first.nextOffset);
  assert.deepEqual(second.records.map((r) => r.step), [3]);

  // A complete record still lacking its newline is not consumed either (its write is not finished).
  fs.appendFileSync(metricsFile, JSON.stringify({ step: 4, time: 4, values: { a: 4 } }));
  assert.deepEqual(readMetrics(runDir, second.nextOffset), { records: [], nextOffset: second.nextOffset });
  fs.appendFileSync(metricsFile, '\n');

  // A new writer (resume) cuts a torn tail so its appends never glue onto it.
  sink.close();
  fs.appendFileSync(metricsFile, '{"step":5,"ti');
  fs.writeFileSync(path.join(runDir, '.tmp-status.json-1-abc'), '{"sta'); // a killed atomic write
  const resumed = new DiskRunSink(runDir);
  assert.ok(!fs.existsSync(path.join(runDir, '.tmp-status.json-1-abc')), 'stale temp files are removed');
  resumed.appendMetrics([{ step: 5, time: 5, values: { a: 5 } }]);
  resumed.close();
  assert.deepEqual(readMetrics(runDir).records.map((r) => r.step), [1, 2, 3, 4, 5]);
});

test('a corrupt metrics line in the middle is reported with file and line', () => {
  const runDir = createRun(freshRunsDir(), makeSpec(), { environment });
  const metricsFile = path.join(runDir, 'metrics.jsonl');
  const line = (step: number) => JSON.stringify({ step, time: step, values: { a: step } }) + '\n';
  fs.writeFileSync(metricsFile, line(1) + line(2) + '{"step":3,"ti\n' + line(4));

  assert.throws(
    () => readMetrics(runDir),
    (error: Error) =>
      error instanceof RunFileError && error.file === metricsFile && error.line === 3 && error.message.startsWith(`${metricsFile}:3:`),
  );
  // Line numbers stay absolute when reading from an offset.
  const offset = Buffer.byteLength(line(1));
  assert.throws(() => readMetrics(runDir, offset), (error: Error) => error instanceof RunFileError && error.line === 3);

  // A torn newline-terminated last line is tolerated.
  fs.writeFileSync(metricsFile, line(1) + line(2) + '{"step":3,"ti\n');
  assert.deepEqual(readMetrics(runDir).records.map((r) => r.step), [1, 2]);

  // Valid JSON of the wrong shape is corrupt too, even on the last line.
  fs.writeFileSync(metricsFile, line(1) + '{"step":"two","time":2,"values":{}}\n');
  assert.throws(() => readMetrics(runDir), (error: Error) => error instanceof RunFileError && error.line === 2 && /"step"/.test(error.message));
});

test('rewindTo drops the records an interrupted attempt wrote after the checkpoint', () => {
  const runDir = createRun(freshRunsDir(), makeSpec(), { environment });
  const sink = new DiskRunSink(runDir);
  sink.appendMetrics([10, 20, 30, 40].map((step) => ({ step, time: step, values: { a: step } })));
  const tailOffset = readMetrics(runDir).nextOffset;
  sink.rewindTo(20);
  sink.appendMetrics([30, 40, 50].map((step) => ({ step, time: step + 0.5, values: { a: step + 0.5 } })));
  sink.close();
  assert.deepEqual(
    readMetrics(runDir).records.map((r) => [r.step, r.values.a]),
    [[10, 10], [20, 20], [30, 30.5], [40, 40.5], [50, 50.5]],
  );
  // A reader tailing the old file is told to start over instead of reading from mid-line.
  assert.ok(fs.statSync(path.join(runDir, 'metrics.jsonl')).size > tailOffset);
  assert.equal(readMetrics(runDir, tailOffset).nextOffset, 0);
});

test('heartbeat writes the first progress at once and throttles the rest', () => {
  const runDir = createRun(freshRunsDir(), makeSpec(), { environment });
  const sink = new DiskRunSink(runDir);
  sink.heartbeat(1);
  assert.equal(readStatus(runDir).step, 1, 'first step after 0 is written immediately');
  assert.equal(readStatus(runDir).state, 'running', 'a beating queued run is running');
  sink.heartbeat(2);
  assert.equal(readStatus(runDir).step, 1, 'throttled within the interval');
  sink.close();
  assert.equal(readStatus(runDir).step, 2, 'close flushes the latest step');
});

test('a stale heartbeat or a dead owner shows as interrupted', () => {
  const runDir = createRun(freshRunsDir(), makeSpec(), { environment });
  const statusFile = path.join(runDir, 'status.json');
  const status: RunStatusRecord = {
    state: 'running',
    step: 42,
    totalSteps: 100,
    heartbeat: new Date(Date.now() - HEARTBEAT_TIMEOUT_MS - 5_000).toISOString(),
    pid: process.pid,
    hostname: os.hostname(),
  };
  fs.writeFileSync(statusFile, JSON.stringify(status));
  const run = readRun(runDir);
  assert.equal(run.state, 'interrupted');
  assert.equal(run.step, 42);
  assert.match(run.error ?? '', /stopped; last heartbeat/);

  const fresh = { ...status, heartbeat: new Date().toISOString() };
  fs.writeFileSync(statusFile, JSON.stringify(fresh));
  assert.equal(readRun(runDir).state, 'running');

  const dead = deadPid();
  assert.equal(effectiveState({ ...fresh, pid: dead }), 'interrupted', 'same host, pid gone');
  assert.equal(effectiveState({ ...fresh, state: 'queued', pid: dead }), 'interrupted');
  assert.equal(effectiveState({ ...status, state: 'queued' }), 'queued', 'a queued run does not beat');
  assert.equal(effectiveState({ ...fresh, pid: dead, hostname: 'another-machine' }), 'running', 'no pid check across hosts');
  assert.equal(effectiveState({ ...status, state: 'completed', pid: dead }), 'completed');
  assert.equal(effectiveState({ ...fresh, heartbeat: 'garbage' }), 'interrupted');
});

test('updateRunMeta renames, annotates and tags atomically; bad values are refused', () => {
  const runDir = createRun(freshRunsDir(), makeSpec(), { environment });
  updateRunMeta(runDir, { name: '  baseline  ', notes: 'first try', tags: ['a', 'b', 'a'] });
  const run = readRun(runDir);
  assert.equal(run.name, 'baseline');
  assert.equal(run.notes, 'first try');
  assert.deepEqual(run.tags, ['a', 'b']);
  assert.throws(() => updateRunMeta(runDir, { name: ' ' }), /non-empty string/);
  assert.throws(() => updateRunMeta(runDir, { tags: ['ok', ''] }), /non-empty strings/);
  assert.equal(readRun(runDir).name, 'baseline');
  assert.deepEqual(entries(runDir).filter((name) => name.startsWith('.tmp-')), []);
});

test('listRuns: newest first, skips temp folders, lists broken runs as failed; deleteRun removes', () => {
  const dir = freshRunsDir();
  const older = createRun(dir, makeSpec('older'), { environment });
  const newer = createRun(dir, makeSpec('newer'), { environment });
  // Same-second ids: make the creation times differ explicitly.
  const olderRun = JSON.parse(fs.readFileSync(path.join(older, 'run.json'), 'utf8'));
  olderRun.createdAt = '2020-01-01T00:00:00.000Z';
  fs.writeFileSync(path.join(older, 'run.json'), JSON.stringify(olderRun));
  const broken = createRun(dir, makeSpec('broken'), { environment });
  fs.rmSync(path.join(broken, 'spec.json'));
  fs.mkdirSync(path.join(dir, '.tmp-20990101-000000-half-built'));

  const runs = listRuns(dir);
  assert.deepEqual(runs.map((r) => r.dir).sort(), [older, newer, broken].sort());
  assert.equal(runs[runs.length - 1].dir, older);
  const brokenRun = runs.find((r) => r.dir === broken)!;
  assert.equal(brokenRun.state, 'failed');
  assert.match(brokenRun.error ?? '', /spec\.json: file is missing/);
  assert.equal(brokenRun.experiment, 'broken', 'what can be read is still shown');

  fs.writeFileSync(path.join(newer, 'status.json'), '{"state":');
  assert.match(readRun(newer).error ?? '', /status\.json: not valid JSON/);

  deleteRun(broken);
  assert.ok(!fs.existsSync(broken));
  assert.deepEqual(listRuns(dir).map((r) => r.dir).sort(), [older, newer].sort());
  assert.deepEqual(entries(dir).filter((n) => n.startsWith('.tmp-delete')), []);
  assert.throws(() => deleteRun(path.join(dir, '.tmp-20990101-000000-half-built')), /not a run folder/);
  assert.deepEqual(listRuns(path.join(root, 'no-such-dir')), []);
});

test('snapshots are written atomically and names cannot escape the folder', () => {
  const runDir = createRun(freshRunsDir(), makeSpec(), { environment });
  assert.equal(readSnapshot(runDir, 'attention'), undefined);
  writeSnapshot(runDir, 'attention', { step: 5, maps: [[0.5, 0.5]] });
  writeSnapshot(runDir, 'attention', { step: 6, maps: [[1, 0]] });
  assert.deepEqual(readSnapshot(runDir, 'attention'), { step: 6, maps: [[1, 0]] });
  assert.deepEqual(entries(path.join(runDir, 'snapshots')), ['attention.json']);
  assert.throws(() => writeSnapshot(runDir, '../escape', {}), /not allowed/);
});

test('a resuming writer ends a complete but unterminated last record with a newline instead of dropping it', () => {
  const runDir = createRun(freshRunsDir(), makeSpec(), { environment });
  const metricsFile = path.join(runDir, 'metrics.jsonl');
  fs.writeFileSync(metricsFile, JSON.stringify({ step: 1, time: 1, values: { a: 1 } })); // hand-edited, no newline
  const sink = new DiskRunSink(runDir);
  sink.appendMetrics([{ step: 2, time: 2, values: { a: 2 } }]);
  sink.close();
  assert.deepEqual(readMetrics(runDir).records.map((r) => r.step), [1, 2]);
});

test('the run duration (elapsedMs) is written with the status, kept by setState, and optional when read', () => {
  const runDir = createRun(freshRunsDir(), makeSpec(), { environment });
  assert.equal(readRun(runDir).elapsedMs, undefined, 'a queued run has no duration yet');
  const sink = new DiskRunSink(runDir);
  sink.heartbeat(1, 250.4);
  assert.equal(readStatus(runDir).elapsedMs, 250);
  sink.heartbeat(2, 900);
  sink.setState('completed');
  sink.close();
  assert.equal(readStatus(runDir).elapsedMs, 900, 'the final state keeps the duration');
  assert.equal(readRun(runDir).elapsedMs, 900, 'RunSummary exposes it');

  // A status written before the duration was recorded still reads, without one.
  const file = path.join(runDir, 'status.json');
  const { elapsedMs: _dropped, ...old } = JSON.parse(fs.readFileSync(file, 'utf8')) as RunStatusRecord;
  fs.writeFileSync(file, JSON.stringify(old));
  assert.equal(readStatus(runDir).elapsedMs, undefined);
  assert.equal(readRun(runDir).state, 'completed');
  assert.equal(readRun(runDir).elapsedMs, undefined);

  fs.writeFileSync(file, JSON.stringify({ ...old, elapsedMs: -5 }));
  assert.throws(() => readStatus(runDir), /status\.json.*"elapsedMs" should be a non-negative number/);
});
