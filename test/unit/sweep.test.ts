import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import {
  expandGrid,
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
