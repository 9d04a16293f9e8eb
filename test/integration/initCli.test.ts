// Issue 22, item 6, from a terminal: `model-lab train` with a spec's `init` (the CLI bundle, a real
// worker thread: the worker answers the model's weight layout), `show` saying where the run
// started, and a bad `init.step` refused with exit 2 and a located message before any folder exists.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { test } from 'node:test';

const cli = join(__dirname, '..', '..', 'dist', 'cli.js');

function modelLab(args: string[], cwd: string) {
  const result = spawnSync(process.execPath, [cli, ...args], { cwd, encoding: 'utf8', env: { ...process.env, MODEL_LAB_BACKEND: 'wasm' } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

function experiment(cwd: string, name: string, fields: Record<string, unknown> = {}): string {
  const file = join(cwd, `${name}.lab.json`);
  writeFileSync(file, JSON.stringify({
    formatVersion: 1,
    kind: 'train',
    name,
    seed: 1,
    task: { name: 'contextual-retrieval', seqLen: 4 },
    model: { name: 'multi-head-attention', dim: 8, heads: 2 },
    objective: { name: 'l1' },
    training: { steps: 20, batchSize: 8, logEvery: 10, evalEvery: 20, evalBatches: 1, checkpointEvery: 10 },
    ...fields,
  }, null, 2));
  return `${name}.lab.json`;
}

test('model-lab train with init: starts from the run\'s newest checkpoint, show says so; a missing step is exit 2, located, nothing created', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'model-lab-init-cli-'));
  const parent = modelLab(['train', experiment(cwd, 'parent')], cwd);
  assert.equal(parent.code, 0, parent.stderr);
  const parentId = basename(parent.stdout.trim().split('\n').pop()!);

  const child = modelLab(['train', experiment(cwd, 'child', { init: { run: parentId } })], cwd);
  assert.equal(child.code, 0, child.stderr);
  const childDir = child.stdout.trim().split('\n').pop()!;
  assert.deepEqual(JSON.parse(readFileSync(join(childDir, 'run.json'), 'utf8')).init, { run: parentId, step: 20 });
  assert.match(modelLab(['show', childDir], cwd).stdout, new RegExp(`^init {7}continues run ${parentId} at step 20$`, 'm'));

  const runs = readdirSync(join(cwd, '.model-lab', 'runs')).sort();
  const bad = modelLab(['train', experiment(cwd, 'bad', { init: { run: parentId, step: 7 } })], cwd);
  assert.equal(bad.code, 2, bad.stderr);
  assert.match(bad.stderr, new RegExp(`bad\\.lab\\.json:\\d+:\\d+: /init/step: run '${parentId}' has no checkpoint at step 7: expected one of 10, 20`));
  assert.deepEqual(readdirSync(join(cwd, '.model-lab', 'runs')).sort(), runs);
});
