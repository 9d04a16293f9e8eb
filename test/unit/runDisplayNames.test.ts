// One name per run everywhere (issue 22 item 5): a run picker's item and the tooltip's first line
// show the run's display name (experiment and start time for a run called by its folder id), the
// folder id stays searchable in the item's detail line.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RunSummary } from '../../src/protocol';
import { runPickItem, runTooltipLines } from '../../src/host/runs/runsTreeModel';

function run(id: string, name = id): RunSummary {
  return {
    id, dir: `/runs/${id}`, name, experiment: 'mha', state: 'completed', step: 300, totalSteps: 300,
    createdAt: '2025-01-31T14:25:01.000Z', notes: '', tags: ['baseline'],
  };
}

test('a run picker item: the display name, state and tags, and the folder id to search by', () => {
  assert.deepEqual(runPickItem(run('20250131-142501-mha-2')), {
    label: 'mha 2025-01-31 14:25:01 #2',
    description: '300/300 · #baseline',
    detail: '20250131-142501-mha-2',
  });
  assert.deepEqual(runPickItem(run('20250131-142501-mha', 'first try')), {
    label: 'first try',
    description: '300/300 · #baseline',
    detail: 'mha · 20250131-142501-mha',
  });
});

test('the tooltip starts with the display name, then the folder id', () => {
  assert.equal(runTooltipLines(run('20250131-142501-mha'))[0], 'mha 2025-01-31 14:25:01 (20250131-142501-mha)');
  assert.equal(runTooltipLines(run('imported-run'))[0], 'imported-run');
});
