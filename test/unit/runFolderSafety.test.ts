// A run folder is untrusted input: it can come with a repository the user only opened. Every
// file a reader opens must be a regular file inside the folder, of bounded size (issue 18, item 1).
import { test, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import * as tf from '@tensorflow/tfjs';
import { loadCheckpoint, writeCheckpoint } from '../../src/runs/checkpoints';
import { RunFileError } from '../../src/runs/atomic';
import { readMetrics, readRun, readSpec } from '../../src/runs/reader';
import { readSnapshot, writeSnapshot } from '../../src/runs/store';
import { MAX_JSON_BYTES } from '../../src/runs/safeFiles';

let root: string;
let counter = 0;
/** A secret outside every run folder, 24 bytes: the size of the test checkpoint's weights. */
let secret: string;

before(async () => {
  await tf.setBackend('cpu');
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'model-lab-safety-'));
  secret = path.join(root, 'secret.bin');
  fs.writeFileSync(secret, Buffer.from('SECRET-BYTES-OF-A-USER!!'));
});

after(() => fs.rmSync(root, { recursive: true, force: true }));

/** A run folder holding one checkpoint at step 10: weights [2, 3] float32 (24 bytes), no optimizer state. */
async function runWithCheckpoint(): Promise<{ runDir: string; checkpointDir: string }> {
  const runDir = path.join(root, `run-${counter++}`);
  fs.mkdirSync(runDir);
  const weights = [{ name: 'w', tensor: tf.tensor2d([1, 2, 3, 4, 5, 6], [2, 3]) }];
  await writeCheckpoint(runDir, { step: 10, weights, optimizer: [] });
  tf.dispose(weights.map((w) => w.tensor));
  return { runDir, checkpointDir: path.join(runDir, 'checkpoints', 'step-00000010') };
}

/**
 * Forget the files' sha256 in checkpoint.json, as a crafted folder would (or one written before
 * hashes were recorded): the checks below must hold without them.
 */
function dropHashes(checkpointDir: string): void {
  const file = path.join(checkpointDir, 'checkpoint.json');
  const { sha256: _hashes, ...info } = JSON.parse(fs.readFileSync(file, 'utf8'));
  fs.writeFileSync(file, JSON.stringify(info));
}

function rewriteManifest(checkpointDir: string, edit: (manifest: { weightsManifest: { paths: string[]; weights: { shape: number[] }[] }[] }) => void): void {
  const file = path.join(checkpointDir, 'weights.json');
  const manifest = JSON.parse(fs.readFileSync(file, 'utf8'));
  edit(manifest);
  fs.writeFileSync(file, JSON.stringify(manifest));
  dropHashes(checkpointDir);
}

async function loadError(runDir: string): Promise<RunFileError> {
  const error = await loadCheckpoint(runDir, 10).then(
    (checkpoint) => {
      tf.dispose(checkpoint.weights.map((w) => w.tensor));
      return undefined;
    },
    (failure: unknown) => failure,
  );
  assert.ok(error instanceof RunFileError, `expected a located RunFileError, got ${String(error)}`);
  return error;
}

test('an intact checkpoint still loads', async () => {
  const { runDir } = await runWithCheckpoint();
  const checkpoint = await loadCheckpoint(runDir, 10);
  assert.deepEqual(Array.from(await checkpoint.weights[0].tensor.data()), [1, 2, 3, 4, 5, 6]);
  tf.dispose(checkpoint.weights.map((w) => w.tensor));
});

test("a manifest path that climbs out of the run folder is refused, and the file's bytes are never read", async () => {
  const { runDir, checkpointDir } = await runWithCheckpoint();
  const escape = path.relative(checkpointDir, secret); // ../../../secret.bin: same size as the weights
  rewriteManifest(checkpointDir, (manifest) => (manifest.weightsManifest[0].paths = [escape]));
  const error = await loadError(runDir);
  assert.equal(path.basename(error.file), 'weights.json');
  assert.match(error.detail, /paths\[0\] should be a plain file name/);
  assert.doesNotMatch(error.message, /SECRET/);
});

test('an absolute manifest path (/dev/zero) is refused', async () => {
  const { runDir, checkpointDir } = await runWithCheckpoint();
  rewriteManifest(checkpointDir, (manifest) => (manifest.weightsManifest[0].paths = ['/dev/zero']));
  assert.match((await loadError(runDir)).detail, /plain file name/);
});

test('weights replaced by a symlink to a file outside, or to /dev/zero, are refused', async () => {
  for (const target of [secret, '/dev/zero']) {
    const { runDir, checkpointDir } = await runWithCheckpoint();
    fs.rmSync(path.join(checkpointDir, 'weights.bin'));
    fs.symlinkSync(target, path.join(checkpointDir, 'weights.bin'));
    const error = await loadError(runDir);
    assert.equal(path.basename(error.file), 'weights.bin');
    assert.match(error.detail, /not a regular file|symbolic link/);
  }
});

test('weights whose size differs from the manifest, or a manifest claiming a huge tensor, are refused before reading', async () => {
  const grown = await runWithCheckpoint();
  fs.appendFileSync(path.join(grown.checkpointDir, 'weights.bin'), Buffer.alloc(4));
  dropHashes(grown.checkpointDir);
  assert.match((await loadError(grown.runDir)).detail, /need 24 bytes but weights.bin hold 28/);

  const huge = await runWithCheckpoint();
  rewriteManifest(huge.checkpointDir, (manifest) => (manifest.weightsManifest[0].weights[0].shape = [1e6, 1e6]));
  assert.match((await loadError(huge.runDir)).detail, /larger than a checkpoint may hold/);

  const negative = await runWithCheckpoint();
  rewriteManifest(negative.checkpointDir, (manifest) => (manifest.weightsManifest[0].weights[0].shape = [-2, -3]));
  assert.match((await loadError(negative.runDir)).detail, /bad shape entry -2/);
});

test('a checkpoints folder that is a symlink to a folder outside the run is not read', async () => {
  const { runDir } = await runWithCheckpoint();
  const elsewhere = path.join(root, `elsewhere-${counter++}`);
  fs.renameSync(path.join(runDir, 'checkpoints'), elsewhere);
  fs.symlinkSync(elsewhere, path.join(runDir, 'checkpoints'));
  const error = await loadError(runDir);
  assert.equal(path.basename(error.file), 'checkpoints');
  assert.match(error.detail, /symbolic link/);
});

/** A minimal run folder with the files the reader opens. */
function runFolder(): string {
  const runDir = path.join(root, `run-${counter++}`);
  fs.mkdirSync(runDir);
  const now = new Date().toISOString();
  const files: Record<string, unknown> = {
    'run.json': { formatVersion: 1, id: path.basename(runDir), name: 'r', experiment: 'r', createdAt: now, notes: '', tags: [] },
    'status.json': { state: 'completed', step: 5, totalSteps: 5, heartbeat: now, pid: 1, hostname: os.hostname() },
    'spec.json': { name: 'r', training: { steps: 5 } },
  };
  for (const [name, value] of Object.entries(files)) fs.writeFileSync(path.join(runDir, name), JSON.stringify(value));
  fs.writeFileSync(path.join(runDir, 'metrics.jsonl'), '{"step":1,"time":0,"values":{"loss":1}}\n');
  return runDir;
}

test('run files replaced by symlinks are reported, not followed', () => {
  const runDir = runFolder();
  fs.rmSync(path.join(runDir, 'spec.json'));
  fs.symlinkSync(secret, path.join(runDir, 'spec.json'));
  assert.throws(() => readSpec(runDir), (error: unknown) => error instanceof RunFileError && /symbolic link/.test(error.detail));

  fs.rmSync(path.join(runDir, 'metrics.jsonl'));
  fs.symlinkSync('/dev/zero', path.join(runDir, 'metrics.jsonl'));
  assert.throws(() => readMetrics(runDir), (error: unknown) => error instanceof RunFileError && /symbolic link/.test(error.detail));

  fs.rmSync(path.join(runDir, 'run.json'));
  fs.symlinkSync(secret, path.join(runDir, 'run.json'));
  const summary = readRun(runDir); // listed, as broken
  assert.equal(summary.state, 'failed');
  assert.match(summary.error ?? '', /run\.json: is a symbolic link/);
});

test('a FIFO in place of status.json does not block the reader', { skip: process.platform === 'win32' }, () => {
  const runDir = runFolder();
  fs.rmSync(path.join(runDir, 'status.json'));
  const made = spawnSync('mkfifo', [path.join(runDir, 'status.json')]);
  assert.equal(made.status, 0, 'mkfifo is needed for this test');
  const summary = readRun(runDir);
  assert.equal(summary.state, 'failed');
  assert.match(summary.error ?? '', /status\.json: is not a regular file/);
});

test('an oversized JSON file is refused from its size, without being read', () => {
  const runDir = runFolder();
  fs.truncateSync(path.join(runDir, 'spec.json'), MAX_JSON_BYTES + 1); // sparse: no disk used
  assert.throws(() => readSpec(runDir), (error: unknown) => error instanceof RunFileError && /more than the 32 MiB/.test(error.detail));
});

test('a snapshots folder that is a symlink out of the run is not read', () => {
  const runDir = runFolder();
  writeSnapshot(runDir, 'view', { ok: true });
  assert.deepEqual(readSnapshot(runDir, 'view'), { ok: true });
  const elsewhere = path.join(root, `snapshots-${counter++}`);
  fs.renameSync(path.join(runDir, 'snapshots'), elsewhere);
  fs.symlinkSync(elsewhere, path.join(runDir, 'snapshots'));
  assert.throws(() => readSnapshot(runDir, 'view'), (error: unknown) => error instanceof RunFileError && /symbolic link/.test(error.detail));
});
