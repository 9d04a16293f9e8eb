/**
 * "Fine-tune from this checkpoint", host side (src/host/panels/samplerFineTune.ts), with a fake run
 * store, session and Train path: the experiment file is written beside the run's, valid, with the
 * edited target and init { run, step }, never over another file; the new run is trained and shown
 * beside; a step that is not a checkpoint, a bad edit or an edit of another target is refused
 * before anything is written.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import '../../src/core/labs';
import { GMM25_MEANS } from '../../src/core/sampler/mixtures';
import { describeTarget, gmm25Target } from '../../src/core/sampler/targets';
import { parseSpec } from '../../src/core/spec/validate';
import { FineTuneError, fineTuneRun, type FineTuneDeps } from '../../src/host/panels/samplerFineTune';
import type { RunSummary } from '../../src/protocol';

const target = describeTarget(gmm25Target({ modeRadius: 1.5, modeShare: 0.01 }));
const spec = {
  formatVersion: 1,
  kind: 'train',
  name: 'gmm-run',
  seed: 0,
  task: { name: 'sampler-gmm25', modeRadius: 1.5, modeShare: 0.01 },
  model: { name: 'diffusion-sampler', steps: 4, hidden: 8, harmonics: 4, tScale: 5 },
  objective: { name: 'trajectory-balance', evalSamples: 10 },
  training: { steps: 2, batchSize: 8, learningRate: 0.001, logEvery: 1, evalEvery: 2, evalBatches: 1, checkpointEvery: 2 },
};

function fixture() {
  const folder = mkdtempSync(join(tmpdir(), 'model-lab-finetune-'));
  const summary = (id: string, specFile: string): RunSummary => ({
    id, dir: join(folder, '.model-lab', 'runs', id), name: id, experiment: 'gmm-run', specFile, state: 'completed', step: 2, totalSteps: 2, createdAt: '', notes: '', tags: [],
  });
  const runs: RunSummary[] = [summary('run-a', join(folder, 'gmm-run.lab.json'))];
  const trained: string[] = [];
  const shown: string[] = [];
  const deps: FineTuneDeps = {
    runs: { listRuns: () => [...runs], readRun: (id) => runs.find((r) => r.id === id), readSpec: () => structuredClone(spec) },
    folderOf: () => folder,
    train: async (file) => {
      trained.push(file);
      runs.push(summary(`run-${runs.length + 1}`, file));
    },
    showBeside: (id) => shown.push(id),
  };
  const session = { steps: [0, 2], request: async () => target } as unknown as Parameters<typeof fineTuneRun>[2];
  return { folder, deps, session, trained, shown, dispose: () => rmSync(folder, { recursive: true, force: true }) };
}

const dragged = () => {
  const means = GMM25_MEANS.map((mean) => [...mean]);
  means[12] = [2.5, -1.25];
  return { kind: 'mixture', means, weights: target.mixture!.weights };
};

test('writes a valid experiment beside the run\'s file (edited target, init at the shown step), trains it and shows it beside; never over a file', async () => {
  const { folder, deps, session, trained, shown, dispose } = fixture();
  try {
    const answer = await fineTuneRun(deps, 'run-a', session, { step: 2, edit: dragged() });
    assert.deepEqual(answer, { runId: 'run-2', file: 'gmm-run-finetune-step2.lab.json' });
    assert.deepEqual(trained, [join(folder, 'gmm-run-finetune-step2.lab.json')]);
    assert.deepEqual(shown, ['run-2']);
    const text = readFileSync(trained[0], 'utf8');
    const { spec: written, problems } = parseSpec(text, trained[0]);
    assert.deepEqual(problems, []);
    assert.deepEqual({ ...written!.init }, { run: 'run-a', step: 2 });
    assert.equal(written!.name, 'gmm-run-finetune');
    assert.equal(written!.task.name, 'sampler-gmm');
    assert.deepEqual((written!.task as unknown as { means: number[][] }).means[12], [2.5, -1.25]);

    const again = await fineTuneRun(deps, 'run-a', session, { step: 0, edit: dragged() });
    assert.equal(again.file, 'gmm-run-finetune-step0.lab.json');
    const third = await fineTuneRun(deps, 'run-a', session, { step: 2, edit: dragged() });
    assert.equal(third.file, 'gmm-run-finetune-step2-2.lab.json', 'a taken name gets a number');
    assert.equal(readFileSync(trained[0], 'utf8'), text, 'the first file is untouched');

    // A run whose experiment file is outside its workspace folder (e.g. trained from a copy): the file goes to the folder.
    deps.runs.readRun('run-a')!.specFile = join(tmpdir(), 'gmm-run.lab.json');
    const outside = await fineTuneRun(deps, 'run-a', session, { step: 2, edit: dragged() });
    assert.equal(trained.at(-1), join(folder, outside.file));
  } finally {
    dispose();
  }
});

test('refused before anything is written: a step that is no checkpoint, a bad edit, an unknown run; a training that does not start is said', async () => {
  const { folder, deps, session, trained, dispose } = fixture();
  try {
    const refused = (runId: string | undefined, params: unknown, message: RegExp) =>
      assert.rejects(fineTuneRun(deps, runId, session, params), (error: Error) => error instanceof FineTuneError && message.test(error.message));
    await refused('run-a', { step: 1, edit: dragged() }, /^fineTune: step must be one of the run's checkpoints \(0, 2\), got 1$/);
    await refused('run-a', { step: '2', edit: dragged() }, /step must be one of the run's checkpoints/);
    await refused('run-a', { step: 2, edit: { ...dragged(), means: [[0, 0]] } }, /^fineTune: edit\.means must be 25 means/);
    await refused('run-a', { step: 2, edit: { ...dragged(), weights: new Array(25).fill(-1) } }, /^fineTune: edit\.weights\[0\] must be a positive number/);
    await refused('run-a', { step: 2, edit: { kind: 'expression', logDensity: '-x1**2' } }, /^fineTune: target 'gmm25' is not an expression/);
    await refused('run-a', null, /step must be one of/);
    await refused('run-zzz', { step: 2, edit: dragged() }, /^fineTune: run run-zzz no longer exists/);
    await refused(undefined, { step: 2, edit: dragged() }, /no longer exists/);
    assert.deepEqual(trained, []);
    assert.deepEqual(readdirSync(folder), [], 'nothing written');

    deps.train = async () => undefined; // the Train path refused (and told the user why)
    await refused('run-a', { step: 2, edit: dragged() }, /^gmm-run-finetune-step2\.lab\.json was written but its training did not start/);
  } finally {
    dispose();
  }
});
