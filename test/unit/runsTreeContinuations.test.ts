// The Runs view nests a continued run (Continue Training) under the run it continues, so its row
// needs no parent name: the side bar is narrow, and "continues <name> at step N" after the run's
// own name and steps was cut off (test-results/e2e/continue-training/runs-view.png).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RunSummary } from '../../src/protocol';
import { groupByExperiment, nestContinuations, nestedContinuationDescription } from '../../src/host/runs/runsTreeModel';

function run(id: string, createdAt: string, init?: { run: string; step: number }): RunSummary {
  return {
    id, dir: `/ws/.model-lab/runs/${id}`, name: id, experiment: 'e', state: 'completed', step: 30, totalSteps: 30,
    createdAt, notes: '', tags: [], ...(init ? { init } : {}),
  };
}

const ids = (runs: readonly RunSummary[]) => runs.map((r) => r.id);

test('a run continued within its group holds its continuations; a chain nests down, newest first as the group', () => {
  const [group] = groupByExperiment([
    run('a', '2026-01-01T10:00:00Z'),
    run('b', '2026-01-01T11:00:00Z', { run: 'a', step: 40 }),
    run('c', '2026-01-01T12:00:00Z', { run: 'b', step: 30 }),
    run('d', '2026-01-01T13:00:00Z', { run: 'a', step: 40 }),
    run('e', '2026-01-01T14:00:00Z'),
  ]);
  const { roots, continuations } = nestContinuations(group.runs);
  assert.deepEqual(ids(roots), ['e', 'a']);
  assert.deepEqual([...continuations].map(([parent, runs]) => [parent, ids(runs)]), [['a', ['d', 'b']], ['b', ['c']]]);
});

test('a parent outside the group (deleted, another experiment) or not older leaves the run at the top: no run is hidden by a hand-edited init cycle', () => {
  const runs = [
    run('x', '2026-01-01T10:00:00Z', { run: 'y', step: 5 }),
    run('y', '2026-01-01T11:00:00Z', { run: 'x', step: 5 }),
    run('z', '2026-01-01T12:00:00Z', { run: 'gone', step: 5 }),
    run('self', '2026-01-01T13:00:00Z', { run: 'self', step: 5 }),
  ];
  const { roots, continuations } = nestContinuations(runs);
  assert.deepEqual(ids(roots), ['x', 'z', 'self']);
  assert.deepEqual([...continuations].map(([parent, nested]) => [parent, ids(nested)]), [['x', ['y']]]);
});

test('a nested run\'s description is the steps it took the joined curve over, short enough for the side bar', () => {
  const continued = run('b', '2026-01-01T11:00:00Z', { run: 'a', step: 40 });
  assert.equal(nestedContinuationDescription(continued, 40), '40→70');
  assert.equal(nestedContinuationDescription({ ...continued, state: 'running', step: 12, tags: ['more'] }, 40), 'running 40→52 of 70 · #more');
});
