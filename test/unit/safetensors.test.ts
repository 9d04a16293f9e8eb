import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { decodeSafetensors, encodeSafetensors, float32Values, SafetensorsError } from '../../src/core/weights/safetensors';
import { exportCheckpoint, importCheckpoint, officialLayoutOf, WeightsLayoutError } from '../../src/core/weights/officialLayout';
import { openInference } from '../../src/core/inference';
import { train } from '../../src/core/train';
import type { Checkpoint } from '../../src/core/sink';
import { useWasmBackend } from '../helpers/backend';
import { MemorySink } from '../helpers/memorySink';
import { retrievalSpec } from '../helpers/specs';

const fixture = JSON.parse(readFileSync(join(__dirname, '../fixtures/official-keys.json'), 'utf8')) as Record<string, Array<[string, number[]]>>;

/** The notes' sizes: 14 input features (2 searches x 4 retrievals), width 64, concat. */
const paperSpec = (model: Record<string, unknown>) =>
  retrievalSpec({ model: { concat: true, dim: 64, ...model } });
const compositional = { name: 'compositional-attention', searches: 2, retrievals: 4, gumbel: false, separateValueKeys: false };
const multiHead = { name: 'multi-head-attention', heads: 2 };

/** A safetensors file written byte by byte, as another implementation would (any dtype, any order). */
function handMadeFile(header: Record<string, unknown>, data: Uint8Array, pad = 0): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header) + ' '.repeat(pad));
  const file = new Uint8Array(8 + json.length + data.length);
  new DataView(file.buffer).setBigUint64(0, BigInt(json.length), true);
  file.set(json, 8);
  file.set(data, 8 + json.length);
  return file;
}

const disposeCheckpoint = (c: Checkpoint) => tf.dispose([...c.weights, ...c.optimizer].map((t) => t.tensor));

test('the format: u64 little-endian header length, space-padded JSON header, little-endian F32 data', () => {
  const file = encodeSafetensors(
    [
      { name: 'b', shape: [2], data: Float32Array.from([1, -2]) },
      { name: 'a', shape: [1, 1], data: Float32Array.from([0.5]) },
    ],
    { format: 'pt' },
  );
  const view = new DataView(file.buffer);
  const headerLength = Number(view.getBigUint64(0, true));
  assert.equal((8 + headerLength) % 8, 0, 'data starts 8-byte aligned');
  const headerText = new TextDecoder().decode(file.subarray(8, 8 + headerLength));
  assert.match(headerText, /^\{.*\} *$/);
  assert.deepEqual(JSON.parse(headerText), {
    __metadata__: { format: 'pt' },
    b: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
    a: { dtype: 'F32', shape: [1, 1], data_offsets: [8, 12] },
  });
  assert.equal(file.length, 8 + headerLength + 12);
  const data = 8 + headerLength;
  assert.deepEqual([view.getFloat32(data, true), view.getFloat32(data + 4, true), view.getFloat32(data + 8, true)], [1, -2, 0.5]);
  // Bytes of 1.0f little-endian: 00 00 80 3f.
  assert.deepEqual([...file.subarray(data, data + 4)], [0x00, 0x00, 0x80, 0x3f]);

  const decoded = decodeSafetensors(file, 'x.safetensors');
  assert.deepEqual([...decoded.tensors.keys()], ['b', 'a']);
  assert.deepEqual(decoded.metadata, { format: 'pt' });
  assert.deepEqual(Array.from(float32Values(decoded.tensors.get('b')!)), [1, -2]);
});

test('files written by other tools decode: any key order, other dtypes, trailing spaces', () => {
  const data = new Uint8Array(16);
  const view = new DataView(data.buffer);
  view.setFloat64(0, 3.25, true);
  view.setFloat32(8, 7, true);
  view.setFloat32(12, -1, true);
  const file = handMadeFile(
    {
      w: { dtype: 'F32', shape: [2], data_offsets: [8, 16] },
      d: { dtype: 'F64', shape: [], data_offsets: [0, 8] },
    },
    data,
    5,
  );
  const { tensors, metadata } = decodeSafetensors(file, 'other.safetensors');
  assert.deepEqual(metadata, {});
  assert.deepEqual(Array.from(float32Values(tensors.get('w')!)), [7, -1]);
  assert.equal(tensors.get('d')!.dtype, 'F64');
  assert.throws(() => float32Values(tensors.get('d')!), /expected dtype F32, got F64/);
});

test('broken files are refused with a located reason', () => {
  const ok = { dtype: 'F32', shape: [2], data_offsets: [0, 8] };
  const cases: Array<[Uint8Array, RegExp]> = [
    [new Uint8Array(3), /bad\.safetensors: not a safetensors file: 3 bytes/],
    [handMadeFile({ a: ok }, new Uint8Array(8)).subarray(0, 20), /header length \(\d+ bytes\) exceeds the file/],
    [(() => { const f = handMadeFile({ a: ok }, new Uint8Array(8)); f[8] = 0x5b; return f; })(), /header is not valid JSON/],
    [handMadeFile({ a: { ...ok, dtype: 'F33' } }, new Uint8Array(8)), /tensor 'a': unknown dtype "F33"/],
    [handMadeFile({ a: { ...ok, shape: [3] } }, new Uint8Array(8)), /tensor 'a': data_offsets \[0, 8\] hold 8 bytes, but F32 \[3\] needs 12/],
    [handMadeFile({ a: { ...ok, shape: [-2] } }, new Uint8Array(8)), /shape must be a list of non-negative integers/],
    [handMadeFile({ a: ok }, new Uint8Array(4)), /its data ends at byte 8, past the end of the data \(4 bytes\)/],
    [handMadeFile({ a: ok }, new Uint8Array(12)), /the data holds 12 bytes but the tensors cover 8/],
    [handMadeFile({ a: ok, b: { ...ok, shape: [1], data_offsets: [4, 8] } }, new Uint8Array(8)), /starts at byte 4 of the data, expected 8/],
    [handMadeFile({ __metadata__: { n: 1 } }, new Uint8Array(0)), /__metadata__\.n must be a string/],
  ];
  for (const [file, message] of cases) {
    assert.throws(() => decodeSafetensors(file, 'bad.safetensors'), (error: unknown) => {
      assert.ok(error instanceof SafetensorsError, String(error));
      assert.match(error.message, message);
      return true;
    });
  }
});

test('hostile header values (found by test/fuzz) give short located errors, never a crash', () => {
  /** A file whose header is the given JSON text, written as is (JSON.stringify cannot write a 100,000-deep value). */
  const rawHeader = (text: string, data = new Uint8Array(8)) => {
    const json = new TextEncoder().encode(text);
    const file = new Uint8Array(8 + json.length + data.length);
    new DataView(file.buffer).setBigUint64(0, BigInt(json.length), true);
    file.set(json, 8);
    file.set(data, 8 + json.length);
    return file;
  };
  const entry = (fields: string) => rawHeader(`{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]${fields}}}`);
  const deep = '['.repeat(100_000) + ']'.repeat(100_000);
  const cases: Array<[Uint8Array, RegExp]> = [
    // `in` finds these on every object: they were taken for dtypes ("but toString [2] needs NaN").
    [entry(',"dtype":"toString"'), /tensor 'a': unknown dtype "toString"/],
    [entry(',"dtype":"__proto__"'), /tensor 'a': unknown dtype "__proto__"/],
    // Echoed whole, a value made the message as long as the file; nested deep, it overflowed JSON.stringify's stack.
    [entry(`,"shape":"${'x'.repeat(1_000_000)}"`), /tensor 'a': shape must be a list of non-negative integers, got "x{57}\.\.\."$/],
    [entry(`,"dtype":${deep}`), /tensor 'a': unknown dtype a list of 1 items$/],
    [entry(`,"data_offsets":[0,8,${Array(10_000).fill(1).join(',')}]`), /data_offsets must be \[begin, end\], got a list of 10002 items$/],
    [rawHeader(`{"${'n'.repeat(1_000_000)}":{"dtype":"F33","shape":[],"data_offsets":[0,4]}}`), /tensor 'n{57}\.\.\.': unknown dtype "F33"$/],
    [rawHeader(`{"__metadata__":{"k":${deep}}}`, new Uint8Array(0)), /__metadata__\.k must be a string, got a list of 1 items$/],
  ];
  for (const [file, message] of cases) {
    assert.throws(() => decodeSafetensors(file, 'bad.safetensors'), (error: unknown) => {
      assert.ok(error instanceof SafetensorsError, String(error));
      assert.match(error.message, message);
      assert.ok(error.message.length < 200, `${error.message.length} characters`);
      return true;
    });
  }
});

test('the official key list (fixture from the notes) is what our layout gives, for both models', async () => {
  await useWasmBackend();
  for (const [name, model] of [['compositional-attention', compositional], ['multi-head-attention', multiHead]] as const) {
    const layout = officialLayoutOf(paperSpec(model)).map(({ key, shape }) => [key, shape]);
    assert.deepEqual(layout, fixture[name], name);
  }
  // `separateValueKeys`: the official GroupLinearLayer parameters w [R, d_v, d_s] and b [1, R, d_s].
  const separate = new Map(officialLayoutOf(paperSpec({ ...compositional, separateValueKeys: true })).map((e) => [e.key, e.shape]));
  assert.deepEqual(separate.get('model.value_key.w'), [4, 16, 32]);
  assert.deepEqual(separate.get('model.value_key.b'), [1, 4, 32]);
  assert.equal(separate.has('model.value_key.weight'), false);
});

async function trainedCheckpoint(model: Record<string, unknown>) {
  const spec = retrievalSpec({ model, training: { steps: 4, checkpointEvery: 4, evalEvery: 4, logEvery: 2 } });
  const sink = new MemorySink();
  await train({ spec, sink, shouldStop: () => false });
  return { spec, checkpoint: sink.checkpoints.get(4)! };
}

for (const model of [
  { name: 'compositional-attention', dim: 16, searches: 2, retrievals: 4, concat: true, gumbel: false, separateValueKeys: false },
  { name: 'compositional-attention', dim: 16, searches: 2, retrievals: 4, searchDim: 8, valueDim: 12, concat: false, gumbel: false, separateValueKeys: true },
  { name: 'multi-head-attention', dim: 16, heads: 2, concat: true },
]) {
  test(`export then import gives identical weights and outputs (${JSON.stringify(model)})`, async () => {
    await useWasmBackend();
    const before = tf.memory().numTensors;
    const { spec, checkpoint } = await trainedCheckpoint(model);
    const file = exportCheckpoint(spec, checkpoint);

    // The file holds exactly the official keys, in PyTorch's [out, in] layout.
    const { tensors, metadata } = decodeSafetensors(file, 'exported');
    assert.deepEqual([...tensors.keys()], officialLayoutOf(spec).map((e) => e.key));
    assert.equal(metadata.model, model.name);
    assert.equal(metadata.step, '4');
    const ourKernel = checkpoint.weights.find((w) => w.name === 'encoder.0.kernel')!.tensor; // [14, 16]
    const official = tensors.get('encoder.0.weight')!; // [16, 14]
    assert.deepEqual(official.shape, [16, 14]);
    assert.equal(float32Values(official)[1 * 14 + 3], (await ourKernel.array() as number[][])[3][1]);

    const imported = importCheckpoint(spec, file, 'exported', 7);
    assert.equal(imported.step, 7);
    assert.deepEqual(imported.weights.map((w) => w.name), checkpoint.weights.map((w) => w.name));
    for (const [i, { name, tensor }] of imported.weights.entries()) {
      assert.deepEqual(tensor.shape, checkpoint.weights[i].tensor.shape, name);
      assert.deepEqual(Array.from(await tensor.data()), Array.from(await checkpoint.weights[i].tensor.data()), name);
    }
    // A fresh optimizer state (zero moments) with the names the training loop restores.
    assert.deepEqual(imported.optimizer.map((t) => t.name), checkpoint.optimizer.map((t) => t.name));
    for (const { tensor } of imported.optimizer) assert.equal(tf.tidy(() => tf.max(tf.abs(tensor)).dataSync()[0]), 0);

    const outputs = async (c: Checkpoint) => {
      const session = await openInference(spec, c);
      try {
        return ['train', 'ood'].map((split) => session.example(split, 2));
      } finally {
        session.dispose();
      }
    };
    const [original, roundTripped] = [await outputs(checkpoint), await outputs(imported)];
    assert.deepEqual(roundTripped.map((v) => [v.output, v.inspect]), original.map((v) => [v.output, v.inspect]));

    // Training resumes from an imported checkpoint.
    const sink = new MemorySink();
    const resumed = await train({ spec: { ...spec, training: { ...spec.training, steps: 9 } }, sink, resumeFrom: imported, shouldStop: () => false });
    assert.deepEqual(resumed, { state: 'completed', step: 9 });
    for (const c of sink.checkpoints.values()) disposeCheckpoint(c);
    disposeCheckpoint(imported);
    disposeCheckpoint(checkpoint);
    assert.equal(tf.memory().numTensors, before, 'no tensor left behind');
  });
}

test('import names every problem: missing and unexpected keys, wrong shapes, wrong dtypes', async () => {
  await useWasmBackend();
  const { spec, checkpoint } = await trainedCheckpoint({ name: 'multi-head-attention', dim: 16, heads: 2, concat: true });
  const { tensors } = decodeSafetensors(exportCheckpoint(spec, checkpoint), 'exported');
  disposeCheckpoint(checkpoint);
  const entries = [...tensors].map(([name, t]) => ({ name, shape: t.shape, data: float32Values(t) }));

  const without = entries.filter((e) => e.name !== 'model.key_net.bias');
  const renamed = entries.map((e) => (e.name === 'model.in_.weight' ? { ...e, name: 'model.in.weight' } : e));
  const reshaped = entries.map((e) => (e.name === 'model.out_proj.weight' ? { ...e, shape: [e.shape[1], e.shape[0]] } : e));
  const attempt = (file: Uint8Array) => () => importCheckpoint(spec, file, 'theirs.safetensors', 0);
  const problemsOf = (file: Uint8Array): string[] => {
    try {
      attempt(file)();
    } catch (error) {
      assert.ok(error instanceof WeightsLayoutError, String(error));
      assert.match(error.message, /^theirs\.safetensors does not fit the model:/);
      return error.problems;
    }
    assert.fail('import should have failed');
  };
  assert.deepEqual(problemsOf(encodeSafetensors(without)), ["missing key 'model.key_net.bias' (expected F32 [16])"]);
  assert.deepEqual(problemsOf(encodeSafetensors(renamed)), [
    "missing key 'model.in_.weight' (expected F32 [8,16])",
    "unexpected key 'model.in.weight' (F32 [8,16])",
  ]);
  assert.deepEqual(problemsOf(encodeSafetensors(reshaped)), ["key 'model.out_proj.weight': wrong shape [24,16], expected [16,24]"]);

  // The same weights stored as F64 (as `model.double()` would save them).
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const e of entries) {
    header[e.name] = { dtype: 'F64', shape: e.shape, data_offsets: [offset, offset + e.data.length * 8] };
    offset += e.data.length * 8;
  }
  const problems = problemsOf(handMadeFile(header, new Uint8Array(offset)));
  assert.equal(problems.length, entries.length);
  assert.equal(problems[0], "key 'encoder.0.weight': wrong dtype F64, expected F32");
  assert.throws(attempt(new Uint8Array(4)), SafetensorsError);

  // A file of thousands of keys, one of them a megabyte long: at most 20 problems listed, keys and shapes cut short.
  const extra = Array.from({ length: 2000 }, (_, i) => ({ name: i === 0 ? 'k'.repeat(1_000_000) : `extra.${i}`, shape: Array(100).fill(1), data: Float32Array.of(i) }));
  assert.throws(attempt(encodeSafetensors([...entries, ...extra])), (error: unknown) => {
    assert.ok(error instanceof WeightsLayoutError, String(error));
    assert.equal(error.problems.length, 2000);
    assert.match(error.message, /unexpected key 'k{77}\.\.\.' \(F32 \[1,1,1,1,1,1,1,1,\.\.\. \(100 dimensions\)\]\)\n/);
    assert.match(error.message, /\n  - and 1980 more$/);
    assert.ok(error.message.length < 3000, `${error.message.length} characters`);
    return true;
  });
});
