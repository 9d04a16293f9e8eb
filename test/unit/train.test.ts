import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { train } from '../../src/core/train';
import { openInference } from '../../src/core/inference';
import { MemorySink } from '../helpers/memorySink';
import { useWasmBackend } from '../helpers/backend';
import { retrievalSpec } from '../helpers/specs';

test('same spec and seed give the same metrics; another seed does not', async () => {
  await useWasmBackend();
  const run = async (seed: number) => {
    const sink = new MemorySink();
    await train({ spec: retrievalSpec({ seed }), sink, shouldStop: () => false });
    return sink.values();
  };
  const first = await run(1);
  assert.deepEqual(await run(1), first);
  assert.notDeepEqual(await run(2), first);
  assert.deepEqual(
    first.map(([step, values]) => [step, Object.keys(values)]),
    [
      [5, ['train/loss']],
      [10, ['train/loss']],
      [10, ['eval/train/l1', 'eval/ood/l1']],
      [15, ['train/loss']],
      [20, ['train/loss']],
      [20, ['eval/train/l1', 'eval/ood/l1']],
    ],
  );
});

test('resuming from a mid-run checkpoint reproduces the uninterrupted run exactly', async () => {
  await useWasmBackend();
  const spec = retrievalSpec({ training: { steps: 24, checkpointEvery: 100 } });
  const uninterrupted = new MemorySink();
  await train({ spec, sink: uninterrupted, shouldStop: () => false });

  // Cancel at step 7 (mid loss window, before any evaluation), then resume from that checkpoint.
  const interrupted = new MemorySink();
  let steps = 0;
  const cancelled = await train({ spec, sink: interrupted, shouldStop: () => steps++ === 7 });
  assert.deepEqual(cancelled, { state: 'cancelled', step: 7 });
  const checkpoint = interrupted.checkpoints.get(7);
  assert.ok(checkpoint, 'cancelling writes a checkpoint');
  const resumed = await train({ spec, sink: interrupted, resumeFrom: checkpoint, shouldStop: () => false });
  assert.deepEqual(resumed, { state: 'completed', step: 24 });
  assert.deepEqual(interrupted.values(), uninterrupted.values());
});

test('training keeps the number of live tensors flat', async () => {
  await useWasmBackend();
  const before = tf.memory().numTensors;
  const sink = new MemorySink();
  const counts: number[] = [];
  await train({
    spec: retrievalSpec({ training: { steps: 60, checkpointEvery: 1000 } }),
    sink,
    shouldStop: () => false,
    onProgress: () => counts.push(tf.memory().numTensors),
  });
  assert.ok(counts.length > 5);
  assert.equal(Math.max(...counts), Math.min(...counts), `tensor count drifted: ${counts}`);
  for (const c of sink.checkpoints.values()) tf.dispose([...c.weights, ...c.optimizer].map((t) => t.tensor));
  assert.equal(tf.memory().numTensors, before, 'everything is disposed after training');
});

test('an inference session shows an example with its attention maps and ground truth', async () => {
  await useWasmBackend();
  const spec = retrievalSpec();
  const sink = new MemorySink();
  await train({ spec, sink, shouldStop: () => false });
  const session = await openInference(spec, sink.checkpoints.get(20)!);
  const view = session.example('ood', 3);
  assert.equal(view.step, 20);
  const attention = view.inspect.searchMaps as number[][][];
  assert.equal(attention.length, 2);
  assert.equal(attention[0].length, 10);
  assert.equal((view.output as number[]).length, 10);
  assert.deepEqual(session.example('ood', 3), view, 'the same example every time');
  assert.throws(() => session.example('nope', 0), /unknown split 'nope'/);
  session.dispose();
});
