// Export and import of weights for every model of the templates (issue 21, item 3): each template's
// model round-trips bit for bit; CoRelNet and the posterior transformer take the keys and layouts of
// their PyTorch references in bench/reference/ (checked against PyTorch itself by
// bench/weights-pytorch.mjs); parameters without a counterpart are `model_lab.` keys listed in the
// metadata; a file that does not fit is a located error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { buildExperiment } from '../../src/core/experiment';
import { createRng } from '../../src/core/rng';
import type { Checkpoint } from '../../src/core/sink';
import { isSweepText, loadSpecFile } from '../../src/core/spec/validate';
import type { ResolvedSpec } from '../../src/core/spec/types';
import { disposeExperiment } from '../../src/core/train';
import { exportCheckpoint, importCheckpoint, METADATA, officialLayoutOf, WeightsLayoutError } from '../../src/core/weights/officialLayout';
import { decodeSafetensors, encodeSafetensors, float32Values, type Float32Entry } from '../../src/core/weights/safetensors';
import { useWasmBackend } from '../helpers/backend';

const TEMPLATES = join(__dirname, '../../templates');

function templateSpecs(): Array<[string, ResolvedSpec]> {
  return readdirSync(TEMPLATES)
    .filter((f) => f.endsWith('.lab.json') && !isSweepText(readFileSync(join(TEMPLATES, f), 'utf8')))
    .map((f) => [f, loadSpecFile(join(TEMPLATES, f))]);
}

const templateSpec = (name: string) => loadSpecFile(join(TEMPLATES, `${name}.lab.json`));

/**
 * A checkpoint of the spec's model with a distinct seeded value in every entry (layer norm gains of
 * 1 and biases of 0 would hide a swapped or transposed tensor).
 */
function checkpointOf(spec: ResolvedSpec): Checkpoint {
  const experiment = buildExperiment(spec);
  try {
    const rng = createRng(7, 'weights-layout-test');
    const weights = experiment.model.parameters.map(({ name, variable }) => ({
      name,
      tensor: tf.tensor(Float32Array.from({ length: variable.size }, () => rng.normal()), variable.shape, 'float32'),
    }));
    return { step: 3, weights, optimizer: [] };
  } finally {
    disposeExperiment(experiment);
  }
}

const disposeCheckpoint = (c: Checkpoint) => tf.dispose([...c.weights, ...c.optimizer].map((t) => t.tensor));

const bytesOf = (t: tf.Tensor) => Buffer.from((t.dataSync() as Float32Array).buffer.slice(0));

test('every template: export then import gives the same parameters bit for bit', async () => {
  await useWasmBackend();
  const specs = templateSpecs();
  assert.ok(specs.length >= 18, `${specs.length} templates`);
  for (const [file, spec] of specs) {
    const before = tf.memory().numTensors;
    const checkpoint = checkpointOf(spec);
    const exported = exportCheckpoint(spec, checkpoint);
    const { tensors, metadata } = decodeSafetensors(exported, file);
    assert.equal(tensors.size, checkpoint.weights.length, file);
    assert.equal(metadata.model, spec.model.name, file);
    // The metadata lists exactly the keys that are Model Lab's own.
    const own = [...tensors.keys()].filter((k) => k.startsWith('model_lab.'));
    assert.deepEqual(metadata[METADATA.modelLabKeys] === undefined ? [] : JSON.parse(metadata[METADATA.modelLabKeys]), own, file);
    assert.equal(metadata[METADATA.modelLabKeysWhy] !== undefined, own.length > 0, file);

    const imported = importCheckpoint(spec, exported, file, 3);
    assert.deepEqual(imported.weights.map((w) => w.name), checkpoint.weights.map((w) => w.name), file);
    for (const [i, { name, tensor }] of imported.weights.entries()) {
      const original = checkpoint.weights[i].tensor;
      assert.deepEqual(tensor.shape, original.shape, `${file}: ${name}`);
      assert.ok(bytesOf(tensor).equals(bytesOf(original)), `${file}: ${name} differs after the round trip`);
    }
    disposeCheckpoint(imported);
    disposeCheckpoint(checkpoint);
    assert.equal(tf.memory().numTensors, before, `${file}: no tensor left behind`);
  }
});

test("CoRelNet's file has bench/reference/corelnet.py's keys and PyTorch's layouts (conv [out, in, kh, kw], linear [out, in])", async () => {
  await useWasmBackend();
  const spec = templateSpec('relational-same-diff-corelnet');
  const layout = officialLayoutOf(spec).map(({ key, shape }) => [key, shape]);
  assert.deepEqual(layout, [
    ['encoder.conv1.weight', [32, 1, 4, 4]], ['encoder.conv1.bias', [32]],
    ['encoder.conv2.weight', [32, 32, 4, 4]], ['encoder.conv2.bias', [32]],
    ['encoder.conv3.weight', [32, 32, 4, 4]], ['encoder.conv3.bias', [32]],
    ['encoder.fc1.weight', [256, 512]], ['encoder.fc1.bias', [256]],
    ['encoder.fc2.weight', [128, 256]], ['encoder.fc2.bias', [128]],
    ['contextnorm.gamma', [128]], ['contextnorm.beta', [128]],
    ['decoder.0.weight', [256, 3]], ['decoder.0.bias', [256]],
    ['decoder.2.weight', [2, 256]], ['decoder.2.bias', [2]],
  ]);

  const checkpoint = checkpointOf(spec);
  const { tensors, metadata } = decodeSafetensors(exportCheckpoint(spec, checkpoint), 'corelnet');
  assert.match(metadata[METADATA.reference], /bench\/reference\/corelnet\.py/);
  assert.equal(metadata[METADATA.modelLabKeys], undefined);
  assert.match(metadata[METADATA.layoutNote], /flattened \(row, column, channel\)/);
  const ours = (name: string) => checkpoint.weights.find((w) => w.name === name)!.tensor.dataSync();
  // Ours [kh, kw, in, out] flattened to [16 * in, out]; PyTorch's [out, in, kh, kw].
  const [kh, kw, c, o] = [1, 3, 5, 7];
  const conv = float32Values(tensors.get('encoder.conv2.weight')!);
  assert.equal(conv[((o * 32 + c) * 4 + kh) * 4 + kw], ours('encoder.conv2.kernel')[((kh * 4 + kw) * 32 + c) * 32 + o]);
  // fc1: ours [512, 256] (in, out); PyTorch's [256, 512] (out, in).
  assert.equal(float32Values(tensors.get('encoder.fc1.weight')!)[9 * 512 + 300], ours('encoder.fc1.kernel')[300 * 256 + 9]);
  disposeCheckpoint(checkpoint);

  // Not in the reference: the asymmetric projections, as Model Lab's own keys.
  const asymmetric = officialLayoutOf({ ...spec, model: { ...spec.model, asymmetric: true } }).map((e) => e.key);
  assert.deepEqual(asymmetric.filter((k) => k.startsWith('model_lab.')), ['model_lab.w1.kernel', 'model_lab.w1.bias', 'model_lab.w2.kernel', 'model_lab.w2.bias']);
});

test("the posterior transformer's file has bench/reference/posterior.py's keys; the flow's are Model Lab's own", async () => {
  await useWasmBackend();
  const spec = templateSpec('posterior-linear-regression'); // dim 32, 2 layers, feed-forward 64, set size; tokens [x, y], theta [w, b]
  const layout = new Map(officialLayoutOf(spec).map(({ key, shape }) => [key, shape]));
  const pinned: Array<[string, number[]]> = [
    ['encoder.embed.weight', [32, 2]],
    ['encoder.cls', [32]],
    ['encoder.layers.0.norm1.weight', [32]],
    ['encoder.layers.0.attention.query.weight', [32, 32]],
    ['encoder.layers.1.attention.out.bias', [32]],
    ['encoder.layers.1.linear1.weight', [64, 32]],
    ['encoder.layers.1.linear2.weight', [32, 64]],
    ['encoder.layers.1.norm2.bias', [32]],
    ['encoder.norm.weight', [32]],
    ['head.weight', [4, 33]],
    ['head.bias', [4]],
  ];
  for (const [key, shape] of pinned) assert.deepEqual(layout.get(key), shape, key);
  assert.equal(layout.size, 2 + 1 + 2 * 16 + 2 + 2);
  assert.ok([...layout.keys()].every((k) => !k.startsWith('model_lab.')));

  const flow = templateSpec('posterior-nonlinear-regression');
  const checkpoint = checkpointOf(flow);
  const { tensors, metadata } = decodeSafetensors(exportCheckpoint(flow, checkpoint), 'flow');
  disposeCheckpoint(checkpoint);
  const own = [...tensors.keys()].filter((k) => k.startsWith('model_lab.'));
  assert.equal(own.length, 6 * 8); // per block: actnorm log_scale, shift; three subnet layers' kernel and bias
  assert.ok(own.every((k) => k.startsWith('model_lab.flow.blocks.')), own.join());
  assert.deepEqual(tensors.get('model_lab.flow.blocks.0.coupling.subnet.0.kernel')?.shape.length, 2);
  assert.ok(tensors.has('encoder.cls') && tensors.has('head.weight'));
  assert.match(metadata[METADATA.modelLabKeysWhy], /flow family/);

  // The GRU encoder has no reference: its keys are Model Lab's own, the head still the reference's.
  const gru = officialLayoutOf({ ...spec, model: { ...spec.model, encoder: 'gru' } }).map((e) => e.key);
  assert.deepEqual(gru.filter((k) => !k.startsWith('model_lab.')), ['head.weight', 'head.bias']);
  assert.ok(gru.includes('model_lab.encoder.embed.kernel') && gru.includes('model_lab.encoder.rnn.0.ih.kernel'), gru.join());
});

test('import: a missing key, a wrong shape or a key of another layout is a located error', async () => {
  await useWasmBackend();
  const spec = templateSpec('relational-same-diff-corelnet');
  const checkpoint = checkpointOf(spec);
  const { tensors } = decodeSafetensors(exportCheckpoint(spec, checkpoint), 'exported');
  disposeCheckpoint(checkpoint);
  const entries: Float32Entry[] = [...tensors].map(([name, t]) => ({ name, shape: t.shape, data: float32Values(t) }));
  const problemsOf = (file: Uint8Array): string[] => {
    try {
      tf.dispose(importCheckpoint(spec, file, 'theirs.safetensors', 0).weights.map((w) => w.tensor));
    } catch (error) {
      assert.ok(error instanceof WeightsLayoutError, String(error));
      assert.match(error.message, /^theirs\.safetensors does not fit the model:\n  - /);
      return error.problems;
    }
    assert.fail('import should have failed');
  };

  const without = entries.filter((e) => e.name !== 'contextnorm.gamma');
  assert.deepEqual(problemsOf(encodeSafetensors(without)), ["missing key 'contextnorm.gamma' (expected F32 [128])"]);
  // Our flat conv kernel [16 * in, out] where PyTorch's [out, in, 4, 4] belongs.
  const flat = entries.map((e) => (e.name === 'encoder.conv2.weight' ? { ...e, shape: [512, 32] } : e));
  assert.deepEqual(problemsOf(encodeSafetensors(flat)), ["key 'encoder.conv2.weight': wrong shape [512,32], expected [32,32,4,4]"]);
  // Our own name where the reference's is expected.
  const ourName = entries.map((e) => (e.name === 'decoder.2.weight' ? { ...e, name: 'model_lab.decoder.2.kernel', shape: [256, 2] } : e));
  assert.deepEqual(problemsOf(encodeSafetensors(ourName)), [
    "missing key 'decoder.2.weight' (expected F32 [2,256])",
    "unexpected key 'model_lab.decoder.2.kernel' (F32 [256,2])",
  ]);

  // A file exported from another model: said first, then every key.
  const posterior = templateSpec('posterior-linear-regression');
  const posteriorCheckpoint = checkpointOf(posterior);
  const posteriorFile = exportCheckpoint(posterior, posteriorCheckpoint);
  disposeCheckpoint(posteriorCheckpoint);
  const mismatch = problemsOf(posteriorFile);
  assert.equal(mismatch[0], "the file was exported from model 'amortized-posterior', this run's model is 'corelnet'");
  assert.equal(mismatch[1], "missing key 'encoder.conv1.weight' (expected F32 [32,1,4,4])");

  // A flow posterior needs its `model_lab.` keys: a file with the reference's keys alone does not fit.
  const flow = templateSpec('posterior-gaussian-mixture');
  const flowCheckpoint = checkpointOf(flow);
  const flowFile = decodeSafetensors(exportCheckpoint(flow, flowCheckpoint), 'flow');
  disposeCheckpoint(flowCheckpoint);
  const referenceOnly = [...flowFile.tensors].filter(([name]) => !name.startsWith('model_lab.')).map(([name, t]) => ({ name, shape: t.shape, data: float32Values(t) }));
  assert.throws(
    () => importCheckpoint(flow, encodeSafetensors(referenceOnly), 'reference-only.safetensors', 0),
    (error: unknown) => {
      assert.ok(error instanceof WeightsLayoutError, String(error));
      assert.equal(error.problems.length, 48);
      assert.equal(error.problems[0], "missing key 'model_lab.flow.blocks.0.actnorm.log_scale' (expected F32 [4])"); // theta: two cluster means in 2-D
      return true;
    },
  );
});
