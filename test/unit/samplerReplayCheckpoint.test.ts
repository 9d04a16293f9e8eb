/**
 * Local search's replay buffers travel in checkpoints: a run resumed from a checkpoint has the
 * buffers (and so the metrics) of the uninterrupted run; on disk they are a checksummed tensor
 * group of the checkpoint folder; a damaged or malformed buffer is refused with a clear error.
 */
import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { ReplicaPeer } from '../../src/core/gradientShards';
import type { Checkpoint } from '../../src/core/sink';
import { parseSpec } from '../../src/core/spec/validate';
import { train } from '../../src/core/train';
import { loadCheckpoint, writeCheckpoint } from '../../src/runs/checkpoints';
import { RunFileError } from '../../src/runs/reader';
import { checkpointDir } from '../../src/runs/layout';
import { useWasmBackend } from '../helpers/backend';
import { MemorySink } from '../helpers/memorySink';

before(useWasmBackend);
let root = '';
before(() => (root = fs.mkdtempSync(path.join(os.tmpdir(), 'model-lab-replay-'))));
after(() => fs.rmSync(root, { recursive: true, force: true }));

const { spec, problems } = parseSpec(
  JSON.stringify({
    formatVersion: 1,
    kind: 'train',
    name: 'sampler-replay-resume',
    seed: 7,
    task: { name: 'sampler-gmm25' },
    model: { name: 'diffusion-sampler', steps: 4, hidden: 8, harmonics: 4 },
    objective: { name: 'trajectory-balance', exploration: 0.5, localSearch: true, localSearchEvery: 2, localSearchSteps: 4, localSearchBurnIn: 1, bufferSize: 50, evalSamples: 20 },
    training: { steps: 8, batchSize: 8, learningRate: 0.01, logEvery: 1, evalEvery: 8, evalBatches: 1, checkpointEvery: 4 },
  }),
  'replay.lab.json',
);

const stateValues = (checkpoint: Checkpoint | undefined) => Object.fromEntries((checkpoint?.objectiveState ?? []).map(({ name, tensor }) => [name, Array.from(tensor.dataSync())]));

test('a resumed local-search run keeps its replay buffers: the same buffers and metrics as the uninterrupted run', async () => {
  assert.deepEqual(problems, []);
  const whole = new MemorySink();
  await train({ spec: spec!, sink: whole, shouldStop: () => false });
  const atFour = stateValues(whole.checkpoints.get(4));
  assert.deepEqual(Object.keys(atFour).sort(), ['replay/policy/log-r', 'replay/policy/points', 'replay/searched/log-r', 'replay/searched/points']);
  assert.equal(atFour['replay/policy/points'].length, 2 * 2 * 8, 'steps 1 and 3 put 8 two-dimensional samples each in the policy buffer');
  assert.ok(atFour['replay/searched/log-r'].length > 0, 'the searches at steps 2 and 4 accepted states');
  const [lastStep, last] = whole.values().at(-1)!;
  assert.equal(lastStep, 8);
  assert.ok(last['eval/train/w2'] > 0 && Number.isFinite(last['eval/train/w2']), 'the last evaluation has the exact W2 (on 2 x evalSamples = 40 points here)');

  const resumed = new MemorySink();
  await train({ spec: spec!, sink: resumed, resumeFrom: whole.checkpoints.get(4), shouldStop: () => false });
  assert.deepEqual(stateValues(resumed.checkpoints.get(8)), stateValues(whole.checkpoints.get(8)));
  assert.deepEqual(resumed.values(), whole.values().filter(([step]) => step > 4));
});

test('with two gradient workers each keeps its own buffers (its shard\'s samples), and a resumed run keeps both', async () => {
  const twoWorkers = { ...spec!, training: { ...spec!.training, gradientWorkers: 2 as const } };
  const run = async (resumeFrom?: Checkpoint) => {
    const sink = new MemorySink();
    const gradientPeer = new ReplicaPeer(twoWorkers);
    try {
      await train({ spec: twoWorkers, sink, gradientPeer, shouldStop: () => false, ...(resumeFrom ? { resumeFrom } : {}) });
    } finally {
      gradientPeer.dispose();
    }
    return sink;
  };
  const whole = await run();
  const atFour = stateValues(whole.checkpoints.get(4));
  assert.deepEqual(Object.keys(atFour).sort(), [
    'replay/policy/log-r', 'replay/policy/points', 'replay/searched/log-r', 'replay/searched/points',
    'shard1/replay/policy/log-r', 'shard1/replay/policy/points', 'shard1/replay/searched/log-r', 'shard1/replay/searched/points',
  ]);
  assert.equal(atFour['shard1/replay/policy/points'].length, 2 * 2 * 4, "steps 1 and 3 put the second shard's 4 samples in its own policy buffer");
  assert.notDeepEqual(atFour['shard1/replay/policy/points'], atFour['replay/policy/points'], 'the shards draw different trajectories');

  const resumed = await run(whole.checkpoints.get(4));
  assert.deepEqual(stateValues(resumed.checkpoints.get(8)), stateValues(whole.checkpoints.get(8)));
  assert.deepEqual(resumed.values(), whole.values().filter(([step]) => step > 4));

  // A second shard's buffers in the checkpoint of a one-worker run are refused, not dropped.
  await assert.rejects(
    train({ spec: spec!, sink: new MemorySink(), resumeFrom: whole.checkpoints.get(4), shouldStop: () => false }),
    /checkpoint objective state: tensors of gradient worker 2 \(shard1\/replay\/policy\/points, \.\.\.\), but the run has training\.gradientWorkers 1/,
  );
});

test('the buffers round-trip through a checkpoint folder; a damaged or malformed buffer is refused in words', async () => {
  const sink = new MemorySink();
  await train({ spec: { ...spec!, training: { ...spec!.training, steps: 4 } }, sink, shouldStop: () => false });
  const checkpoint = sink.checkpoints.get(4)!;
  const runDir = path.join(root, 'run');
  await writeCheckpoint(runDir, checkpoint);
  const loaded = await loadCheckpoint(runDir, 4);
  assert.deepEqual(stateValues(loaded), stateValues(checkpoint));

  // The buffer file is checksummed: a changed byte names the file.
  const bin = path.join(checkpointDir(runDir, 4), 'objective.bin');
  const bytes = fs.readFileSync(bin);
  bytes[0] ^= 0xff;
  fs.writeFileSync(bin, bytes);
  await assert.rejects(loadCheckpoint(runDir, 4), (error) => error instanceof RunFileError && /objective\.bin: .*sha256/.test(error.message));
  // A truncated file is refused before it is read: its manifest says how many bytes it needs.
  fs.writeFileSync(bin, bytes.subarray(0, 8));
  await assert.rejects(loadCheckpoint(runDir, 4), (error) => error instanceof RunFileError && /objective\.json: its tensors need \d+ bytes but objective\.bin hold/.test(error.message));

  // Shapes and sizes are checked by the objective when a run resumes.
  const withState = (objectiveState: Checkpoint['objectiveState']): Checkpoint => ({ ...checkpoint, objectiveState });
  const resume = (state: Checkpoint['objectiveState']) => train({ spec: spec!, sink: new MemorySink(), resumeFrom: withState(state), shouldStop: () => false });
  const named = (name: string, tensor: tf.Tensor) => ({ name, tensor });
  const good = checkpoint.objectiveState!;
  const replaced = (name: string, tensor: tf.Tensor) => good.map((s) => (s.name === name ? named(name, tensor) : s));
  await assert.rejects(resume(replaced('replay/policy/points', tf.zeros([16, 3]))), /replay buffer 'policy': expected points \[n, 2\] and log R \[n\], got \[16, 3\] and \[16\]/);
  await assert.rejects(
    resume(replaced('replay/policy/points', tf.zeros([60, 2])).map((s) => (s.name === 'replay/policy/log-r' ? named(s.name, tf.zeros([60])) : s))),
    /replay buffer 'policy': holds 60 samples, more than the buffer's capacity 50 \(objective\.bufferSize\)/,
  );
  await assert.rejects(resume(replaced('replay/policy/points', tf.fill([16, 2], NaN))), /replay buffer 'policy': point 0 has a coordinate NaN, expected a finite number/);
  await assert.rejects(resume([...good, named('replay/other', tf.zeros([1]))]), /unknown tensor 'replay\/other'/);
  await assert.rejects(resume(good.filter((s) => s.name !== 'replay/searched/log-r')), /replay buffer 'searched': expected tensors replay\/searched\/points and replay\/searched\/log-r/);
});
