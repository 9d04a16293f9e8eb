// VS Code expands and validates a sweep in a thread of its own: the same result (or the same
// located problems) as loadSweepFile, while the calling thread keeps running (issue 18, item 8).
import { before, after, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import '../../src/core/labs';
import { SpecError } from '../../src/core/spec/types';
import { loadSweepFile } from '../../src/core/spec/validate';
import { expandSweepOffThread } from '../../src/engine/sweepExpansion';
import { bundleWorker } from '../helpers/bundle';

let tmp: string;
let workerScript: string;

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'model-lab-sweep-expansion-'));
  workerScript = path.join(tmp, 'sweepExpansion.js');
  await bundleWorker('src/engine/sweepExpansionWorker.ts', workerScript);
});

after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function writeSweep(name: string, grid: Record<string, unknown[]>): string {
  const file = path.join(tmp, `${name}.lab.json`);
  const base = {
    task: { name: 'same-diff', m: 0 },
    model: { name: 'corelnet' },
    objective: { name: 'cross-entropy' },
    training: { steps: 4, batchSize: 4 },
  };
  fs.writeFileSync(file, JSON.stringify({ formatVersion: 1, kind: 'sweep', name, base, grid }, null, 2));
  return file;
}

test('the expanded sweep equals the in-thread expansion', async () => {
  const file = writeSweep('grid', { '/model/name': ['corelnet', 'relational-lstm'], '/task/m': [0, 95], '/seed': [0, 1] });
  const offThread = await expandSweepOffThread(file, workerScript);
  assert.deepEqual(offThread, loadSweepFile(file));
  assert.equal(offThread.members.length, 8);
});

test('an invalid member is the same located SpecError', async () => {
  const file = writeSweep('bad', { '/task/m': [0, -3] });
  const expected = (() => {
    try {
      loadSweepFile(file);
    } catch (error) {
      return error as SpecError;
    }
    throw new Error('the sweep should be invalid');
  })();
  await assert.rejects(expandSweepOffThread(file, workerScript), (error: unknown) => {
    assert.ok(error instanceof SpecError);
    assert.deepEqual(error.problems, expected.problems);
    assert.equal(error.file, file);
    return true;
  });
});

test('the calling thread keeps running while a large grid is expanded', async () => {
  const file = writeSweep('large', { '/task/m': [0, 10, 20, 30, 40, 50, 60, 70, 80, 90], '/seed': Array.from({ length: 200 }, (_, i) => i) });
  let ticks = 0;
  const timer = setInterval(() => ticks++, 5);
  try {
    const { members } = await expandSweepOffThread(file, workerScript);
    assert.equal(members.length, 2000);
  } finally {
    clearInterval(timer);
  }
  // In-thread, the synchronous expansion would hold the event loop: no tick at all.
  assert.ok(ticks > 0, 'timers ran during the expansion');
});
