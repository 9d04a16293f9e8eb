// Issue 20, item 3: one metric path. A job of this window feeds the dashboard from its progress
// messages: the worker sends the records it appended with their byte offsets in metrics.jsonl,
// the host's run registry appends them and moves its read cursor past them. Real worker thread,
// real training loop and run store (a tiny retrieval model, wasm), launched through the one
// launch path (src/app/launch.ts) and followed by the registry as the training controller does;
// the "dashboard" is what src/host/panels/dashboardPanel.ts does with the registry: readMetrics
// on ready, then onMetrics. While the job trains, this thread opens none of metrics.jsonl,
// run.json or status.json, and the records that reach the dashboard are exactly the file's.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import nodeFs from 'node:fs'; // the module object itself, which the spy patches (the namespace import is read-only)
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { launchRun } from '../../src/app/launch';
import { Engine } from '../../src/engine/engine';
import { RunRegistry } from '../../src/host/runs/runRegistry';
import type { MetricRecord } from '../../src/protocol';
import { METRICS_FILE, RUN_FILE, STATUS_FILE } from '../../src/runs/layout';
import { readMetrics } from '../../src/runs/reader';
import { bundleWorker } from '../helpers/bundle';

const root = path.resolve(__dirname, '../..');
const wasmDir = path.join(root, 'node_modules/@tensorflow/tfjs-backend-wasm/dist');
let tmp: string;
let workerScript: string;

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'model-lab-job-metrics-'));
  workerScript = path.join(tmp, 'worker.js');
  await bundleWorker('src/engine/worker.ts', workerScript);
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Every file of a run folder this thread opens, by name, while `counting` is on. */
function spyOnRunFileOpens(runsDir: string): { opened: string[]; counting: { on: boolean }; restore: () => void } {
  const opened: string[] = [];
  const counting = { on: false };
  const original = nodeFs.openSync;
  const originalRead = nodeFs.readFileSync;
  const note = (file: unknown) => {
    if (counting.on && typeof file === 'string' && file.startsWith(runsDir)) opened.push(path.basename(file));
  };
  (nodeFs as { openSync: unknown }).openSync = (file: fs.PathLike, ...rest: unknown[]) => {
    note(file);
    return (original as (...args: unknown[]) => number)(file, ...rest);
  };
  (nodeFs as { readFileSync: unknown }).readFileSync = (file: fs.PathOrFileDescriptor, ...rest: unknown[]) => {
    note(file);
    return (originalRead as (...args: unknown[]) => unknown)(file, ...rest);
  };
  return {
    opened,
    counting,
    restore: () => {
      (nodeFs as { openSync: unknown }).openSync = original;
      (nodeFs as { readFileSync: unknown }).readFileSync = originalRead;
    },
  };
}

test("a job of this window: its metrics reach the dashboard from the progress messages, without reading metrics.jsonl, run.json or status.json", { timeout: 120_000 }, async () => {
  const specFile = path.join(tmp, 'tiny.lab.json');
  fs.writeFileSync(specFile, JSON.stringify({
    formatVersion: 1,
    kind: 'train',
    name: 'tiny',
    seed: 1,
    task: { name: 'contextual-retrieval', seqLen: 4 },
    model: { name: 'multi-head-attention', dim: 8, heads: 2 },
    objective: { name: 'l1' },
    training: { steps: 30, batchSize: 8, logEvery: 5, evalEvery: 15, evalBatches: 1, checkpointEvery: 10, keepCheckpoints: 5 },
  }));
  const runsDir = path.join(tmp, 'runs');
  const metricsReads: string[] = [];
  const registry = new RunRegistry({
    pollIntervalMs: 0,
    progressThrottleMs: 0,
    metricsReader: (runDir, fromOffset) => {
      metricsReads.push(`${path.basename(runDir)}@${fromOffset}`);
      return readMetrics(runDir, fromOffset);
    },
  });
  const engine = new Engine({ workerScript, workers: 1, backend: 'wasm', wasmDir });
  const spy = spyOnRunFileOpens(runsDir);
  try {
    const { runDir, job } = await launchRun(engine, { specFile, runsDir, workers: 1 });
    const runId = path.basename(runDir);
    registry.trackJob(runDir, job, false);

    // The dashboard opens: the full state first, then every new batch.
    const shown: MetricRecord[] = [...registry.readMetrics(runId)];
    registry.onMetrics((id, records) => id === runId && shown.push(...records));
    metricsReads.length = 0;
    spy.counting.on = true;

    const seen: { step: number; shownCount: number; registryStep?: number; elapsedMs?: number; lastTime?: number }[] = [];
    job.onProgress((step, _total, records) => {
      const run = registry.readRun(runId);
      seen.push({ step, shownCount: shown.length, registryStep: run?.step, elapsedMs: run?.elapsedMs, lastTime: records.at(-1)?.time });
    });
    // Stop counting before the registry's own end-of-job catch-up (it re-reads the final state once).
    const lastProgressDone = new Promise<void>((resolve) => job.onProgress((step) => step === 30 && resolve()));
    await lastProgressDone;
    spy.counting.on = false;
    const readsWhileTraining = [...metricsReads];
    const outcome = await job.done;
    assert.equal(outcome.state, 'completed');

    assert.deepEqual(readsWhileTraining, [], 'the registry read none of the job\'s records back from metrics.jsonl');
    assert.deepEqual(spy.opened.filter((name) => [METRICS_FILE, RUN_FILE, STATUS_FILE].includes(name)), [], 'no run-folder file opened per progress message');
    assert.ok(seen.length >= 6, `one progress message per logged step, got ${seen.length}`);
    for (const progress of seen) {
      assert.equal(progress.registryStep, progress.step, 'the registry\'s step is the message\'s');
      assert.equal(progress.elapsedMs, progress.lastTime, 'the training time comes with the message');
    }
    assert.ok(seen.every((progress, i) => i === 0 || progress.shownCount > seen[i - 1].shownCount), 'every message brought records');

    const onDisk = readMetrics(runDir).records;
    assert.equal(onDisk.length, 8, '6 loss and 2 evaluation records');
    assert.deepEqual(shown, onDisk, 'the dashboard got exactly the file\'s records, once each, in order');
    assert.deepEqual(registry.readMetrics(runId), onDisk);
    assert.equal(registry.readRun(runId)?.state, 'completed');
  } finally {
    spy.restore();
    registry.dispose();
    await engine.dispose();
  }
});
