/**
 * kill -9 in the middle of a run: everything on disk must still be readable, every checkpoint
 * present must load, and the run must show as 'interrupted'.
 */
import { test, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import * as readline from 'node:readline';
import * as tf from '@tensorflow/tfjs';
import { checkpointSource } from '../../src/runs/checkpointSource';
import { readMetrics, readRun } from '../../src/runs/reader';
import { DiskRunSink } from '../../src/runs/store';

const CHILD = path.join(__dirname, '..', 'fixtures', 'runStoreKillChild.ts');
const KEEP = 2;

let root: string;
before(async () => {
  await tf.setBackend('cpu');
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'model-lab-kill-'));
});
after(() => fs.rmSync(root, { recursive: true, force: true }));

/**
 * Start the writer, wait for `checkpoints` saved checkpoints, wait `delayMs` more (so the kill
 * lands at a different point of the write cycle), SIGKILL it and wait until it is reaped.
 */
async function runAndKill(runsDir: string, checkpoints: number, delayMs: number): Promise<string> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, runsDir, String(KEEP)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));

  let runDir: string | undefined;
  let saved = 0;
  const lines = readline.createInterface({ input: child.stdout });
  const timeout = setTimeout(() => child.kill('SIGKILL'), 60_000);
  try {
    for await (const line of lines) {
      if (line.startsWith('RUN ')) runDir = line.slice(4);
      if (line.startsWith('CHECKPOINT ') && ++saved >= checkpoints) break;
    }
  } finally {
    clearTimeout(timeout);
  }
  assert.ok(runDir && saved >= checkpoints, `the writer did not get going: ${stderr}`);
  await new Promise((resolve) => setTimeout(resolve, delayMs));
  child.kill('SIGKILL');
  assert.equal(await exited, 'SIGKILL');
  return runDir;
}

async function assertConsistentAfterKill(runDir: string): Promise<void> {
  // Metrics: readable, and a contiguous prefix of what the writer appended.
  const { records } = readMetrics(runDir);
  assert.ok(records.length >= 2 * 5, 'metrics of the steps before the kill are there');
  records.forEach((record, i) => {
    const step = Math.floor(i / 2) + 1;
    assert.equal(record.step, step, `record ${i} belongs to step ${step}`);
    if (i % 2 === 0) assert.equal(record.values['train/loss'], 1 / step);
    else assert.equal(record.values['eval/ood/l1'], 3 / step);
  });

  // Checkpoints: every one present loads completely, and retention held (one extra may exist
  // if the kill came between the rename of a new checkpoint and the removal of the oldest).
  const source = checkpointSource(runDir);
  const steps = source.steps();
  assert.ok(steps.length >= 1 && steps.length <= KEEP + 1, `checkpoints kept: ${steps.join(', ')}`);
  const lastMetricStep = records[records.length - 1].step;
  for (const step of steps) {
    assert.ok(step <= lastMetricStep, 'no checkpoint is ahead of the metrics');
    const checkpoint = await source.load(step);
    const [weight] = checkpoint.weights;
    const [iterations, moment] = checkpoint.optimizer;
    assert.equal(weight.name, 'layer/kernel');
    const weightValues = await weight.tensor.data();
    const momentValues = await moment.tensor.data();
    assert.equal(weightValues.length, 200_000);
    assert.ok(weightValues.every((v) => v === step), `weights of step ${step} are intact`);
    assert.ok(momentValues.every((v) => v === -step), `optimizer state of step ${step} is intact`);
    assert.equal((await iterations.tensor.data())[0], step);
    assert.deepEqual(checkpoint.loop, { step });
    tf.dispose([...checkpoint.weights, ...checkpoint.optimizer].map((named) => named.tensor));
  }

  const run = readRun(runDir);
  assert.equal(run.state, 'interrupted');
  assert.ok(run.step >= 1);

  // A new owner (resume) cleans up and appends without creating a corrupt middle line.
  const sink = new DiskRunSink(runDir);
  sink.appendMetrics([{ step: lastMetricStep + 1, time: 0, values: { 'train/loss': 0 } }]);
  sink.close();
  assert.equal(readMetrics(runDir).records.length, records.length + 1);
  const leftovers = fs.readdirSync(path.join(runDir, 'checkpoints')).filter((name) => name.startsWith('.tmp-'));
  assert.deepEqual(leftovers, [], 'temp checkpoint folders of the killed writer are removed');
}

test('a run killed with SIGKILL between writes stays readable and shows as interrupted', async () => {
  const runsDir = path.join(root, 'a', 'runs');
  const runDir = await runAndKill(runsDir, 3, 0);
  await assertConsistentAfterKill(runDir);
});

test('a run killed with SIGKILL a little later (likely mid-checkpoint) stays readable', async () => {
  const runsDir = path.join(root, 'b', 'runs');
  const runDir = await runAndKill(runsDir, 3, 5 + Math.floor(Math.random() * 40));
  await assertConsistentAfterKill(runDir);
  assert.deepEqual(
    fs.readdirSync(runsDir).filter((name) => name.startsWith('.tmp-')),
    [],
    'run creation left no temp folder',
  );
});
