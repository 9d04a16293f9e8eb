import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { labOf } from '../../src/core/labList';
import type { RunState, RunSummary } from '../../src/protocol';
import {
  activeByPreference,
  groupByExperiment,
  groupDescription,
  isResumable,
  parseTags,
  runContextValue,
  runDescription,
  runLabel,
  runIdOfCommandArg,
  runTooltipLines,
  STATE_ICONS,
} from '../../src/host/runs/runsTreeModel';

function run(id: string, experiment: string, createdAt: string, patch: Partial<RunSummary> = {}): RunSummary {
  return {
    id,
    dir: `/ws/.model-lab/runs/${id}`,
    name: id,
    experiment,
    state: 'completed',
    step: 300,
    totalSteps: 300,
    createdAt,
    notes: '',
    tags: [],
    ...patch,
  };
}

test('runs are grouped by experiment; groups and runs newest first', () => {
  const runs = [
    run('r1', 'mha', '2025-01-01T10:00:00Z'),
    run('r2', 'quick', '2025-01-02T10:00:00Z'),
    run('r3', 'mha', '2025-01-03T10:00:00Z'),
    run('r4', 'quick', '2025-01-01T09:00:00Z'),
  ];
  const groups = groupByExperiment(runs);
  assert.deepEqual(
    groups.map((g) => [g.experiment, g.runs.map((r) => r.id)]),
    [
      ['mha', ['r3', 'r1']],
      ['quick', ['r2', 'r4']],
    ],
  );
  assert.equal(groupDescription(groups[0]), '2 runs');
  assert.deepEqual(groupByExperiment([]), []);
});

test('group description counts active runs', () => {
  const [group] = groupByExperiment([
    run('a', 'mha', '2025-01-01T00:00:00Z', { state: 'running', step: 10 }),
    run('b', 'mha', '2025-01-02T00:00:00Z', { state: 'queued', step: 0 }),
    run('c', 'mha', '2025-01-03T00:00:00Z'),
  ]);
  assert.equal(groupDescription(group), '3 runs, 2 active');
  assert.equal(groupDescription(groupByExperiment([run('x', 'e', '2025-01-01T00:00:00Z')])[0]), '1 run');
});

test('every state has its icon and a context value the menus match', () => {
  const states: RunState[] = ['queued', 'running', 'completed', 'cancelled', 'failed', 'interrupted'];
  assert.deepEqual(
    states.map((state) => STATE_ICONS[state]),
    ['clock', 'sync~spin', 'pass', 'circle-slash', 'error', 'debug-disconnect'],
  );
  for (const state of states) {
    assert.match(runContextValue(run('r', 'e', '2025-01-01T00:00:00Z', { state })), /^run\./);
  }
  assert.equal(runContextValue(run('r', 'e', '2025-01-01T00:00:00Z', { state: 'interrupted' })), 'run.interrupted');
  assert.deepEqual(
    states.filter((state) => isResumable(run('r', 'e', '', { state }))),
    ['cancelled', 'failed', 'interrupted'],
  );
});

test('the menus in package.json match the context values', async () => {
  const pkg = (await import('../../package.json', { with: { type: 'json' } })).default as {
    contributes: { menus: Record<string, { command: string; when?: string }[]> };
  };
  const itemMenus = pkg.contributes.menus['view/item/context'];
  const whenFor = (command: string) => itemMenus.filter((m) => m.command === command).map((m) => m.when ?? '');
  const matches = (when: string, state: RunState) => {
    const regex = /viewItem =~ \/(.+)\/$/.exec(when)?.[1];
    assert.ok(regex, `no viewItem regex in ${when}`);
    return new RegExp(regex).test(runContextValue(run('r', 'e', '', { state })));
  };
  for (const when of whenFor('modelLab.stop')) {
    assert.deepEqual(
      (['queued', 'running', 'completed', 'cancelled'] as RunState[]).map((s) => matches(when, s)),
      [true, true, false, false],
    );
  }
  for (const when of whenFor('modelLab.resume')) {
    assert.deepEqual(
      (['running', 'completed', 'cancelled', 'interrupted', 'failed'] as RunState[]).map((s) => matches(when, s)),
      [false, false, true, true, true],
    );
  }
  for (const when of whenFor('modelLab.deleteRun')) assert.equal(matches(when, 'completed'), true);
});

test('description: state and live step, tags, first line of the notes', () => {
  const running = run('r', 'e', '', { state: 'running', step: 120, totalSteps: 2000, tags: ['baseline', 'lr'], notes: 'first try\nmore' });
  assert.equal(runDescription(running), 'running 120/2000 · #baseline #lr · first try');
  assert.equal(runDescription(run('r', 'e', '')), '300/300');
  const long = runDescription(run('r', 'e', '', { notes: 'x'.repeat(100) }));
  assert.ok(long.endsWith('…') && long.length < 60, long);
});

test('tooltip carries notes, tags and the error', () => {
  const lines = runTooltipLines(
    run('20250101-mha', 'mha', '2025-01-01T00:00:00Z', { name: 'baseline', notes: 'lr 1e-3', tags: ['a'], state: 'failed', error: 'out of memory' }),
  );
  assert.equal(lines[0], 'baseline (20250101-mha)');
  assert.ok(lines.includes('Notes: lr 1e-3'));
  assert.ok(lines.includes('Tags: a'));
  assert.ok(lines.includes('Error: out of memory'));
});

test('tags: commas or spaces, # dropped, duplicates removed, bad characters rejected', () => {
  assert.deepEqual(parseTags(' baseline, #lr-sweep  v1.2 baseline'), { tags: ['baseline', 'lr-sweep', 'v1.2'] });
  assert.deepEqual(parseTags(''), { tags: [] });
  const bad = parseTags('ok, no"quotes');
  assert.ok('problem' in bad && bad.problem.includes('no"quotes'));
});

test('labels: a run not renamed shows its date and time (and counter); a renamed run its name', () => {
  assert.equal(runLabel(run('20250131-142501-mha', 'mha', '')), '2025-01-31 14:25:01');
  assert.equal(runLabel(run('20250131-142501-mha-2', 'mha', '')), '2025-01-31 14:25:01 #2');
  assert.equal(runLabel(run('20250131-142501-mha', 'mha', '', { name: 'baseline' })), 'baseline');
  assert.equal(runLabel(run('imported-run', 'mha', '')), 'imported-run');
});

test('a command finds its run from a tree node, an id or an object with an id', () => {
  const run = { id: 'r1' } as RunSummary;
  assert.equal(runIdOfCommandArg({ kind: 'run', run }), 'r1');
  assert.equal(runIdOfCommandArg('r2'), 'r2');
  assert.equal(runIdOfCommandArg({ id: 'r3' }), 'r3');
  assert.equal(runIdOfCommandArg({ kind: 'group' }), undefined);
  assert.equal(runIdOfCommandArg(undefined), undefined);
});

test('followers prefer the training run to queued ones: a sweep queues every member at once', () => {
  const runs = [
    run('member-3', 'sweep', '2025-01-01T00:00:03Z', { state: 'queued' }),
    run('member-2', 'sweep', '2025-01-01T00:00:02Z', { state: 'queued' }),
    run('member-1', 'sweep', '2025-01-01T00:00:01Z', { state: 'running' }),
    run('done', 'other', '2025-01-01T00:00:00Z', { state: 'completed' }),
  ];
  assert.deepEqual(activeByPreference(runs).map((r) => r.id), ['member-1', 'member-3', 'member-2']);
  assert.deepEqual(activeByPreference([runs[3]]), []);
});

test("the Runs view's context menu offers a lab's panels only on that lab's runs, Stop and Resume by state", () => {
  const manifest = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8'));
  const menu = manifest.contributes.menus['view/item/context'] as { command: string; when: string }[];
  /** The commands whose `viewItem =~ /.../` clause matches a context value. */
  const offered = (contextValue: string) =>
    new Set(
      menu
        .filter((item) => {
          const match = /viewItem =~ \/(.+)\/$/.exec(item.when) ?? /viewItem == (\S+)$/.exec(item.when);
          if (!match) return false;
          return item.when.includes('=~') ? new RegExp(match[1]).test(contextValue) : match[1] === contextValue;
        })
        .map((item) => item.command),
    );
  const labCommands = {
    attention: ['modelLab.openAttention', 'modelLab.compareAttention'],
    posterior: ['modelLab.openPosterior'],
    similarity: ['modelLab.openSimilarity'],
    sampler: ['modelLab.openSampler'],
  };
  const states: RunState[] = ['queued', 'running', 'completed', 'cancelled', 'interrupted', 'failed'];
  for (const state of states) {
    for (const lab of [undefined, 'attention', 'posterior', 'similarity', 'sampler'] as const) {
      const commands = offered(runContextValue(run('r', 'e', '2025-01-01T00:00:00Z', { state }), lab));
      for (const [panel, ids] of Object.entries(labCommands)) {
        for (const id of ids) assert.equal(commands.has(id), panel === lab, `${id} on a ${state} ${lab ?? 'lab-less'} run`);
      }
      assert.equal(commands.has('modelLab.stop'), state === 'running' || state === 'queued', `Stop on ${state}`);
      assert.equal(commands.has('modelLab.resume'), ['cancelled', 'interrupted', 'failed'].includes(state), `Resume on ${state}`);
      assert.ok(commands.has('modelLab.openRun') && commands.has('modelLab.deleteRun'), 'every run opens and deletes');
    }
  }
  assert.ok(offered('sweep').has('modelLab.openSimilarity'), 'a sweep opens in the Similarity panel');
});

test('every single-run template belongs to the lab whose panel shows it', () => {
  const templates = join(__dirname, '..', '..', 'templates');
  for (const file of readdirSync(templates)) {
    const spec = JSON.parse(readFileSync(join(templates, file), 'utf8'));
    if (spec.kind !== 'train') continue;
    const expected = file.startsWith('retrieval-') ? 'attention' : file.startsWith('posterior-') ? 'posterior' : file.startsWith('sampler-') ? 'sampler' : 'similarity';
    assert.equal(labOf(spec)?.runContext, expected, file);
  }
  assert.equal(labOf({ task: { name: 'something-else' }, model: { name: 'x' } }), undefined);
  assert.equal(labOf(undefined), undefined);
});
