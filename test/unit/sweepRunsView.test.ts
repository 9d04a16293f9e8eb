import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunSummary } from '../../src/protocol';
import { groupBySweep, sweepDescription } from '../../src/host/runs/runsTreeModel';
import { isSweepFolder, listSweepFolders } from '../../src/runs/sweeps';
import { RunRegistry } from '../../src/host/runs/runRegistry';
import { createRun } from '../../src/runs/store';
import { parseSpec } from '../../src/core/spec/validate';

const run = (id: string, state: RunSummary['state'], experiment = id): RunSummary => ({
  id, dir: `/runs/${id}`, name: id, experiment, state, step: 0, totalSteps: 10, createdAt: '2025-01-01T00:00:00Z', notes: '', tags: [],
});

test('members are grouped under their sweep, other runs stay grouped by experiment', () => {
  const runs = [run('a', 'completed'), run('b', 'running'), run('c', 'failed'), run('solo', 'completed')];
  const sweeps = [{ id: 's1', record: { name: 'grid', createdAt: '2025', members: [{ label: 'x.m0', runId: 'a' }, { label: 'x.m95', runId: 'b' }, { label: 'y.m0', runId: 'c' }, { label: 'y.m95', runId: 'gone' }] } }];
  const { sweeps: groups, others } = groupBySweep(runs, sweeps);
  assert.deepEqual(others.map((r) => r.id), ['solo']);
  assert.deepEqual(groups[0].members.map((m) => [m.label, m.run?.id]), [['x.m0', 'a'], ['x.m95', 'b'], ['y.m0', 'c'], ['y.m95', undefined]]);
  assert.equal(sweepDescription(groups[0]), '4 runs: 1 completed, 1 running, 1 failed, 1 missing');
});

test('the registry lists sweep folders as sweeps, never as (broken) runs', () => {
  const runsDir = mkdtempSync(join(tmpdir(), 'sweep-registry-'));
  try {
    const spec = parseSpec(JSON.stringify({
      formatVersion: 1, kind: 'train', name: 'grid.m0', task: { name: 'same-diff' }, model: { name: 'corelnet' }, objective: { name: 'cross-entropy' },
    }), 'x').spec!;
    const environment = { backend: { name: 'cpu' as const, requested: 'cpu' as const, version: '4.22.0' }, versions: {}, workers: 1, platform: 'test' };
    const member = createRun(runsDir, spec, { environment });
    const sweepDir = join(runsDir, '20250101-000000-grid');
    mkdirSync(sweepDir);
    writeFileSync(join(sweepDir, 'sweep.json'), JSON.stringify({
      formatVersion: 1, id: '20250101-000000-grid', name: 'grid', createdAt: '2025-01-01T00:00:00Z',
      sweep: { grid: { '/task/m': [0] } }, members: [{ index: 0, label: 'm0', point: { '/task/m': 0 }, runId: member.split(/[\\/]/).pop() }],
    }));
    mkdirSync(join(runsDir, 'broken-sweep'));
    writeFileSync(join(runsDir, 'broken-sweep', 'sweep.json'), '{"formatVersion": 1}');
    assert.ok(isSweepFolder(sweepDir));
    const problems: string[] = [];
    assert.deepEqual(listSweepFolders(runsDir, (dir) => problems.push(dir)).map((s) => s.id), ['20250101-000000-grid']);
    assert.equal(problems.length, 1, 'a broken sweep.json is reported, not listed');

    const registry = new RunRegistry({ pollIntervalMs: 0 });
    registry.setRunsDirs([runsDir]);
    assert.deepEqual(registry.listRuns().map((r) => r.experiment), ['grid.m0']);
    assert.equal(registry.listSweeps().length, 1);
    assert.equal(registry.readSweep('20250101-000000-grid')?.record.members[0].label, 'm0');
    registry.refreshRunDir(sweepDir);
    assert.equal(registry.listRuns().length, 1, 'a watcher event on the sweep folder does not add it as a run');
    registry.dispose();
  } finally {
    rmSync(runsDir, { recursive: true, force: true });
  }
});
