import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { WorkerGradientPeer } from '../../src/engine/gradientPeer';
import type { ResolvedSpec } from '../../src/core/spec/types';

const script = join(__dirname, '../fixtures/echo-gradient-worker.js');

test('a ready gradient worker gets the request while the leader computes its own shard, not after', async () => {
  const peer = new WorkerGradientPeer({} as ResolvedSpec, { backend: 'cpu', wasmDir: '', script });
  try {
    await peer.compute(1, 1, []); // the first request waits for the worker to start
    const remote = peer.compute(2, 1, []);
    // The leader's own shard: synchronous work on this thread, as in the training loop.
    const busyUntil = Date.now() + 300;
    while (Date.now() < busyUntil);
    const { loss: receivedAt } = await remote;
    assert.ok(receivedAt < busyUntil - 100, `the worker received the request ${receivedAt - busyUntil} ms after the leader's shard ended; it should start while the leader computes`);
  } finally {
    await peer.dispose();
  }
});
