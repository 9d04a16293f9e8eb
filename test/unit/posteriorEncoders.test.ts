import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { useWasmBackend } from '../helpers/backend';
import { createRng } from '../../src/core/rng';
import { createEncoder, type EncoderKind } from '../../src/core/posterior/encoders';

const TOKEN_DIM = 3;
const options = (kind: EncoderKind) => ({ kind, dim: 16, layers: 2, heads: 4, feedForward: 32 });

/** Two data sets of 6 and 4 points, padded to `capacity` with `padValue`. */
function dataSets(rows: number[][][], capacity: number, padValue: number) {
  const tokens: number[][][] = rows.map((set) => [
    ...set,
    ...Array.from({ length: capacity - set.length }, () => new Array(TOKEN_DIM).fill(padValue)),
  ]);
  const mask = rows.map((set) => Array.from({ length: capacity }, (_, i) => (i < set.length ? 1 : 0)));
  return { tokens: tf.tensor3d(tokens), mask: tf.tensor2d(mask) };
}

function encode(kind: EncoderKind, rows: number[][][], capacity: number, padValue = 0): number[][] {
  const encoder = createEncoder('encoder', TOKEN_DIM, options(kind), createRng(0, 'encoder-test'));
  const { tokens, mask } = dataSets(rows, capacity, padValue);
  const out = tf.tidy(() => encoder.encode(tokens, mask).arraySync());
  tf.dispose([tokens, mask, ...encoder.parameters().map((p) => p.variable)]);
  return out;
}

const rng = createRng(1, 'points');
const sets = [6, 4].map((n) => Array.from({ length: n }, () => Array.from({ length: TOKEN_DIM }, () => rng.normal())));
// A fixed non-trivial shuffle of each set (5 is coprime with 6 and 4, so this is a permutation).
const shuffled = sets.map((set) => set.map((_, i) => set[(i * 5 + 1) % set.length]));
assert.notDeepEqual(shuffled, sets);

const maxDifference = (a: number[][], b: number[][]) => Math.max(...a.flatMap((row, i) => row.map((v, j) => Math.abs(v - b[i][j]))));

for (const kind of ['transformer', 'deepsets'] as const) {
  test(`${kind}: shuffling the points of a data set does not change its summary`, async () => {
    await useWasmBackend();
    const difference = maxDifference(encode(kind, sets, 6), encode(kind, shuffled, 6));
    assert.ok(difference < 1e-5, `max difference ${difference}`);
  });
}

for (const kind of ['transformer', 'deepsets', 'gru'] as const) {
  test(`${kind}: padding (any amount, any value) does not change the summary`, async () => {
    await useWasmBackend();
    const tight = encode(kind, sets, 6);
    const difference = maxDifference(tight, encode(kind, sets, 9, 37.5));
    assert.ok(difference < 1e-5, `max difference ${difference}`);
    // The summary does depend on the data: a different set gives a different output.
    const other = encode(kind, [sets[1], sets[0]], 6);
    assert.ok(maxDifference(tight, other) > 1e-3);
  });
}

test('gru: the order of the points matters (not permutation invariant)', async () => {
  await useWasmBackend();
  assert.ok(maxDifference(encode('gru', sets, 6), encode('gru', shuffled, 6)) > 1e-4);
});

test('encoders keep no intermediate tensors alive', async () => {
  await useWasmBackend();
  const before = tf.memory().numTensors;
  for (const kind of ['transformer', 'deepsets', 'gru'] as const) encode(kind, sets, 8);
  assert.equal(tf.memory().numTensors, before);
});
