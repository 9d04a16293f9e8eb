/**
 * What a resume starts from: checkpoints carry a sha256 per file (checked on load), damaged ones
 * are skipped newest first with a warning, and rewinding drops later checkpoints and records.
 */
import { test, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { listCheckpointSteps, loadCheckpoint, loadCheckpointToResume } from '../../src/runs/checkpoints';
import { RunFileError, readMetrics } from '../../src/runs/reader';
import { DiskRunSink, createRun } from '../../src/runs/store';
import { storeSpec } from '../helpers/specs';

const spec = storeSpec('resume', { keepCheckpoints: 10 });

let root: string;
let counter = 0;
before(async () => {
  await tf.setBackend('cpu');
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'model-lab-resume-'));
});
after(() => fs.rmSync(root, { recursive: true, force: true }));

/** A run with checkpoints at `steps` (weights filled with the step) and one record per 10 steps up to the last. */
async function runWithCheckpoints(steps: number[]): Promise<string> {
  const runDir = createRun(path.join(root, `runs${++counter}`), spec, {
    environment: { backend: { name: 'cpu', requested: 'cpu', version: tf.version.tfjs }, versions: {}, workers: 1, platform: 'test' },
  });
  const sink = new DiskRunSink(runDir);
  for (let step = 10; step <= steps[steps.length - 1]; step += 10) {
    sink.appendMetrics([{ step, time: step, values: { loss: 1 / step } }]);
    if (!steps.includes(step)) continue;
    const weight = tf.fill([64], step);
    const iterations = tf.scalar(step, 'int32');
    await sink.saveCheckpoint({ step, weights: [{ name: 'w', tensor: weight }], optimizer: [{ name: 'iter', tensor: iterations }], loop: { lossCount: 0 } });
    tf.dispose([weight, iterations]);
  }
  sink.close();
  return runDir;
}

const checkpointFile = (runDir: string, step: number, name: string) =>
  path.join(runDir, 'checkpoints', `step-${String(step).padStart(8, '0')}`, name);

function flipByte(file: string, at: number): void {
  const bytes = fs.readFileSync(file);
  bytes[at] ^= 0x01;
  fs.writeFileSync(file, bytes);
}

async function weightOf(checkpoint: Awaited<ReturnType<typeof loadCheckpoint>> | undefined): Promise<number | undefined> {
  if (!checkpoint) return undefined;
  const value = (await checkpoint.weights[0].tensor.data())[0];
  tf.dispose([...checkpoint.weights, ...checkpoint.optimizer].map((named) => named.tensor));
  return value;
}

test('a checkpoint records a sha256 per file and refuses content that changed; older ones without hashes load', async () => {
  const runDir = await runWithCheckpoints([10, 20]);
  const info = JSON.parse(fs.readFileSync(checkpointFile(runDir, 10, 'checkpoint.json'), 'utf8'));
  assert.deepEqual(Object.keys(info.sha256).sort(), ['optimizer.bin', 'optimizer.json', 'weights.bin', 'weights.json']);
  for (const digest of Object.values(info.sha256)) assert.match(digest as string, /^[0-9a-f]{64}$/);
  assert.equal(await weightOf(await loadCheckpoint(runDir, 10)), 10);

  flipByte(checkpointFile(runDir, 10, 'weights.bin'), 4); // still 64 float32s: only the hash tells
  await assert.rejects(loadCheckpoint(runDir, 10), (error) => error instanceof RunFileError && /weights\.bin: .*sha256.*damaged/.test(error.message));

  // Written before hashes were recorded: loads as before.
  const older = checkpointFile(runDir, 20, 'checkpoint.json');
  const { sha256: _dropped, ...withoutHashes } = JSON.parse(fs.readFileSync(older, 'utf8'));
  fs.writeFileSync(older, JSON.stringify(withoutHashes));
  assert.equal(await weightOf(await loadCheckpoint(runDir, 20)), 20);
});

test('resume takes the newest checkpoint that loads, skipping damaged ones with a warning; an asked-for step must load', async () => {
  const runDir = await runWithCheckpoints([10, 20, 30]);
  flipByte(checkpointFile(runDir, 30, 'optimizer.bin'), 0);
  fs.rmSync(checkpointFile(runDir, 20, 'weights.json')); // incomplete (as a copy cut short leaves it)
  const warnings: string[] = [];
  const warn = (message: string) => warnings.push(message);

  assert.equal(await weightOf(await loadCheckpointToResume(runDir, undefined, warn)), 10);
  assert.equal(warnings.length, 2);
  assert.match(warnings[0], /checkpoint at step 30 cannot be used \(.*optimizer\.bin.*\); trying the one before it/);
  assert.match(warnings[1], /checkpoint at step 20 cannot be used \(.*weights\.json/);

  await assert.rejects(loadCheckpointToResume(runDir, 30, warn), /optimizer\.bin/);
  assert.equal(await weightOf(await loadCheckpointToResume(runDir, 10, warn)), 10);

  flipByte(checkpointFile(runDir, 10, 'weights.json'), 2);
  warnings.length = 0;
  assert.equal(await loadCheckpointToResume(runDir, undefined, warn), undefined, 'none loads: start again from 0');
  assert.match(warnings.at(-1) ?? '', /starts again from step 0/);
});

test('rewinding drops the later checkpoints, then the later records; to 0 drops them all', async () => {
  const runDir = await runWithCheckpoints([10, 20, 30]);
  const sink = new DiskRunSink(runDir);
  sink.rewindTo(10);
  assert.deepEqual(listCheckpointSteps(runDir), [10]);
  assert.deepEqual(readMetrics(runDir).records.map((r) => r.step), [10]);
  sink.rewindTo(0);
  assert.deepEqual(listCheckpointSteps(runDir), []);
  assert.deepEqual(readMetrics(runDir).records, []);
  sink.close();
});
