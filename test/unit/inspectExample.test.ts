import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describeInspection, inspectCheckpoint, parseInputFile, type TokenReading } from '../../src/core/retrieval/inspectExample';
import { train } from '../../src/core/train';
import type { Checkpoint, CheckpointSource } from '../../src/core/sink';
import { decodeSafetensors } from '../../src/core/weights/safetensors';
import { checkpointSource } from '../../src/runs/checkpointSource';
import { DiskRunSink, createRun } from '../../src/runs/store';
import { useWasmBackend } from '../helpers/backend';
import { MemorySink } from '../helpers/memorySink';
import { retrievalSpec } from '../helpers/specs';

const compositional = { name: 'compositional-attention', dim: 16, searches: 2, retrievals: 4, concat: true, gumbel: false, separateValueKeys: false };
const tinySpec = () => retrievalSpec({ model: compositional, training: { steps: 6, checkpointEvery: 3, evalEvery: 6, logEvery: 3 } });

/** A CheckpointSource over an in-memory sink; loads hand out copies, as the disk source does. */
function memorySource(sink: MemorySink): CheckpointSource {
  return {
    steps: () => [...sink.checkpoints.keys()].sort((a, b) => a - b),
    load: async (step) => {
      const c = sink.checkpoints.get(step)!;
      const copy = (list: Checkpoint['weights']) => list.map(({ name, tensor }) => ({ name, tensor: tf.clone(tensor) }));
      return { ...c, weights: copy(c.weights), optimizer: copy(c.optimizer) };
    },
  };
}

test('inspect reads, per token, what each search finds and which retrieval it uses, next to the truth', async () => {
  await useWasmBackend();
  const spec = tinySpec();
  const sink = new MemorySink();
  await train({ spec, sink, shouldStop: () => false });
  const source = memorySource(sink);
  const before = tf.memory().numTensors;

  const latest = await inspectCheckpoint(spec, source, { split: 'ood', example: 2 });
  assert.equal(latest.step, 6, 'the latest checkpoint by default');
  assert.equal(latest.split, 'ood');
  assert.equal(latest.tokens.length, 10);
  const maps = latest.view.inspect.searchMaps as number[][][];
  const alpha = latest.view.inspect.retrievalSelection as number[][][];
  const truth = latest.view.truth as { searched: number[][]; retrieved: number[][] };
  assert.equal(maps.length, 2);
  assert.deepEqual([alpha.length, alpha[0].length, alpha[0][0].length], [10, 2, 4]);
  for (const t of latest.tokens) {
    assert.equal(t.prediction, (latest.view.output as number[])[t.token]);
    assert.equal(t.target, (latest.view.targets as number[])[t.token]);
    assert.deepEqual(t.truth, { searched: truth.searched[t.token], retrieved: truth.retrieved[t.token] });
    t.searches.forEach((s, i) => {
      const row = maps[i][t.token];
      assert.equal(s.weight, Math.max(...row));
      assert.equal(row[s.finds], s.weight);
      assert.notEqual(s.finds, t.token, 'the diagonal is masked');
      assert.deepEqual(s.selection, alpha[t.token][i]);
      assert.equal(s.selection[s.retrieval], Math.max(...s.selection));
    });
  }
  const text = describeInspection(latest);
  assert.match(text, /^compositional-attention at step 6, split ood, example 2\n/);
  assert.match(text, /token 0 {2}target +-?\d\.\d{3} {2}output +-?\d\.\d{3} {2}truth: search 0 finds \d, wants retrieval \d; search 1 finds \d/);
  assert.match(text, /\n {2}model search 1: finds \d \(\d\.\d\d\), retrieval \d {2}\[\d\.\d\d \d\.\d\d \d\.\d\d \d\.\d\d\]/);

  // An earlier step, the default split, and the same example given as an input file.
  const early = await inspectCheckpoint(spec, source, { step: 3 });
  assert.deepEqual([early.step, early.split, early.example], [3, 'train', 0]);
  assert.notDeepEqual(early.view.output, latest.view.output);
  const given = await inspectCheckpoint(spec, source, {
    inputs: parseInputFile(JSON.stringify({ inputs: latest.view.inputs }), 'example.json')[0],
  });
  assert.equal(given.split, 'input');
  assert.deepEqual(given.view.output, latest.view.output);
  assert.deepEqual(given.view.inspect, latest.view.inspect);
  assert.equal(given.tokens[0].truth, undefined);
  assert.match(describeInspection(given), /given input/);

  await assert.rejects(inspectCheckpoint(spec, source, { step: 4 }), /no checkpoint at step 4: available steps are 3, 6/);
  await assert.rejects(inspectCheckpoint(spec, source, { split: 'test' }), /unknown split 'test': expected one of train, ood/);
  const shortRow = (latest.view.inputs as number[][]).map((row, i) => (i === 3 ? row.slice(1) : row));
  await assert.rejects(
    inspectCheckpoint(spec, source, { inputs: shortRow, inputSource: 'mine.json' }),
    /mine\.json: \/3: expected an array of 14 entries \(shape \[14\]\), got 13 entries/,
  );
  assert.throws(() => parseInputFile('{"x": 1}', 'mine.json'), /mine\.json: \/x: expected a non-empty array of examples/);
  assert.deepEqual(parseInputFile('{"x": [[[1, 2]], [[3, 4]]]}', 'two.json'), [[[1, 2]], [[3, 4]]], 'the issue\'s {"x": ...} format holds several examples');
  assert.throws(() => parseInputFile('[1,', 'mine.json'), /mine\.json: not valid JSON/);
  await assert.rejects(inspectCheckpoint(spec, { steps: () => [], load: async () => assert.fail() }), /no checkpoint yet/);
  assert.equal(tf.memory().numTensors, before, 'inspection leaves no tensor behind');
  for (const c of sink.checkpoints.values()) tf.dispose([...c.weights, ...c.optimizer].map((t) => t.tensor));
});

test('the CLI exports, imports and inspects a run folder', async () => {
  await useWasmBackend();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'model-lab-weights-'));
  try {
    const spec = tinySpec();
    const runDir = createRun(path.join(dir, 'runs'), spec, {
      environment: { backend: { name: 'wasm', requested: 'wasm', version: tf.version.tfjs }, versions: {}, workers: 1, platform: 'test' },
    });
    const sink = new DiskRunSink(runDir);
    await train({ spec, sink, shouldStop: () => false });
    sink.setState('completed');
    sink.close();

    const root = path.join(__dirname, '../..');
    // Relative file names resolve against the working folder: run in the repository (where tsx
    // is installed) and name the files by absolute path.
    const cli = (...args: string[]) => {
      const result = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, 'src/cli.ts'), ...args], {
        encoding: 'utf8',
        cwd: root,
      });
      return { code: result.status, stdout: result.stdout, stderr: result.stderr };
    };
    const file = path.join(dir, 'w.safetensors');
    const exported = cli('weights', 'export', runDir, file, '--step', '3');
    assert.equal(exported.code, 0, exported.stderr);
    assert.equal(exported.stdout.trim(), file);
    const { tensors, metadata } = decodeSafetensors(fs.readFileSync(file), file);
    assert.equal(metadata.step, '3');
    assert.ok(tensors.has('model.value_key.weight'));

    const imported = cli('weights', 'import', runDir, file);
    assert.equal(imported.code, 0, imported.stderr);
    assert.deepEqual(checkpointSource(runDir).steps(), [0, 3, 6]);
    const again = cli('weights', 'import', runDir, file);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /already has a checkpoint at step 0: pass --replace/);

    // The imported step-0 checkpoint holds the step-3 weights: the same readings.
    const at0 = cli('inspect', runDir, '--step', '0', '--split', 'ood', '--example', '1', '--json');
    assert.equal(at0.code, 0, at0.stderr);
    const reading0 = JSON.parse(at0.stdout);
    const reading3 = await inspectCheckpoint(spec, checkpointSource(runDir), { step: 3, split: 'ood', example: 1 });
    assert.equal(reading0.step, 0);
    assert.equal(reading0.tokens.length, 10);
    reading0.tokens.forEach((token: TokenReading, i: number) => {
      assert.ok(Math.abs(token.prediction - reading3.tokens[i].prediction) < 1e-5, 'cpu and wasm agree closely');
      assert.deepEqual(token.searches.map((s) => [s.finds, s.retrieval]), reading3.tokens[i].searches.map((s) => [s.finds, s.retrieval]));
    });

    const text = cli('inspect', runDir);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /^compositional-attention at step 6, split train, example 0\ntoken 0 /);

    const badFile = path.join(dir, 'bad.safetensors');
    fs.writeFileSync(badFile, 'nonsense!');
    const bad = cli('weights', 'import', runDir, badFile, '--step', '9');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^model-lab: .*bad\.safetensors: not a safetensors file/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
