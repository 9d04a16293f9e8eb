import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import {
  CompositionalAttention,
  GroupedLinear,
  type CompositionalAttentionOptions,
} from '../../src/core/layers/compositionalAttention';
import { MultiHeadAttention } from '../../src/core/layers/multiHeadAttention';
import { buildExperiment } from '../../src/core/experiment';
import { train, disposeExperiment } from '../../src/core/train';
import { createRng } from '../../src/core/rng';
import { useWasmBackend } from '../helpers/backend';
import { MemorySink } from '../helpers/memorySink';
import { retrievalSpec } from '../helpers/specs';

type Matrix = number[][];
const matmul = (a: Matrix, b: Matrix) => a.map((row) => b[0].map((_, j) => row.reduce((s, v, k) => s + v * b[k][j], 0)));
const addBias = (a: Matrix, bias: number[]) => a.map((row) => row.map((v, j) => v + bias[j]));
const dot = (a: number[], b: number[]) => a.reduce((s, v, i) => s + v * b[i], 0);
const softmaxRow = (row: number[]) => {
  const max = Math.max(...row);
  const e = row.map((v) => Math.exp(v - max));
  const sum = e.reduce((s, v) => s + v, 0);
  return e.map((v) => v / sum);
};
const columns = (m: Matrix, block: number, width: number) => m.map((row) => row.slice(block * width, (block + 1) * width));

const options = (overrides: Partial<CompositionalAttentionOptions> = {}): CompositionalAttentionOptions => ({
  dim: 8,
  searches: 2,
  retrievals: 3,
  searchDim: 8,
  valueDim: 6,
  concat: true,
  gumbel: false,
  separateValueKeys: false,
  maskDiagonal: true,
  ...overrides,
});

const randomMatrix = (rows: number, cols: number, seed: string) => {
  const rng = createRng(seed);
  return Array.from({ length: rows }, () => Array.from({ length: cols }, () => rng.normal()));
};

/** Compositional attention written out with plain arrays, straight from the equations of the notes. */
async function reference(layer: CompositionalAttention, x: Matrix) {
  const w = async (v: tf.Variable | undefined) => (v ? ((await v.array()) as any) : undefined);
  const project = async (l: { kernel: tf.Variable; bias?: tf.Variable }, input: Matrix) =>
    addBias(matmul(input, await w(l.kernel)), await w(l.bias));
  const { searches: S, retrievals: R } = layer.options;
  const [ds, dv, n] = [layer.searchHeadDim, layer.valueHeadDim, x.length];
  const [q, k, v, qv] = [
    await project(layer.query, x),
    await project(layer.key, x),
    await project(layer.value, x),
    await project(layer.retrievalQuery, x),
  ];
  const keyOf = async (o: Matrix, r: number): Promise<Matrix> => {
    const key = layer.retrievalKey;
    if (key instanceof GroupedLinear) {
      const [kernel, bias] = [(await w(key.kernel)) as Matrix[], (await w(key.bias)) as Matrix];
      return addBias(matmul(o, kernel[r]), bias[r]);
    }
    return project(key, o);
  };

  const maps: Matrix[] = [];
  const selection: number[][][] = Array.from({ length: n }, () => []); // [i][s][r]
  const perSearch: Matrix[] = [];
  for (let s = 0; s < S; s++) {
    const [qs, ks] = [columns(q, s, ds), columns(k, s, ds)];
    const a = qs.map((qi, i) => softmaxRow(ks.map((kj, j) => (i === j ? -Infinity : dot(qi, kj) / Math.sqrt(ds)))));
    maps.push(a);
    const pairings: Matrix[] = []; // O[s, r]: N x dv
    const keys: Matrix[] = []; // k[s, r]: N x ds
    for (let r = 0; r < R; r++) {
      pairings.push(matmul(a, columns(v, r, dv)));
      keys.push(await keyOf(pairings[r], r));
    }
    const query = columns(qv, s, ds).map((row) => row.map((value) => value / Math.sqrt(ds)));
    const h: Matrix = [];
    for (let i = 0; i < n; i++) {
      const alpha = softmaxRow(keys.map((key) => dot(query[i], key[i])));
      selection[i].push(alpha);
      h.push(Array.from({ length: dv }, (_, c) => alpha.reduce((sum, weight, r) => sum + weight * pairings[r][i][c], 0)));
    }
    perSearch.push(h);
  }
  let merged = Array.from({ length: n }, (_, i) => perSearch.flatMap((h) => h[i]));
  if (layer.tokenProjection) {
    const own = await project(layer.tokenProjection, x);
    merged = merged.map((row, i) => [...row, ...own[i]]);
  }
  return { output: await project(layer.out, merged), maps, selection };
}

const close = (got: number, want: number, tolerance: number, what: string) =>
  assert.ok(Math.abs(got - want) < tolerance, `${what}: got ${got}, expected ${want}`);

const disposeLayer = (layer: { parameters(): { variable: tf.Variable }[] }) => tf.dispose(layer.parameters().map((p) => p.variable));

for (const separateValueKeys of [false, true]) {
  test(`compositional attention matches the equations written out by hand (separateValueKeys: ${separateValueKeys})`, async () => {
    await useWasmBackend();
    const layer = new CompositionalAttention('model', options({ separateValueKeys }), createRng('ca', String(separateValueKeys)));
    const x = randomMatrix(5, 8, 'x');
    const { output, searchMaps, retrievalSelection } = layer.apply(tf.tensor3d([x]));
    assert.deepEqual(output.shape, [1, 5, 8]);
    assert.deepEqual(searchMaps.shape, [1, 2, 5, 5]);
    assert.deepEqual(retrievalSelection.shape, [1, 5, 2, 3]);
    const expected = await reference(layer, x);
    const got = ((await output.array()) as number[][][])[0];
    got.forEach((row, i) => row.forEach((v, j) => close(v, expected.output[i][j], 1e-4, `output[${i}][${j}]`)));
    const maps = ((await searchMaps.array()) as number[][][][])[0];
    maps.forEach((map, s) =>
      map.forEach((row, i) => {
        close(row.reduce((a, b) => a + b, 0), 1, 1e-5, 'search map rows sum to one');
        assert.ok(row[i] < 1e-6, 'a token never finds itself');
        row.forEach((v, j) => close(v, expected.maps[s][i][j], 1e-5, `A[${s}][${i}][${j}]`));
      }),
    );
    const alpha = ((await retrievalSelection.array()) as number[][][][])[0];
    alpha.forEach((perToken, i) =>
      perToken.forEach((row, s) => {
        close(row.reduce((a, b) => a + b, 0), 1, 1e-5, 'selection rows sum to one');
        row.forEach((v, r) => close(v, expected.selection[i][s][r], 1e-5, `alpha[${i}][${s}][${r}]`));
      }),
    );
    tf.dispose([output, searchMaps, retrievalSelection]);
    disposeLayer(layer);
  });
}

test('with R = S and the identity selection, the layer is multi-head attention with the same weights', async () => {
  await useWasmBackend();
  const heads = 2;
  const composed = new CompositionalAttention(
    'model',
    options({ searches: heads, retrievals: heads, valueDim: 8, fixedSelection: 'identity' }),
    createRng('identity'),
  );
  const mha = new MultiHeadAttention('model', { dim: 8, heads, concat: true, maskDiagonal: true }, createRng('mha'));
  const ours = new Map(composed.parameters().map((p) => [p.name, p.variable]));
  for (const { name, variable } of mha.parameters()) variable.assign(ours.get(name)!);

  const x = tf.tensor3d([randomMatrix(6, 8, 'x1'), randomMatrix(6, 8, 'x2')]);
  const a = composed.apply(x);
  const b = mha.apply(x);
  const [got, want] = [await a.output.data(), await b.output.data()];
  got.forEach((v, i) => close(v, want[i], 1e-5, `output[${i}]`));
  const [maps, attention] = [await a.searchMaps.data(), await b.attention.data()];
  maps.forEach((v, i) => close(v, attention[i], 1e-6, `map[${i}]`));

  // The identity pairing is what makes them equal: a learned selection differs.
  const free = new CompositionalAttention('model', options({ searches: heads, retrievals: heads, valueDim: 8 }), createRng('free'));
  for (const { name, variable } of free.parameters()) if (ours.has(name)) variable.assign(ours.get(name)!);
  const c = free.apply(x);
  const differs = Array.from(await c.output.data()).some((v, i) => Math.abs(v - want[i]) > 1e-3);
  assert.ok(differs, 'a soft selection gives another output than the rigid pairing');
  tf.dispose([x, a.output, a.searchMaps, a.retrievalSelection, b.output, b.attention, c.output, c.searchMaps, c.retrievalSelection]);
  [composed, mha, free].forEach(disposeLayer);
});

test('with R = 1 every token uses the one retrieval: multi-head attention with a shared value projection', async () => {
  await useWasmBackend();
  const layer = new CompositionalAttention('model', options({ retrievals: 1, valueDim: 4 }), createRng('r1'));
  const x = randomMatrix(4, 8, 'x');
  const { output, searchMaps, retrievalSelection } = layer.apply(tf.tensor3d([x]));
  assert.ok(Array.from(await retrievalSelection.data()).every((v) => Math.abs(v - 1) < 1e-6));
  // h_s = A_s V for every search s, with one V.
  const maps = ((await searchMaps.array()) as number[][][][])[0];
  const w = async (v: tf.Variable) => (await v.array()) as any;
  const values = addBias(matmul(x, await w(layer.value.kernel)), await w(layer.value.bias!));
  const own = addBias(matmul(x, await w(layer.tokenProjection!.kernel)), await w(layer.tokenProjection!.bias!));
  const merged = x.map((_, i) => [...maps.flatMap((a) => matmul(a, values)[i]), ...own[i]]);
  const expected = addBias(matmul(merged, await w(layer.out.kernel)), await w(layer.out.bias!));
  (((await output.array()) as number[][][])[0]).forEach((row, i) => row.forEach((v, j) => close(v, expected[i][j], 1e-4, 'output')));
  tf.dispose([output, searchMaps, retrievalSelection]);
  disposeLayer(layer);
});

test('widths that do not divide are refused, naming the fields', () => {
  assert.throws(
    () => new CompositionalAttention('model', options({ searchDim: 64, searches: 3 }), createRng(0)),
    /model\.searchDim \(64\) must be divisible by model\.searches \(3\)/,
  );
  assert.throws(
    () => new CompositionalAttention('model', options({ valueDim: 10, retrievals: 4 }), createRng(0)),
    /model\.valueDim \(10\) must be divisible by model\.retrievals \(4\)/,
  );
  assert.throws(
    () => buildExperiment(retrievalSpec({ model: { name: 'compositional-attention', dim: 16, searches: 2, retrievals: 3 } })),
    /model\.valueDim \(16\) must be divisible by model\.retrievals \(3\)/,
  );
});

for (const variant of [{ separateValueKeys: false }, { separateValueKeys: true }]) {
  test(`gradients of the layer agree with central finite differences (${JSON.stringify(variant)})`, async () => {
    await useWasmBackend();
    const layer = new CompositionalAttention(
      'model',
      options({ dim: 4, searches: 2, retrievals: 2, searchDim: 4, valueDim: 4, ...variant }),
      createRng('grad', JSON.stringify(variant)),
    );
    const x = tf.tensor3d([randomMatrix(3, 4, 'grad-x')]);
    const weights = tf.tensor3d([randomMatrix(3, 4, 'grad-w')]);
    // A scalar that depends on every output element with distinct weights.
    const objective = () =>
      tf.tidy(() => {
        const { output } = layer.apply(x);
        return tf.sum(tf.mul(output, weights)) as tf.Scalar;
      });
    const params = layer.parameters();
    const { grads } = tf.variableGrads(objective, params.map((p) => p.variable));
    const epsilon = 1e-2;
    let checked = 0;
    for (const { name, variable } of params) {
      const analytic = (await grads[variable.name].data()) as Float32Array;
      const values = (await variable.data()) as Float32Array;
      for (const index of new Set([0, Math.floor(values.length / 2), values.length - 1])) {
        const at = (delta: number) => {
          const shifted = values.slice();
          shifted[index] += delta;
          variable.assign(tf.tensor(shifted, variable.shape));
          const value = objective().dataSync()[0];
          variable.assign(tf.tensor(values, variable.shape));
          return value;
        };
        const numeric = (at(epsilon) - at(-epsilon)) / (2 * epsilon);
        const tolerance = 2e-3 + 2e-2 * Math.abs(numeric);
        assert.ok(Math.abs(numeric - analytic[index]) < tolerance, `${name}[${index}]: ${analytic[index]} vs ${numeric}`);
        checked++;
      }
    }
    // value_query and value_key are reached only through the retrieval competition: checking
    // them catches a selection that does not pass gradients.
    assert.ok(params.some((p) => p.name === 'model.value_key.kernel'));
    assert.ok(checked >= 30, `checked ${checked}`);
    tf.dispose([x, weights, ...Object.values(grads)]);
    disposeLayer(layer);
  });
}

test('Gumbel-softmax: noisy and seeded while training, plain softmax when evaluating', async () => {
  await useWasmBackend();
  const layer = new CompositionalAttention('model', options({ gumbel: true }), createRng('gumbel'));
  const x = tf.tensor3d([randomMatrix(5, 8, 'x')]);
  const read = async (result: ReturnType<CompositionalAttention['apply']>) => {
    const values = [await result.searchMaps.data(), await result.retrievalSelection.data(), await result.output.data()];
    tf.dispose([result.output, result.searchMaps, result.retrievalSelection]);
    return values.map((v) => Array.from(v));
  };
  const plain = await read(layer.apply(x, { training: false }));
  const seeded = await read(layer.apply(x, { training: true, noise: createRng('step', 1) }));
  assert.deepEqual(await read(layer.apply(x, { training: true, noise: createRng('step', 1) })), seeded, 'same seed, same noise');
  assert.notDeepEqual(await read(layer.apply(x, { training: true, noise: createRng('step', 2) })), seeded);
  assert.notDeepEqual(seeded, plain);
  for (const v of seeded[0]) assert.ok(Number.isFinite(v));
  assert.throws(() => layer.apply(x, { training: true }), /seeded noise source/);
  x.dispose();
  disposeLayer(layer);
});

test('the compositional retrieval model trains with the shared loop, deterministically, without leaking tensors', async () => {
  await useWasmBackend();
  const spec = (gumbel: boolean) =>
    retrievalSpec({
      model: { name: 'compositional-attention', dim: 16, searches: 2, retrievals: 4, concat: true, gumbel },
      training: { steps: 12, logEvery: 2, evalEvery: 6, checkpointEvery: 6, batchSize: 16 },
    });
  const heldBy = (sink: MemorySink) =>
    [...sink.checkpoints.values()].reduce((n, c) => n + c.weights.length + c.optimizer.length, 0);
  const run = async (gumbel: boolean, stopAt?: number, resume?: MemorySink) => {
    const sink = resume ?? new MemorySink();
    const counts: number[] = [];
    let steps = 0;
    await train({
      spec: spec(gumbel),
      sink,
      resumeFrom: resume ? resume.checkpoints.get(3) : undefined,
      shouldStop: () => stopAt !== undefined && steps++ === stopAt,
      // The in-memory sink keeps copies of the checkpoints: those are not the loop's tensors.
      onProgress: () => counts.push(tf.memory().numTensors - heldBy(sink)),
    });
    return { sink, counts };
  };
  const before = tf.memory().numTensors;
  const first = await run(true);
  assert.equal(Math.max(...first.counts), Math.min(...first.counts), `tensor count drifted: ${first.counts}`);
  const losses = first.sink.values().filter(([, v]) => 'train/loss' in v).map(([, v]) => v['train/loss']);
  assert.ok(losses.every(Number.isFinite) && losses.length === 6);
  // A dozen steps do not leave the task's initial plateau; check that every parameter moves.
  const [early, late] = [first.sink.checkpoints.get(6)!, first.sink.checkpoints.get(12)!];
  for (const [i, { name, tensor }] of early.weights.entries()) {
    const moved = tf.tidy(() => tf.max(tf.abs(tf.sub(tensor, late.weights[i].tensor))).dataSync()[0]);
    assert.ok(moved > 0, `${name} did not change between steps 6 and 12`);
  }
  // Gumbel noise keyed by the batch: a run resumed mid-way replays the uninterrupted one exactly.
  const interrupted = await run(true, 3); // cancelled mid loss window
  await run(true, undefined, interrupted.sink);
  assert.deepEqual(interrupted.sink.values(), first.sink.values());
  for (const sink of [first.sink, interrupted.sink]) {
    for (const c of sink.checkpoints.values()) tf.dispose([...c.weights, ...c.optimizer].map((t) => t.tensor));
  }
  assert.equal(tf.memory().numTensors, before, 'everything is disposed after training');

  const experiment = buildExperiment(spec(false));
  const names = experiment.model.parameters.map((p) => p.name);
  assert.deepEqual(names.slice(0, 8), ['encoder.0.kernel', 'encoder.0.bias', 'encoder.2.kernel', 'encoder.2.bias', 'decoder.0.kernel', 'decoder.0.bias', 'decoder.2.kernel', 'decoder.2.bias']);
  assert.ok(names.includes('model.value_query.kernel') && names.includes('model.in_.bias'));
  disposeExperiment(experiment);
});
