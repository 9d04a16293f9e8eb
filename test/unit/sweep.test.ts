import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { basename, join, sep } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { launchSweep, RunFolderError } from '../../src/app/launch';
import type { TrainingJob } from '../../src/engine/engine';
import { collectStaleTemps } from '../../src/runs/staleTemps';
import {
  expandGrid,
  gridSize,
  lastMetricValue,
  memberExperiment,
  summariseOverSeeds,
  sweepMembers,
  valueLabels,
  withValueAt,
} from '../../src/core/sweep';
import { experimentSchema } from '../../src/core/spec/schema';
import { SpecError } from '../../src/core/spec/types';
import { loadSpecFile, loadSweepFile, parseSpec, parseSweepSpec } from '../../src/core/spec/validate';
import Ajv from 'ajv';

const root = join(__dirname, '..', '..');
const noFiles = (path: string): string => {
  throw new Error(`no such file ${path}`);
};

const base = {
  task: { name: 'same-diff', m: 0 },
  model: { name: 'corelnet' },
  objective: { name: 'cross-entropy' },
  training: { steps: 10, batchSize: 4 },
};

function sweepText(overrides: Record<string, unknown> = {}): string {
  return JSON.stringify(
    { formatVersion: 1, kind: 'sweep', name: 'grid', base, grid: { '/task/m': [0, 95], '/seed': [0, 1] }, ...overrides },
    null,
    2,
  );
}

test('the grid expands in order, the seed varying fastest whatever its position, minus exclusions', () => {
  const points = expandGrid({ '/seed': [0, 1], '/model/name': ['a', 'b'], '/task/m': [0, 95] });
  assert.equal(points.length, 8);
  assert.deepEqual(points.slice(0, 3), [
    { '/model/name': 'a', '/task/m': 0, '/seed': 0 },
    { '/model/name': 'a', '/task/m': 0, '/seed': 1 },
    { '/model/name': 'a', '/task/m': 95, '/seed': 0 },
  ]);
  const kept = expandGrid({ '/model/name': ['a', 'b'], '/task/m': [0, 95] }, [{ '/model/name': 'b', '/task/m': 95 }]);
  assert.deepEqual(kept, [
    { '/model/name': 'a', '/task/m': 0 },
    { '/model/name': 'a', '/task/m': 95 },
    { '/model/name': 'b', '/task/m': 0 },
  ]);
});

test('labels are short, unique per value, and name the members', () => {
  const grid = {
    '/model': [{ name: 'relational-transformer', contextNorm: true }, { name: 'relational-transformer', contextNorm: false }, { name: 'corelnet' }],
    '/task/m': [0, 95],
    '/seed': [3],
  };
  assert.deepEqual(valueLabels(grid)['/model'], ['relational-transformer-1', 'relational-transformer-2', 'corelnet']);
  const labels = sweepMembers({ grid, exclude: [] }).map((m) => m.label);
  assert.equal(labels[0], 'relational-transformer-1.m0.s3');
  assert.equal(new Set(labels).size, labels.length);
});

test('a member is the base with the grid values in place; the base is not changed', () => {
  const copy = structuredClone(base);
  const [, second] = sweepMembers({ grid: { '/task/m': [0, 95], '/model': [{ name: 'relational-lstm', hidden: 8 }] }, exclude: [] });
  const experiment = memberExperiment({ name: 'grid', base, formatVersion: 1 }, second);
  assert.equal(experiment.name, 'grid.m95.relational-lstm');
  assert.deepEqual(experiment.task, { name: 'same-diff', m: 95 });
  assert.deepEqual(experiment.model, { name: 'relational-lstm', hidden: 8 });
  assert.equal(experiment.kind, 'train');
  assert.deepEqual(base, copy);
  assert.deepEqual(withValueAt({ a: { b: 1 } }, '/a/c', 2), { a: { b: 1, c: 2 } });
});

test('a valid sweep resolves every member like a train file (defaults filled)', () => {
  const { sweep, members, problems } = parseSweepSpec(sweepText(), 'grid.lab.json', noFiles);
  assert.deepEqual(problems, []);
  assert.equal(sweep!.report.metric, 'eval/test/accuracy');
  assert.equal(members!.length, 4);
  assert.deepEqual(members!.map((m) => [m.spec.name, m.spec.task.m, m.spec.seed]), [
    ['grid.m0.s0', 0, 0],
    ['grid.m0.s1', 0, 1],
    ['grid.m95.s0', 95, 0],
    ['grid.m95.s1', 95, 1],
  ]);
  assert.equal(members![0].spec.training.optimizer, 'adam');
  assert.equal(members![0].spec.task.objectSet, 'procedural');
});

test('an invalid combination is reported at the grid value, naming the members it affects', () => {
  const text = sweepText({ grid: { '/task/name': ['same-diff', 'rmts'], '/task/m': [0, 98], '/seed': [0, 1] } });
  const { sweep, problems } = parseSweepSpec(text, 'grid.lab.json', noFiles);
  assert.equal(sweep, undefined);
  assert.equal(problems.length, 1, JSON.stringify(problems));
  const [problem] = problems;
  assert.equal(problem.path, '/grid/~1task~1m/1');
  assert.match(problem.message, /^members rmts\.m98\.s0, rmts\.m98\.s1: must be an integer >= 0 and <= 95, got 98/);
  // Located on the 98 in the file.
  assert.equal(text.slice(problem.offset!, problem.offset! + problem.length!), '98');
});

test('problems in the base are located in the base; structural mistakes are explained', () => {
  const badBase = { ...base, training: { steps: 0 } };
  const [inBase] = parseSweepSpec(sweepText({ base: badBase }), 'x', noFiles).problems;
  assert.equal(inBase.path, '/base/training/steps');
  assert.match(inBase.message, /^every member: must be an integer >= 1, got 0/);

  const [pointer] = parseSweepSpec(sweepText({ grid: { '/nothing/here': [1] } }), 'x', noFiles).problems;
  assert.equal(pointer.path, '/grid/~1nothing~1here');
  assert.match(pointer.message, /no object at \/nothing/);

  const [empty] = parseSweepSpec(sweepText({ grid: { '/seed': [] } }), 'x', noFiles).problems;
  assert.equal(empty.path, '/grid/~1seed');

  const [exclusion] = parseSweepSpec(sweepText({ exclude: [{ '/task/name': 'rmts' }] }), 'x', noFiles).problems;
  assert.equal(exclusion.path, '/exclude/0/~1task~1name');

  const [all] = parseSweepSpec(sweepText({ exclude: [{ '/seed': 0 }, { '/seed': 1 }] }), 'x', noFiles).problems;
  assert.match(all.message, /no members/);

  const [unknown] = parseSweepSpec(sweepText({ grids: {} }), 'x', noFiles).problems;
  assert.match(unknown.message, /unknown property 'grids'.*did you mean 'grid'/);
});

test('a base given by file is read relative to the sweep, and its problems name that file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sweep-test-'));
  try {
    writeFileSync(join(dir, 'one.lab.json'), readFileSync(join(root, 'templates', 'relational-same-diff-corelnet.lab.json')));
    writeFileSync(join(dir, 'sweep.lab.json'), sweepText({ base: { file: 'one.lab.json' } }));
    const { sweep, members } = loadSweepFile(join(dir, 'sweep.lab.json'));
    assert.equal(sweep.baseFile, 'one.lab.json');
    assert.equal(members[2].spec.model.normalisation, 'masked-softmax');
    assert.equal(members[2].spec.task.m, 95);

    writeFileSync(join(dir, 'bad.lab.json'), JSON.stringify({ ...JSON.parse(sweepText()), kind: 'train' }));
    writeFileSync(join(dir, 'sweep2.lab.json'), sweepText({ base: { file: 'bad.lab.json' } }));
    assert.throws(() => loadSweepFile(join(dir, 'sweep2.lab.json')), (error: unknown) => {
      assert.ok(error instanceof SpecError);
      assert.equal(error.problems[0].path, '/base/file');
      assert.match(error.problems[0].message, /^bad\.lab\.json:\d+:\d+: /);
      return true;
    });
    writeFileSync(join(dir, 'sweep3.lab.json'), sweepText({ base: { file: 'missing.lab.json' } }));
    assert.throws(() => loadSweepFile(join(dir, 'sweep3.lab.json')), /cannot read the base experiment missing\.lab\.json/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a sweep file given to the train path says what it is', () => {
  const { spec, problems } = parseSpec(sweepText(), 'x');
  assert.equal(spec, undefined);
  assert.equal(problems.length, 1);
  assert.equal(problems[0].path, '/kind');
  assert.match(problems[0].message, /is a sweep.*model-lab sweep/);
});

test('the editor schema accepts train files and sweeps, and rejects a mix', () => {
  const validate = new Ajv({ allErrors: true, strict: false }).compile(experimentSchema());
  assert.ok(validate(JSON.parse(sweepText())), JSON.stringify(validate.errors));
  assert.ok(validate(JSON.parse(readFileSync(join(root, 'templates', 'relational-sweep.lab.json'), 'utf8'))), JSON.stringify(validate.errors));
  assert.ok(validate(JSON.parse(readFileSync(join(root, 'templates', 'relational-same-diff-corelnet.lab.json'), 'utf8'))));
  assert.equal(validate({ ...JSON.parse(sweepText()), task: base.task }), false);
  assert.equal(validate({ formatVersion: 1, kind: 'train', name: 'x', ...base, grid: {} }), false);
});

test('the shipped sweep template is valid and covers the paper grid', () => {
  const { sweep, members } = loadSweepFile(join(root, 'templates', 'relational-sweep.lab.json'));
  assert.deepEqual(sweep.grid['/task/m'], [0, 50, 85, 95, 98]);
  assert.ok(members.length >= 12);
  assert.throws(() => loadSpecFile(join(root, 'templates', 'relational-sweep.lab.json')), /is a sweep/);
});

test('the report is the last logged value, summarised over seeds with mean and spread', () => {
  assert.equal(lastMetricValue([{ values: { a: 1 } }, { values: { b: 2 } }, { values: { a: 3 } }, { values: {} }], 'a'), 3);
  assert.equal(lastMetricValue([{ values: { b: 2 } }], 'a'), undefined);
  const cells = summariseOverSeeds([
    { label: 'x', point: { '/task/m': 0, '/seed': 0 }, value: 0.5 },
    { label: 'x', point: { '/task/m': 0, '/seed': 1 }, value: 0.7 },
    { label: 'x', point: { '/task/m': 95, '/seed': 0 }, value: 0.9 },
    { label: 'x', point: { '/task/m': 95, '/seed': 1 } },
  ]);
  assert.equal(cells.length, 2);
  assert.deepEqual(cells[0].point, { '/task/m': 0 });
  assert.ok(Math.abs(cells[0].mean! - 0.6) < 1e-12);
  assert.ok(Math.abs(cells[0].sd! - Math.sqrt(0.02)) < 1e-12);
  assert.deepEqual([cells[0].min, cells[0].max], [0.5, 0.7]);
  assert.deepEqual([cells[1].values, cells[1].missing, cells[1].sd], [[0.9], 1, 0]);
});

test('every sweep template trains the same models as the single-run templates (no option lost by swapping a name)', () => {
  const templates = readdirSync(join(root, 'templates')).filter((file) => file.endsWith('.lab.json'));
  const singleRunModels = templates
    .map((file) => JSON.parse(readFileSync(join(root, 'templates', file), 'utf8')) as { kind: string; model?: unknown })
    .filter((template) => template.kind === 'train')
    .map((template) => template.model);
  const sweeps = templates.filter((file) => (JSON.parse(readFileSync(join(root, 'templates', file), 'utf8')) as { kind: string }).kind === 'sweep');
  assert.ok(sweeps.length > 0);
  for (const file of sweeps) {
    for (const member of loadSweepFile(join(root, 'templates', file)).members) {
      const source = JSON.parse(readFileSync(join(root, 'templates', file), 'utf8')) as { base: { model: unknown } };
      // The member's model as written: the base's, with the grid's values under /model put in.
      let model = structuredClone(source.base.model) as Record<string, unknown>;
      for (const [pointer, value] of Object.entries(member.point)) {
        if (pointer === '/model') model = structuredClone(value) as Record<string, unknown>;
        else if (pointer.startsWith('/model/')) model[pointer.slice('/model/'.length)] = value;
      }
      assert.ok(
        singleRunModels.some((single) => isDeepStrictEqual(single, model)),
        `${file} member ${member.label}: its model ${JSON.stringify(model)} is no single-run template's model`,
      );
    }
  }
});

// ---------------------------------------------------------------------------------------------
// Creating a sweep is all or nothing (issue 18, item 6); grids are counted before expanding (item 8).

const fakeEngine = {
  backendInfo: async () => ({ name: 'cpu' as const, requested: 'cpu' as const, version: 'test' }),
  startTraining: (runDir: string) => ({ runDir }) as unknown as TrainingJob,
  weightLayout: () => Promise.reject(new Error('these sweeps have no init')),
};

function sweepFile(dir: string, overrides: Record<string, unknown> = {}): string {
  const file = join(dir, 'grid.lab.json');
  writeFileSync(file, sweepText(overrides));
  return file;
}

const visibleEntries = (dir: string) => (existsSync(dir) ? readdirSync(dir) : []);

test('a sweep whose name cannot become a folder is refused before any member run exists', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sweep-atomic-'));
  try {
    const runsDir = join(dir, 'runs');
    const file = sweepFile(dir, { name: 'n'.repeat(230) });
    await assert.rejects(launchSweep(fakeEngine, { specFile: file, runsDir, workers: 1 }), (error: unknown) => {
      assert.ok(error instanceof SpecError);
      assert.equal(error.problems[0].path, '/name');
      assert.match(error.problems[0].message, /at most 100 characters/);
      return true;
    });
    assert.deepEqual(visibleEntries(runsDir), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a write error while creating a sweep leaves no member run and no temp folder behind', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sweep-atomic-'));
  const realRename = fs.renameSync;
  try {
    const runsDir = join(dir, 'runs');
    const file = sweepFile(dir);
    const ok = await launchSweep(fakeEngine, { specFile: file, runsDir: join(dir, 'ok'), workers: 1 });
    assert.equal(ok.members.length, 4);
    assert.equal(visibleEntries(join(dir, 'ok')).length, 5, 'four members and the sweep folder');

    // The third run to appear in the runs folder fails to, as on a full disk.
    let movesOut = 0;
    fs.renameSync = ((from: fs.PathLike, to: fs.PathLike) => {
      const name = String(to).startsWith(runsDir + sep) ? String(to).slice(runsDir.length + 1) : sep;
      if (!name.includes(sep) && !name.startsWith('.tmp-') && ++movesOut === 3) {
        throw Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
      }
      return realRename(from, to);
    }) as typeof fs.renameSync;
    await assert.rejects(launchSweep(fakeEngine, { specFile: file, runsDir, workers: 1 }), (error: unknown) => {
      assert.ok(error instanceof RunFolderError);
      assert.match(error.message, /ENOSPC/);
      return true;
    });
    assert.equal(movesOut, 3);
    assert.deepEqual(visibleEntries(runsDir), [], 'no member run, no sweep folder, no .tmp- folder');
  } finally {
    fs.renameSync = realRename;
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the staging folder of a killed sweep is collected with its unstarted members; live and foreign ones stay', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'sweep-atomic-'));
  try {
    const runsDir = join(dir, 'runs');
    const launched = await launchSweep(fakeEngine, { specFile: sweepFile(dir), runsDir, workers: 1 });
    // Replay a kill between moving the members out and renaming the sweep folder: the sweep
    // folder goes back to a staging name of a dead pid; two members were already out.
    const deadPid = 999_999_999;
    const staging = join(runsDir, `.tmp-sweep-x-${deadPid}-abc123`);
    fs.renameSync(launched.sweepDir, staging);
    writeFileSync(join(staging, 'staging.json'), JSON.stringify({ pid: deadPid, hostname: hostname() }));
    const [first, second, third, fourth] = launched.members.map((m) => m.runDir);
    for (const runDir of [first, second]) {
      const status = JSON.parse(readFileSync(join(runDir, 'status.json'), 'utf8'));
      writeFileSync(join(runDir, 'status.json'), JSON.stringify({ ...status, pid: deadPid }));
    }
    fs.renameSync(third, join(staging, 'third')); // not moved out yet
    // A member that trained since (another process owns it now) is kept.
    const status = JSON.parse(readFileSync(join(fourth, 'status.json'), 'utf8'));
    writeFileSync(join(fourth, 'status.json'), JSON.stringify({ ...status, state: 'completed', pid: deadPid }));
    // A live process's temp folder and another host's are not touched.
    const live = join(runsDir, `.tmp-run-${process.ppid}-live1`);
    const foreign = join(runsDir, `.tmp-run-${deadPid}-other1`);
    for (const [folder, host] of [[live, hostname()], [foreign, 'another-host']]) {
      fs.mkdirSync(folder);
      writeFileSync(join(folder, 'status.json'), JSON.stringify({ state: 'queued', pid: deadPid, hostname: host }));
    }

    const collected = collectStaleTemps(runsDir, { isAlive: (pid) => pid !== deadPid });
    assert.deepEqual(collected, [`.tmp-sweep-x-${deadPid}-abc123`]);
    assert.deepEqual(readdirSync(runsDir).sort(), [basename(fourth), basename(live), basename(foreign)].sort());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a grid of 10^8 members is refused from the product of its list lengths, without expanding it', () => {
  const values = Array.from({ length: 100 }, (_, i) => i);
  const grid = { '/seed': values, '/training/steps': values.map((v) => v + 1), '/training/batchSize': values.map((v) => v + 1), '/training/logEvery': values.map((v) => v + 1) };
  assert.equal(gridSize(grid), 1e8);
  const { sweep, problems } = parseSweepSpec(sweepText({ grid }), 'huge.lab.json', noFiles);
  assert.equal(sweep, undefined);
  assert.equal(problems.length, 1);
  assert.equal(problems[0].path, '/grid');
  assert.match(problems[0].message, /the grid has 100000000 combinations \(100 x 100 x 100 x 100\): a sweep has at most 5000 members/);
});
