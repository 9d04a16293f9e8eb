// Issue 22, item 6: `init: { run, step }` starts a run from another run's model weights. Through the
// one launch path (src/app/launch.ts: validation, located errors, the step resolved and recorded)
// and the worker's training job (src/engine/trainingJob.ts, run here in this thread on wasm): the
// new run's step-0 weights are exactly the checkpoint's, its optimizer is fresh, and a resumed init
// run continues from its own checkpoint (its parent may be gone by then).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { launchRun, launchSweep, type LaunchEngine } from '../../src/app/launch';
import { SpecError } from '../../src/core/spec/types';
import { parseSpec } from '../../src/core/spec/validate';
import { Engine, type TrainingJob } from '../../src/engine/engine';
import { modelWeightShapes, runTrainingJob } from '../../src/engine/trainingJob';
import { trainingBatchRng } from '../../src/core/experiment';
import { shardBatchRng } from '../../src/core/gradientShards';
import { createRng } from '../../src/core/rng';
import { listCheckpointSteps, loadCheckpoint } from '../../src/runs/checkpoints';
import { acquireOwnerLock } from '../../src/runs/ownership';
import { readMetrics, readRun, readSpec } from '../../src/runs/reader';
import { liveSpecProblems } from '../../src/host/editor/liveSpecProblems';
import { useWasmBackend } from '../helpers/backend';
import { bundleWorker } from '../helpers/bundle';

const wasmDir = path.join(__dirname, '../../node_modules/@tensorflow/tfjs-backend-wasm/dist');
let tmp: string;
let runsDir: string;
let parentId: string;

/** The launch path with a worker's answers computed in this thread; jobs are run by `trainHere`. */
const engine: LaunchEngine = {
  backendInfo: async () => ({ name: 'wasm', requested: 'wasm', version: tf.version_core }),
  startTraining: (runDir: string) => ({ runDir }) as unknown as TrainingJob,
  weightLayout: async (spec) => modelWeightShapes(spec),
};

function experiment(fields: Record<string, unknown> = {}, training: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    formatVersion: 1,
    kind: 'train',
    name: 'tiny',
    seed: 1,
    task: { name: 'contextual-retrieval', seqLen: 4 },
    model: { name: 'multi-head-attention', dim: 8, heads: 2 },
    objective: { name: 'l1' },
    training: { steps: 20, batchSize: 8, logEvery: 5, evalEvery: 10, evalBatches: 1, checkpointEvery: 10, keepCheckpoints: 5, ...training },
    ...fields,
  };
}

/** Writes an experiment file whose `init` (when given) is placed where a user would write it. */
function specFile(name: string, fields: Record<string, unknown>, training: Record<string, unknown> = {}): string {
  const file = path.join(tmp, `${name}.lab.json`);
  fs.writeFileSync(file, JSON.stringify(experiment({ name, ...fields }, training), null, 2));
  return file;
}

async function launch(file: string): Promise<string> {
  return (await launchRun(engine, { specFile: file, runsDir, workers: 1 })).runDir;
}

/** Runs the worker's training job for `runDir` in this thread; `stopAt`: stop once that step is reported. */
async function trainHere(runDir: string, options: { resume?: boolean; stopAt?: number } = {}) {
  const lock = acquireOwnerLock(runDir);
  let stop = options.stopAt === 0;
  const problems: string[] = [];
  try {
    return await runTrainingJob(runDir, { resume: options.resume ?? false, ownerToken: lock.token }, {
      backend: await engine.backendInfo(),
      workers: 1,
      shouldStop: () => stop,
      stoppedByShutdown: () => false,
      onProgress: (step) => {
        if (options.stopAt !== undefined && step >= options.stopAt) stop = true;
      },
      logError: (message) => problems.push(message),
      warn: (message) => problems.push(message),
      wasmDir,
    });
  } finally {
    lock.release();
  }
}

/** Each weight's values at a checkpoint, by name. */
async function weightValues(runDir: string, step: number): Promise<Map<string, number[]>> {
  const checkpoint = await loadCheckpoint(runDir, step);
  try {
    return new Map(checkpoint.weights.map(({ name, tensor }) => [name, Array.from(tensor.dataSync())]));
  } finally {
    tf.dispose([...checkpoint.weights, ...checkpoint.optimizer].map((named) => named.tensor));
  }
}

function loopState(runDir: string, step: number): Record<string, number> {
  const info = JSON.parse(fs.readFileSync(path.join(runDir, 'checkpoints', `step-${String(step).padStart(8, '0')}`, 'checkpoint.json'), 'utf8'));
  return info.loop;
}

before(async () => {
  await useWasmBackend();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'model-lab-init-'));
  runsDir = path.join(tmp, 'runs');
  const parentDir = await launch(specFile('parent', {}));
  assert.equal((await trainHere(parentDir)).state, 'completed');
  parentId = path.basename(parentDir);
  assert.deepEqual(listCheckpointSteps(parentDir), [10, 20]);
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

test('init is a field of the schema: a run id and an optional step; anything else is a located error', () => {
  const parse = (init: unknown) => parseSpec(JSON.stringify(experiment({ init }), null, 2), 'x.lab.json');
  assert.deepEqual({ ...parse({ run: 'some-run' }).spec?.init }, { run: 'some-run' });
  assert.deepEqual({ ...parse({ run: 'some-run', step: 500 }).spec?.init }, { run: 'some-run', step: 500 });
  const cases: [unknown, string, RegExp][] = [
    [{ run: '../elsewhere' }, '/init/run', /must be a run id/],
    [{ run: 'a/b' }, '/init/run', /must be a run id/],
    [{ step: 3 }, '/init/run', /missing required property 'run'/],
    [{ run: 'r', step: -1 }, '/init/step', />= 0/],
    [{ run: 'r', step: 1.5 }, '/init/step', /an integer/],
    [{ run: 'r', from: 3 }, '/init/from', /unknown property 'from'/],
    ['r', '/init', /an object/],
  ];
  for (const [init, where, message] of cases) {
    const { spec, problems } = parse(init);
    assert.equal(spec, undefined, JSON.stringify(init));
    assert.equal(problems[0]?.path, where, JSON.stringify(problems));
    assert.match(problems[0].message, message);
    assert.ok(problems[0].line && problems[0].line > 1, 'located in the file');
  }
});

test('a run with init starts from exactly that checkpoint\'s weights, with a fresh optimizer at its own step 0; the step is recorded', async () => {
  const childDir = await launch(specFile('child', { seed: 7, init: { run: parentId, step: 10 } }));
  assert.deepEqual(readSpec(childDir).init, { run: parentId, step: 10 });
  assert.deepEqual(readRun(childDir).init, { run: parentId, step: 10 });
  // Stopped before its first step: the checkpoint it saves holds the weights it starts from.
  assert.equal((await trainHere(childDir, { stopAt: 0 })).state, 'cancelled');
  assert.deepEqual(listCheckpointSteps(childDir), [0]);
  const started = await weightValues(childDir, 0);
  const parent = await weightValues(path.join(runsDir, parentId), 10);
  assert.deepEqual([...started.keys()], [...parent.keys()]);
  for (const [name, values] of parent) assert.deepEqual(started.get(name), values, name);
  assert.equal(loopState(childDir, 0).optimizerSteps, 0, 'a fresh optimizer');
  // The same spec without init starts from its own initialisation instead.
  const freshDir = await launch(specFile('fresh', { seed: 7 }));
  await trainHere(freshDir, { stopAt: 0 });
  const fresh = await weightValues(freshDir, 0);
  assert.ok([...parent].some(([name, values]) => JSON.stringify(fresh.get(name)) !== JSON.stringify(values)));
});

test('a run with init trains on a data stream of its own: continuing a run with its seed does not replay the batches it saw', async () => {
  const parentSpec = readSpec(path.join(runsDir, parentId));
  const childSpec = readSpec(await launch(specFile('stream', { init: { run: parentId } })));
  assert.equal(childSpec.seed, parentSpec.seed);
  const draws = (rng: { next(): number }) => [rng.next(), rng.next(), rng.next()];
  for (const step of [1, 2, 20]) {
    assert.notDeepEqual(draws(trainingBatchRng(childSpec, step)), draws(trainingBatchRng(parentSpec, step)), `step ${step}`);
    assert.notDeepEqual(draws(shardBatchRng(childSpec, step, 1)), draws(shardBatchRng(parentSpec, step, 1)), `step ${step}, shard 1`);
    assert.deepEqual(draws(trainingBatchRng(childSpec, step)), draws(trainingBatchRng(childSpec, step)), 'still seeded: the same every time');
  }
  // A run without init keeps the stream it always had (old runs resume with the same data).
  assert.deepEqual(draws(trainingBatchRng(parentSpec, 7)), draws(createRng(parentSpec.seed, 'train', 7)));
  assert.deepEqual(draws(shardBatchRng(parentSpec, 7, 1)), draws(createRng(parentSpec.seed, 'train', 7, 'shard', 1)));
});

test('init without a step takes the newest checkpoint and records it', async () => {
  const childDir = await launch(specFile('newest', { init: { run: parentId } }));
  assert.deepEqual(readSpec(childDir).init, { run: parentId, step: 20 });
  assert.deepEqual(readRun(childDir).init, { run: parentId, step: 20 });
});

test('a resumed init run continues from its own checkpoint, not from its init (its parent may be gone)', async () => {
  const file = specFile('continued', { seed: 3, init: { run: parentId } });
  const straight = await launch(file);
  assert.equal((await trainHere(straight)).state, 'completed');
  const interrupted = await launch(file);
  assert.equal((await trainHere(interrupted, { stopAt: 10 })).state, 'cancelled');
  assert.deepEqual(listCheckpointSteps(interrupted), [10]);
  const parentDir = path.join(runsDir, parentId);
  const hidden = path.join(tmp, 'parent-moved-away');
  fs.renameSync(parentDir, hidden);
  try {
    assert.equal((await trainHere(interrupted, { resume: true })).state, 'completed');
  } finally {
    fs.renameSync(hidden, parentDir);
  }
  const values = (dir: string) => readMetrics(dir).records.map((r) => [r.step, r.values]);
  assert.deepEqual(values(interrupted), values(straight));
  const [a, b] = [await weightValues(straight, 20), await weightValues(interrupted, 20)];
  for (const [name, v] of a) assert.deepEqual(b.get(name), v, name);
});

test('a sweep whose base has init: every member starts from the resolved checkpoint; a bad step is located in the file', async () => {
  const sweep = (init: Record<string, unknown>) => {
    const { formatVersion: _f, kind: _k, name: _n, ...base } = experiment({ init });
    const file = path.join(tmp, 'sweep.lab.json');
    fs.writeFileSync(file, JSON.stringify({ formatVersion: 1, kind: 'sweep', name: 'init-sweep', base, grid: { '/seed': [1, 2] } }, null, 2));
    return file;
  };
  const launched = await launchSweep(engine, { specFile: sweep({ run: parentId }), runsDir, workers: 1 });
  assert.deepEqual(launched.members.map((member) => readSpec(member.runDir).init), [{ run: parentId, step: 20 }, { run: parentId, step: 20 }]);
  await assert.rejects(launchSweep(engine, { specFile: sweep({ run: parentId, step: 3 }), runsDir, workers: 1 }), (error: unknown) => {
    assert.ok(error instanceof SpecError);
    assert.equal(error.problems[0].path, '/base/init/step');
    assert.match(error.problems[0].message, /no checkpoint at step 3/);
    return true;
  });
});

test('launching with an init that cannot be used is a located error, and no run folder is created', async () => {
  const setState = (runDir: string, state: string) => {
    const statusFile = path.join(runDir, 'status.json');
    fs.writeFileSync(statusFile, JSON.stringify({ ...JSON.parse(fs.readFileSync(statusFile, 'utf8')), state, pid: process.pid, heartbeat: new Date().toISOString() }));
  };
  // A run stopped before its first checkpoint, and one still training (as a worker leaves its status).
  const neverTrained = await launch(specFile('never-trained', {}));
  setState(neverTrained, 'cancelled');
  const training = await launch(specFile('training', {}));
  setState(training, 'running');
  fs.mkdirSync(path.join(training, 'checkpoints', 'step-00000010'), { recursive: true });
  const cases: [string, Record<string, unknown>, string, RegExp][] = [
    ['unknown', { init: { run: 'no-such-run' } }, '/init/run', /no run 'no-such-run' in the runs folder/],
    ['no-step', { init: { run: parentId, step: 15 } }, '/init/step', /has no checkpoint at step 15: expected one of 10, 20/],
    ['no-checkpoint', { init: { run: path.basename(neverTrained) } }, '/init/run', /has no checkpoint yet/],
    ['still-training', { init: { run: path.basename(training) } }, '/init/run', /is training: start from it once it has ended \(or stop it\)/],
    ['wider', { model: { name: 'multi-head-attention', dim: 16, heads: 2 }, init: { run: parentId } }, '/init/run', /do not match those of run .* at step 20: shapes differ: \S+ is \[\d+(, \d+)*\] here, \[\d+(, \d+)*\] there/],
    ['other-model', { model: { name: 'compositional-attention', dim: 8, searches: 2, retrievals: 2, searchDim: 8, valueDim: 8 }, init: { run: parentId } }, '/init/run', /at step 20: the checkpoint has no model\.value_query\.kernel, /],
  ];
  for (const [name, fields, where, message] of cases) {
    const before = fs.readdirSync(runsDir).sort();
    await assert.rejects(launch(specFile(name, fields)), (error: unknown) => {
      assert.ok(error instanceof SpecError, String(error));
      assert.equal(error.problems[0].path, where, name);
      assert.match(error.problems[0].message, message, name);
      assert.ok(error.problems[0].line, `${name}: located in the file`);
      return true;
    });
    assert.deepEqual(fs.readdirSync(runsDir).sort(), before, `${name}: nothing created`);
  }
});

test("the engine's workers answer the weight layout the launch checks init with (the host builds no model)", { timeout: 120_000 }, async () => {
  const workerScript = path.join(tmp, 'worker.js');
  await bundleWorker('src/engine/worker.ts', workerScript);
  const real = new Engine({ workerScript, workers: 1, backend: 'wasm', wasmDir });
  try {
    const spec = readSpec(path.join(runsDir, parentId));
    const layout = await real.weightLayout(spec);
    assert.deepEqual(layout, modelWeightShapes(spec));
    assert.ok(layout.length > 0);
  } finally {
    await real.dispose();
  }
});

test('while typing, the editor looks init up in the file\'s runs folder: an unknown run or step is a located problem', () => {
  const problemsOf = (init: unknown, dir: string | null = runsDir) => {
    const text = JSON.stringify(experiment({ init }), null, 2);
    return liveSpecProblems({ key: 'doc', file: path.join(tmp, 'typed.lab.json'), syntaxShownByEditor: false, runsDir: dir ?? undefined, getText: () => text }) ?? [];
  };
  assert.deepEqual(problemsOf({ run: parentId }), []);
  assert.deepEqual(problemsOf({ run: parentId, step: 10 }), []);
  const [unknown] = problemsOf({ run: 'no-such-run' });
  assert.equal(unknown.path, '/init/run');
  assert.match(unknown.message, /no run 'no-such-run' in the runs folder/);
  assert.ok(unknown.line && unknown.line > 1 && unknown.length === '"no-such-run"'.length, 'at the value');
  const [step] = problemsOf({ run: parentId, step: 15 });
  assert.equal(step.path, '/init/step');
  assert.match(step.message, /expected one of 10, 20/);
  assert.deepEqual(problemsOf({ run: 'no-such-run' }, null), [], 'a file outside the workspace: left to Train');
});
