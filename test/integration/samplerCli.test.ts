/**
 * `model-lab sample` on a sampler run trained by the CLI bundle (dist/cli.js, built by `npm test`
 * first): n samples with their log-weights, the same seed the same samples, another seed others,
 * a chosen checkpoint step, text output, and located errors for a missing step and a bad --n.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..', '..');
const cli = join(root, 'dist', 'cli.js');

function modelLab(args: string[], cwd: string) {
  const result = spawnSync(process.execPath, [cli, ...args], { cwd, encoding: 'utf8', env: { ...process.env, MODEL_LAB_BACKEND: 'wasm' } });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

test('model-lab sample prints seeded samples and log-weights of a checkpoint', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'model-lab-sampler-'));
  const file = join(cwd, 'tiny.lab.json');
  writeFileSync(
    file,
    JSON.stringify({
      formatVersion: 1,
      kind: 'train',
      name: 'tiny-sampler',
      seed: 2,
      task: { name: 'sampler-gmm25' },
      model: { name: 'diffusion-sampler', steps: 4, hidden: 8, harmonics: 4 },
      objective: { name: 'trajectory-balance', evalSamples: 10 },
      training: { steps: 4, batchSize: 8, learningRate: 0.001, logEvery: 2, evalEvery: 4, evalBatches: 1, checkpointEvery: 2, keepCheckpoints: 5 },
    }),
  );
  const trained = modelLab(['train', file], cwd);
  assert.equal(trained.code, 0, trained.stderr);
  const runDir = trained.stdout.trim().split('\n').pop()!;

  const sample = (...args: string[]) => modelLab(['sample', runDir, '--n', '6', '--json', ...args], cwd);
  const first = sample();
  assert.equal(first.code, 0, first.stderr);
  const result = JSON.parse(first.stdout);
  assert.equal(result.step, 4, 'the newest checkpoint by default');
  assert.deepEqual(result.coordinates, ['x1', 'x2']);
  assert.equal(result.samples.length, 6);
  assert.ok(result.samples.every((row: number[]) => row.length === 2 && row.every(Number.isFinite)));
  assert.equal(result.logWeights.length, 6);
  assert.ok(result.logWeights.every(Number.isFinite));
  assert.ok(Number.isFinite(result.logZ.elbo) && Number.isFinite(result.logZ.importanceWeighted));
  assert.equal(sample().stdout, first.stdout, 'same seed, same samples');
  assert.notEqual(sample('--seed', '1').stdout, first.stdout, 'another seed, other samples');
  assert.equal(JSON.parse(sample('--step', '2').stdout).step, 2);

  const text = modelLab(['sample', runDir, '--n', '3'], cwd);
  assert.equal(text.code, 0, text.stderr);
  assert.match(text.stdout, /^samples of step 4 \(seed 0\): 3; log Z: ELBO /);
  assert.equal(text.stdout.trim().split('\n').length, 2 + 3);

  const missing = sample('--step', '3');
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /no checkpoint at step 3 \(checkpoints: 2, 4\)/);
  assert.equal(sample('--n', '0').code, 2);
});
