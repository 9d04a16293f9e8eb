import assert from 'node:assert/strict';
import { test } from 'node:test';
import { innerQuantiles, rangeOf } from '../../webview/posterior/canvas';

test('innerQuantiles: the nearest-rank quantiles a sort gives, ignoring non-finite values', () => {
  let state = 7;
  const random = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (const n of [1, 2, 3, 10, 199, 10_000]) {
    const values = Array.from({ length: n }, () => 10 * random() - 5);
    const sorted = [...values].sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.round(q * (n - 1))];
    assert.deepEqual(innerQuantiles(values, 0.005, 0.995), [at(0.005), at(0.995)], `n = ${n}`);
    assert.deepEqual(innerQuantiles([NaN, ...values, Infinity], 0.005, 0.995), [at(0.005), at(0.995)], `n = ${n} with NaN and Infinity`);
  }
  assert.deepEqual(innerQuantiles([], 0.1, 0.9), []);
  assert.deepEqual(innerQuantiles([NaN], 0.1, 0.9), []);
});

test('rangeOf: the 0.5-99.5% span and the extra points, with a 12% margin each side', () => {
  const values = Array.from({ length: 201 }, (_, i) => i / 200); // 0 .. 1
  const [lo, hi] = rangeOf(values, [2]);
  assert.ok(Math.abs(lo - (0.005 - 0.12 * 1.995)) < 1e-12, `${lo}`);
  assert.ok(Math.abs(hi - (2 + 0.12 * 1.995)) < 1e-12, `${hi}`);
  assert.deepEqual(rangeOf([]), [-1, 1]);
});
