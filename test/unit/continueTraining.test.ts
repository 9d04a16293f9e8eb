// Issue 22, item 6: Continue Training (src/host/training/continueTraining.ts) writes an experiment
// that starts from a run's last checkpoint with more steps, beside the run's file and over no file,
// and trains it through the Train path; views join the continued curve at the init step
// (src/shared/runs.ts continuationChain / initStepOffset, src/shared/series.ts offsetSteps, the
// dashboard's runContinues), and the Runs view says which run it continues.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseSpec } from '../../src/core/spec/validate';
import { continuesText } from '../../src/host/runs/runsTreeModel';
import { ContinueError, continuationStem, continueTraining, parseStepCount, type ContinueDeps } from '../../src/host/training/continueTraining';
import type { RunState, RunSummary } from '../../src/protocol';
import { continuationChain, initStepOffset, initTimeOffset, recordTimeAtStep, runContinues, type MetricRecord, type RunInit } from '../../src/shared/runs';
import { MetricStore, offsetSteps, onXAxis } from '../../src/shared/series';
import { experimentFolderFor } from '../../src/host/training/experimentFiles';

const SPEC = {
  formatVersion: 1,
  kind: 'train',
  name: 'tiny',
  seed: 3,
  task: { name: 'contextual-retrieval', seqLen: 4 },
  model: { name: 'multi-head-attention', dim: 8, heads: 2 },
  objective: { name: 'l1' },
  training: { steps: 60, batchSize: 8, learningRate: 0.001, optimizer: 'adam', logEvery: 5, evalEvery: 20, evalBatches: 1, checkpointEvery: 20, keepCheckpoints: 2 },
};

function summary(id: string, fields: Partial<RunSummary> = {}): RunSummary {
  return { id, dir: `/runs/${id}`, name: id, experiment: 'tiny', state: 'completed', step: 60, totalSteps: 60, createdAt: '2026-01-01T00:00:00Z', notes: '', tags: [], ...fields };
}

/** A workspace with the run `run-a` (checkpoints at the given steps, its experiment file beside) and fakes of the host. */
function fixture(options: { state?: RunState; checkpoints?: number[]; answer?: number | undefined } = {}) {
  const folder = mkdtempSync(join(tmpdir(), 'model-lab-continue-'));
  const runDir = join(folder, '.model-lab', 'runs', 'run-a');
  for (const step of options.checkpoints ?? [40, 60]) mkdirSync(join(runDir, 'checkpoints', `step-${String(step).padStart(8, '0')}`), { recursive: true });
  const specFile = join(folder, 'tiny.lab.json');
  writeFileSync(specFile, JSON.stringify(SPEC));
  const runs: RunSummary[] = [summary('run-a', { dir: runDir, specFile, state: options.state ?? 'completed' })];
  const trained: string[] = [];
  const asked: [string, number, number][] = [];
  const deps: ContinueDeps = {
    runs: {
      listRuns: () => runs,
      readRun: (id) => runs.find((run) => run.id === id),
      readSpec: (id) => (id === 'run-a' ? SPEC : undefined),
    },
    folderOf: () => folder,
    askSteps: async (run, suggested, fromStep) => {
      asked.push([run.id, suggested, fromStep]);
      return 'answer' in options ? options.answer : suggested;
    },
    train: async (file) => {
      trained.push(file);
      runs.push(summary(`run-${runs.length + 1}`, { specFile: file, state: 'queued' }));
    },
  };
  return { folder, deps, trained, asked, dispose: () => rmSync(folder, { recursive: true, force: true }) };
}

const labFiles = (folder: string) => readdirSync(folder).filter((name) => name.endsWith('.lab.json')).sort();

test('Continue Training writes the run\'s spec with the steps asked and init = its last checkpoint beside its file, and trains it', async () => {
  const { folder, deps, trained, asked, dispose } = fixture();
  try {
    const continued = await continueTraining(deps, 'run-a');
    assert.deepEqual(asked, [['run-a', 60, 60]], 'asked once, suggesting the run\'s own step count, from its last checkpoint');
    assert.equal(continued?.run.id, 'run-2');
    assert.equal(continued?.file, join(folder, 'tiny-continued.lab.json'));
    assert.deepEqual(trained, [join(folder, 'tiny-continued.lab.json')]);
    const { spec, problems } = parseSpec(readFileSync(trained[0], 'utf8'), trained[0]);
    assert.deepEqual(problems, []);
    assert.deepEqual({ ...spec!.init }, { run: 'run-a', step: 60 });
    assert.equal(spec!.training.steps, 60);
    assert.equal(spec!.seed, 3);
    assert.deepEqual({ ...spec!.model, concat: undefined }, { ...SPEC.model, concat: undefined });

    const again = await continueTraining(deps, 'run-a');
    assert.equal(again?.file, join(folder, 'tiny-continued-2.lab.json'), 'a taken name gets a number: nothing is overwritten');
    assert.deepEqual(labFiles(folder), ['tiny-continued-2.lab.json', 'tiny-continued.lab.json', 'tiny.lab.json']);
  } finally {
    dispose();
  }
});

test('the step count asked is the new run\'s; a cancelled question writes nothing', async () => {
  const more = fixture({ answer: 150 });
  try {
    const continued = await continueTraining(more.deps, 'run-a');
    const { spec } = parseSpec(readFileSync(continued!.file, 'utf8'), continued!.file);
    assert.equal(spec!.training.steps, 150);
  } finally {
    more.dispose();
  }
  const cancelled = fixture({ answer: undefined });
  try {
    assert.equal(await continueTraining(cancelled.deps, 'run-a'), undefined);
    assert.deepEqual(cancelled.trained, []);
    assert.deepEqual(labFiles(cancelled.folder), ['tiny.lab.json']);
  } finally {
    cancelled.dispose();
  }
});

test('a stopped run continues from its last checkpoint; a training run, a run without checkpoint and a gone run are refused before anything is written', async () => {
  const stopped = fixture({ state: 'cancelled', checkpoints: [20, 35] });
  try {
    const continued = await continueTraining(stopped.deps, 'run-a');
    assert.deepEqual({ ...parseSpec(readFileSync(continued!.file, 'utf8'), continued!.file).spec!.init }, { run: 'run-a', step: 35 });
  } finally {
    stopped.dispose();
  }
  const refusals: [Parameters<typeof fixture>[0], string, RegExp][] = [
    [{ state: 'running' }, 'run-a', /^run "run-a" is still training/],
    [{ checkpoints: [] }, 'run-a', /^run "run-a" has no checkpoint to continue from$/],
    [{}, 'run-zzz', /^run run-zzz no longer exists$/],
  ];
  for (const [options, runId, message] of refusals) {
    const { folder, deps, trained, asked, dispose } = fixture(options);
    try {
      await assert.rejects(continueTraining(deps, runId), (error: Error) => error instanceof ContinueError && message.test(error.message));
      assert.deepEqual([trained, asked, labFiles(folder)], [[], [], ['tiny.lab.json']]);
    } finally {
      dispose();
    }
  }
  const { deps, dispose } = fixture();
  try {
    deps.train = async () => undefined; // the Train path refused (and told the user why)
    await assert.rejects(continueTraining(deps, 'run-a'), /^Error: tiny-continued\.lab\.json was written but its training did not start/);
  } finally {
    dispose();
  }
});

test('the file goes beside the run\'s experiment file only inside the run\'s workspace folder, else into that folder', () => {
  const folder = mkdtempSync(join(tmpdir(), 'model-lab-continue-folder-'));
  try {
    mkdirSync(join(folder, 'ws', 'exps'), { recursive: true });
    mkdirSync(join(folder, 'elsewhere'));
    assert.equal(experimentFolderFor({ specFile: join(folder, 'ws', 'exps', 'a.lab.json') }, join(folder, 'ws')), join(folder, 'ws', 'exps'));
    assert.equal(experimentFolderFor({ specFile: join(folder, 'elsewhere', 'a.lab.json') }, join(folder, 'ws')), join(folder, 'ws'), 'a copied workspace: not the original folder');
    assert.equal(experimentFolderFor({ specFile: join(folder, 'gone', 'a.lab.json') }, join(folder, 'ws')), join(folder, 'ws'));
    assert.equal(experimentFolderFor({}, undefined), undefined);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
});

test('names and the step question', () => {
  assert.equal(continuationStem({ specFile: '/w/exp.lab.json', experiment: 'x', id: 'r' }), 'exp-continued');
  assert.equal(continuationStem({ specFile: '/w/exp-continued-3.lab.json', experiment: 'x', id: 'r' }), 'exp-continued', 'a chain does not grow suffixes');
  assert.equal(continuationStem({ experiment: 'x', id: 'r' }), 'x-continued');
  assert.equal(parseStepCount(' 250 '), 250);
  for (const bad of ['', '0', '-5', '2.5', '1e3', 'ten', '99999999999999999999']) assert.ok(typeof parseStepCount(bad) === 'object', bad);
});

test('a chain of continuations: each run\'s curve starts where the one it continues was at its init step', () => {
  const init = (run: string, step: number): { init: RunInit } => ({ init: { run, step } });
  const runs = new Map([
    ['a', summary('a')],
    ['b', summary('b', init('a', 60))],
    ['c', summary('c', init('b', 40))],
    ['orphan', summary('orphan', init('deleted', 30))],
    ['loop1', summary('loop1', init('loop2', 5))],
    ['loop2', summary('loop2', init('loop1', 7))],
  ]);
  const read = (id: string) => runs.get(id);
  assert.deepEqual(continuationChain(runs.get('c')!, read).map((r) => r.id), ['a', 'b', 'c']);
  assert.equal(initStepOffset(runs.get('a')!, read), 0);
  assert.equal(initStepOffset(runs.get('b')!, read), 60);
  assert.equal(initStepOffset(runs.get('c')!, read), 100);
  assert.equal(initStepOffset(runs.get('orphan')!, read), 30, 'a deleted parent: its own init step still counts');
  assert.deepEqual(continuationChain(runs.get('loop1')!, read).map((r) => r.id), ['loop2', 'loop1'], 'a loop ends the chain');

  // The dashboard: the link and the offset it sends, and the series the page draws with it.
  assert.deepEqual(runContinues(runs.get('c')!, read), { runId: 'b', name: 'b', step: 40, stepOffset: 100 });
  assert.deepEqual(runContinues(runs.get('orphan')!, read), { runId: 'deleted', name: 'deleted', step: 30, stepOffset: 30 });
  const store = new MetricStore();
  store.append('b', offsetSteps([{ step: 5, time: 1, values: { 'train/loss': 0.5 } }, { step: 40, time: 9, values: { 'train/loss': 0.25 } }], 60));
  assert.deepEqual(store.series('b', 'train/loss'), { steps: [65, 100], values: [0.5, 0.25], times: [1, 9] });

  // The Runs view.
  assert.equal(continuesText(runs.get('b')!, runs.get('a')), 'continues a at step 60');
  assert.equal(continuesText(runs.get('orphan')!, undefined), 'continues deleted at step 30');
  assert.equal(continuesText(runs.get('a')!, undefined), undefined);
  assert.equal(runContinues(runs.get('a')!, read), undefined);
});

test("on the wall-clock axis a continued run's curve starts at the time the run it continues had trained by its init step", () => {
  const loss = (step: number, time: number): MetricRecord => ({ step, time, values: { 'train/loss': 1 / step } });
  const metrics = new Map<string, MetricRecord[]>([
    // a: logged every 20 steps, 100 ms a step; b continues it at step 50, between two logged steps.
    ['a', [loss(20, 2000), { step: 20, time: 2100, values: { 'eval/train/loss': 0.1 } }, loss(40, 4000), loss(60, 6000)]],
    ['b', [loss(10, 1000), loss(40, 3000)]],
    ['c', [loss(5, 500), loss(10, 1000)]],
  ]);
  const runs = new Map([
    ['a', summary('a')],
    ['b', summary('b', { init: { run: 'a', step: 50 } })],
    ['c', summary('c', { init: { run: 'b', step: 40 } })],
    ['orphan', summary('orphan', { init: { run: 'deleted', step: 30 } })],
  ]);
  const read = (id: string) => runs.get(id);
  const timeAt = (id: string, step: number) => recordTimeAtStep(metrics.get(id) ?? [], step);
  assert.equal(timeAt('a', 40), 4000, 'a logged step: its record\'s time');
  assert.equal(timeAt('a', 20), 2100, 'the last record at a step: the latest time logged by then');
  assert.equal(timeAt('a', 50), 5000, 'between logged steps: interpolated');
  assert.equal(timeAt('a', 10), 1000, 'before the first logged step: from (0, 0)');
  assert.equal(timeAt('a', 70), 6000, 'after the last: the last time');
  assert.equal(timeAt('deleted', 30), undefined);
  assert.equal(initTimeOffset(runs.get('a')!, read, timeAt), 0);
  assert.equal(initTimeOffset(runs.get('c')!, read, timeAt), 5000 + 3000, 'offsets add up along the chain');
  assert.equal(initTimeOffset(runs.get('orphan')!, read, timeAt), 0, 'a deleted parent: its time is unknown');

  // What the dashboard sends and the page draws: c's first point on the wall-clock axis is 8 s + its own 0.5 s.
  const continues = runContinues(runs.get('c')!, read, timeAt)!;
  assert.deepEqual(continues, { runId: 'b', name: 'b', step: 40, stepOffset: 90, timeOffsetMs: 8000 });
  const store = new MetricStore();
  for (const id of ['a', 'b', 'c']) {
    const joined = id === 'a' ? undefined : runContinues(runs.get(id)!, read, timeAt)!;
    store.append(id, offsetSteps(metrics.get(id)!, joined?.stepOffset ?? 0, joined?.timeOffsetMs ?? 0));
  }
  assert.deepEqual(onXAxis(store.series('b', 'train/loss')!, 'time'), { steps: [6, 8], values: [0.1, 1 / 40] }, 'b from a\'s 5 s at step 50 on');
  assert.deepEqual(onXAxis(store.series('c', 'train/loss')!, 'time'), { steps: [8.5, 9], values: [0.2, 0.1] });
  assert.deepEqual(onXAxis(store.series('c', 'train/loss')!, 'step'), { steps: [95, 100], values: [0.2, 0.1] }, 'the step axis as before');
});
