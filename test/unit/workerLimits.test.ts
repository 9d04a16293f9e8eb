// Workers read untrusted run folders: their JavaScript heap is bounded, and running out of it is
// reported in words (issue 18, item 1).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { once } from 'node:events';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { WORKER_RESOURCE_LIMITS, describeWorkerError, startLimitedWorker } from '../../src/engine/workerLimits';

function script(body: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'model-lab-limits-'));
  const file = path.join(dir, 'worker.js');
  fs.writeFileSync(file, body);
  return file;
}

test('workers start with the resource limits', async () => {
  const worker = startLimitedWorker(script("require('node:worker_threads').parentPort.postMessage(require('node:worker_threads').resourceLimits);"));
  const [limits] = await once(worker, 'message');
  assert.equal(limits.maxOldGenerationSizeMb, WORKER_RESOURCE_LIMITS.maxOldGenerationSizeMb);
  assert.equal(limits.maxYoungGenerationSizeMb, WORKER_RESOURCE_LIMITS.maxYoungGenerationSizeMb);
  await once(worker, 'exit');
});

test('a worker that outgrows its heap is stopped with a message naming the limit', async () => {
  const limits = { maxOldGenerationSizeMb: 32, maxYoungGenerationSizeMb: 8 };
  const worker = startLimitedWorker(script('const hoard = []; for (;;) hoard.push({ padding: new Array(1000).fill(hoard.length) });'), {}, limits);
  const [error] = await once(worker, 'error');
  assert.equal((error as NodeJS.ErrnoException).code, 'ERR_WORKER_OUT_OF_MEMORY');
  assert.match(describeWorkerError(error as Error, limits), /ran out of memory \(its JavaScript heap is limited to 32 MB\)/);
});
