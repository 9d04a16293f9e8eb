/**
 * End to end through real worker threads, the real training loop and the real run store:
 * a tiny contextual-retrieval model trains for a few dozen steps per run (wasm backend).
 * The worker is bundled once into a temp folder, like `npm run build` does for dist/worker.js.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { bundleWorker } from '../helpers/bundle';
import { parseSpec } from '../../src/core/spec/validate';
import type { ResolvedSpec } from '../../src/core/spec/types';
import { Engine, type EngineOptions, type TrainingJob } from '../../src/engine/engine';
import type { MetricRecord } from '../../src/protocol';
import { checkpointSource } from '../../src/runs/checkpointSource';
import { readMetrics, readRun } from '../../src/runs/reader';
import { createRun } from '../../src/runs/store';

const root = path.resolve(__dirname, '../..');
const wasmDir = path.join(root, 'node_modules/@tensorflow/tfjs-backend-wasm/dist');
let tmp: string;
let workerScript: string;
let runsDir: string;

function tinySpec(name: string, steps: number): ResolvedSpec {
  const text = JSON.stringify({
    formatVersion: 1,
    kind: 'train',
    name,
    seed: 1,
    task: { name: 'contextual-retrieval', seqLen: 4 },
    model: { name: 'multi-head-attention', dim: 8, heads: 2 },
    objective: { name: 'l1' },
    training: { steps, batchSize: 8, logEvery: 5, evalEvery: 15, evalBatches: 1, checkpointEvery: 10, keepCheckpoints: 5 },
  });
  const { spec, problems } = parseSpec(text, `${name}.lab.json`);
  assert.ok(spec, `test spec is invalid: ${JSON.stringify(problems)}`);
  return spec;
}

function newRun(name: string, steps: number): string {
  return createRun(runsDir, tinySpec(name, steps), {
    environment: { backend: { name: 'wasm', requested: 'wasm', version: 'n/a' }, versions: {}, workers: 1, platform: 'test' },
  });
}

/** Everything the engines of this file logged. */
const logs: string[] = [];

function newEngine(overrides: Partial<EngineOptions> = {}): Engine {
  const log = (level: string, message: string) => logs.push(`${level}: ${message}`);
  return new Engine({ workerScript, workers: 1, backend: 'wasm', wasmDir, log, ...overrides });
}

/** Resolves with the first progress report of a job. */
function firstProgress(job: TrainingJob): Promise<number> {
  return new Promise((resolve) => job.onProgress((step) => resolve(step)));
}

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'model-lab-engine-'));
  runsDir = path.join(tmp, 'runs');
  workerScript = path.join(tmp, 'worker.js');
  await bundleWorker('src/engine/worker.ts', workerScript);
});

after(() => fs.rmSync(tmp, { recursive: true, force: true }));

// A broken cancel or a starved message loop would otherwise hang on the 5000-step runs.
describe('Engine', { timeout: 120_000 }, () => {
  it('trains a run to completion in a worker and records it on disk', async () => {
    const engine = newEngine();
    logs.length = 0;
    try {
      const runDir = newRun('complete', 30);
      const job = engine.startTraining(runDir, false);
      const reports: Array<{ step: number; totalSteps: number; records: MetricRecord[] }> = [];
      job.onProgress(() => {
        throw new Error('a faulty listener');
      });
      job.onProgress((step, totalSteps, records) => reports.push({ step, totalSteps, records }));

      assert.deepEqual(await job.done, { state: 'completed' });
      assert.equal(readRun(runDir).state, 'completed');
      assert.equal(readRun(runDir).step, 30);

      const { records } = readMetrics(runDir);
      const lossSteps = records.filter((r) => 'train/loss' in r.values).map((r) => r.step);
      assert.deepEqual(lossSteps, [5, 10, 15, 20, 25, 30]);
      assert.ok(records.every((r) => Object.values(r.values).every(Number.isFinite)));
      assert.ok(records.some((r) => 'eval/train/l1' in r.values), 'evaluation metrics are recorded');

      // Progress carries exactly what went to metrics.jsonl.
      assert.deepEqual(reports.flatMap((r) => r.records), records);
      assert.ok(reports.every((r) => r.totalSteps === 30));
      assert.equal(reports.at(-1)?.step, 30);

      const environment = JSON.parse(fs.readFileSync(path.join(runDir, 'environment.json'), 'utf8'));
      assert.equal(environment.backend.name, 'wasm');
      assert.equal(environment.workers, 1);
      assert.equal(environment.versions['model-lab'], '0.1.0');
      assert.equal(environment.versions['@tensorflow/tfjs'], '4.22.0');
      assert.deepEqual(await engine.backendInfo(), environment.backend);
    } finally {
      await engine.dispose();
    }
    assert.ok(logs.some((line) => /progress listener .* failed: a faulty listener/.test(line)), 'listener errors are logged');
    assert.ok(!logs.some((line) => /did not stop|crashed|exited/.test(line)), `the worker stopped cleanly:\n${logs.join('\n')}`);
  });

  it('queues a second job under a limit of one worker, and cancels a running job mid-way', async () => {
    const engine = newEngine();
    try {
      const longRun = newRun('long', 5000);
      const shortRun = newRun('short', 20);
      const first = engine.startTraining(longRun, false);
      const second = engine.startTraining(shortRun, false);
      let secondStarted = false;
      second.onProgress(() => (secondStarted = true));

      const step = await firstProgress(first);
      assert.ok(step < 5000);
      assert.equal(readRun(shortRun).state, 'queued', 'the second run waits for the only worker');
      assert.equal(secondStarted, false);

      first.cancel();
      assert.deepEqual(await first.done, { state: 'cancelled' });
      const cancelled = readRun(longRun);
      assert.equal(cancelled.state, 'cancelled');
      assert.ok(cancelled.step > 0 && cancelled.step < 5000, `stopped mid-way, at step ${cancelled.step}`);
      assert.ok(readMetrics(longRun).records.length > 0, 'metrics stay readable');
      assert.equal(checkpointSource(longRun).steps().at(-1), cancelled.step, 'a checkpoint is kept where it stopped');

      assert.deepEqual(await second.done, { state: 'completed' });
      assert.ok(secondStarted);
      assert.equal(readRun(shortRun).state, 'completed');
    } finally {
      await engine.dispose();
    }
  });

  it('cancels a queued job before it starts', async () => {
    const engine = newEngine();
    try {
      const running = engine.startTraining(newRun('running', 5000), false);
      const queuedRun = newRun('queued', 20);
      const queued = engine.startTraining(queuedRun, false);
      queued.cancel();
      assert.deepEqual(await queued.done, { state: 'cancelled' });
      assert.equal(readRun(queuedRun).state, 'cancelled');
      assert.equal(readMetrics(queuedRun).records.length, 0, 'it never trained');
      running.cancel();
      assert.equal((await running.done).state, 'cancelled');
    } finally {
      await engine.dispose();
    }
  });

  it('runs two jobs at once with two workers', async () => {
    const engine = newEngine({ workers: 2 });
    try {
      const a = engine.startTraining(newRun('parallel-a', 5000), false);
      const b = engine.startTraining(newRun('parallel-b', 5000), false);
      await Promise.all([firstProgress(a), firstProgress(b)]);
      a.cancel();
      b.cancel();
      assert.deepEqual(await Promise.all([a.done, b.done]), [{ state: 'cancelled' }, { state: 'cancelled' }]);
    } finally {
      await engine.dispose();
    }
  });

  it('resumes a cancelled run from its last checkpoint', async () => {
    const engine = newEngine();
    try {
      const runDir = newRun('resume', 40);
      const job = engine.startTraining(runDir, false);
      await firstProgress(job);
      job.cancel();
      await job.done;
      const stoppedAt = readRun(runDir).step;
      assert.ok(stoppedAt < 40);

      const resumed = engine.startTraining(runDir, true);
      const steps: number[] = [];
      resumed.onProgress((step) => steps.push(step));
      assert.deepEqual(await resumed.done, { state: 'completed' });
      assert.ok(steps[0] > stoppedAt, `resumed after step ${stoppedAt}, first report at ${steps[0]}`);
      const lossSteps = readMetrics(runDir).records.filter((r) => 'train/loss' in r.values).map((r) => r.step);
      assert.deepEqual(lossSteps, [5, 10, 15, 20, 25, 30, 35, 40], 'no step logged twice or missing');
    } finally {
      await engine.dispose();
    }
  });

  it('opens an inference session and answers example, steps and load requests', async () => {
    const engine = newEngine();
    try {
      const runDir = newRun('inspect', 20);
      assert.equal((await engine.startTraining(runDir, false).done).state, 'completed');

      const session = await engine.openSession(runDir);
      assert.equal(session.step, 20);
      assert.deepEqual(session.steps, [10, 20]);
      const example = await session.request('example', { split: 'train', index: 3 });
      assert.equal(example.step, 20);
      assert.equal(example.index, 3);
      assert.ok(Array.isArray(example.output));

      assert.deepEqual(await session.request('steps', {}), [10, 20]);
      assert.deepEqual(await session.request('load', { step: 10 }), { step: 10 });
      assert.equal(session.step, 10);
      const earlier = await session.request('example', { split: 'train', index: 3 });
      assert.equal(earlier.step, 10);
      assert.deepEqual(earlier.inputs, example.inputs, 'same example, other weights');
      assert.notDeepEqual(earlier.output, example.output);

      await assert.rejects(session.request('example', { split: 'nope', index: 0 }), /unknown split 'nope'/);
      await assert.rejects(session.request('load', { step: 7 }), /No checkpoint at step 7/);
      session.close();
      await assert.rejects(session.request('steps', {}), /closed/);
      await assert.rejects(engine.openSession(runDir, 5), /No checkpoint at step 5/);
    } finally {
      await engine.dispose();
    }
  });

  it('a session on a run with no checkpoint yet is refused without an error in the log', async () => {
    const engine = newEngine();
    try {
      const runDir = newRun('no-checkpoint-yet', 20);
      const logged = logs.length;
      await assert.rejects(engine.openSession(runDir), /No checkpoint saved yet/);
      const errors = logs.slice(logged).filter((line) => line.startsWith('error:'));
      assert.deepEqual(errors, [], 'views open sessions early in every run: that is not an error');
    } finally {
      await engine.dispose();
    }
  });

  it('answers session requests while the same worker trains', async () => {
    const engine = newEngine();
    try {
      const trained = newRun('inspect-busy', 10);
      await engine.startTraining(trained, false).done;
      const busyRun = newRun('busy', 5000);
      const job = engine.startTraining(busyRun, false);
      let finished = false;
      void job.done.then(() => (finished = true));
      await firstProgress(job);
      const session = await engine.openSession(trained);
      const example = await session.request('example', { split: 'ood', index: 0 });
      assert.equal(example.split, 'ood');
      assert.equal(finished, false, 'the request was answered between training steps');
      assert.equal(readRun(busyRun).state, 'running');
      job.cancel();
      await job.done;
    } finally {
      await engine.dispose();
    }
  });

  it('fails the job and the run when the worker dies', async () => {
    // A worker that says ready and then exits as soon as it gets a job (like an out-of-memory kill).
    const crashing = path.join(tmp, 'crashing-worker.js');
    fs.writeFileSync(
      crashing,
      `const { parentPort } = require('node:worker_threads');
       parentPort.postMessage({ kind: 'notification', method: 'ready', params: { backend: { name: 'cpu', requested: 'cpu', version: 'x' } } });
       parentPort.on('message', (m) => { if (m.method === 'train') process.exit(7); });`,
    );
    const engine = newEngine({ workerScript: crashing });
    try {
      const runDir = newRun('crash', 20);
      assert.deepEqual(await engine.startTraining(runDir, false).done, { state: 'failed', error: 'worker exited with code 7' });
      const run = readRun(runDir);
      assert.equal(run.state, 'failed');
      assert.equal(run.error, 'worker exited with code 7');

      // The engine replaces the dead worker for the next job.
      const next = newRun('after-crash', 20);
      assert.equal((await engine.startTraining(next, false).done).state, 'failed');
    } finally {
      await engine.dispose();
    }
  });

  it('reports a run that cannot be trained as failed, without a stack trace', async () => {
    const engine = newEngine();
    try {
      const runDir = newRun('broken', 20);
      const specFile = path.join(runDir, 'spec.json');
      const spec = JSON.parse(fs.readFileSync(specFile, 'utf8'));
      spec.model.heads = 3; // does not divide dim 8
      fs.writeFileSync(specFile, JSON.stringify(spec));
      const outcome = await engine.startTraining(runDir, false).done;
      assert.equal(outcome.state, 'failed');
      assert.ok(outcome.error && !/\n\s+at /.test(outcome.error), `no stack trace in: ${outcome.error}`);
      assert.equal(readRun(runDir).state, 'failed');
    } finally {
      await engine.dispose();
    }
  });

  it('dispose (window reload or close) stops a running job cleanly: the run ends interrupted, resumable', async () => {
    const engine = newEngine();
    logs.length = 0;
    const runDir = newRun('disposed', 5000);
    const job = engine.startTraining(runDir, false);
    await firstProgress(job);
    await engine.dispose();
    assert.deepEqual(await job.done, { state: 'cancelled' });
    const stopped = readRun(runDir);
    assert.equal(stopped.state, 'interrupted');
    assert.ok(checkpointSource(runDir).steps().includes(stopped.step), 'a checkpoint at the step it stopped');
    assert.ok(!logs.some((line) => /did not stop/.test(line)), logs.join('\n'));
    assert.throws(() => engine.startTraining(runDir, true), /shut down/);
  });

  it("reports the worker's backend, with the reason for a fallback", async () => {
    const engine = newEngine({ wasmDir: path.join(tmp, 'no-wasm-here') });
    try {
      const info = await engine.backendInfo();
      assert.equal(info.name, 'cpu');
      assert.equal(info.requested, 'wasm');
      assert.match(info.fallbackReason ?? '', /files are missing/);
    } finally {
      await engine.dispose();
    }
  });

  it('refuses a worker script that does not exist', () => {
    assert.throws(() => newEngine({ workerScript: path.join(tmp, 'missing.js') }), /does not exist/);
  });
});
