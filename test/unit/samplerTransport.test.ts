/**
 * Exact W2 by optimal transport (src/core/sampler/transport.ts): the assignment solver against
 * brute force over every permutation on small matrices (ties included), and W2 on cases with a
 * known answer (a permuted copy, a translation, 1-D where sorting is optimal).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRng } from '../../src/core/rng';
import { exactW2, solveAssignment } from '../../src/core/sampler/transport';

function bruteForceMinimum(cost: Float64Array, n: number): number {
  let best = Infinity;
  const permute = (row: number, used: boolean[], total: number) => {
    if (row === n) {
      best = Math.min(best, total);
      return;
    }
    for (let j = 0; j < n; j++) {
      if (used[j]) continue;
      used[j] = true;
      permute(row + 1, used, total + cost[row * n + j]);
      used[j] = false;
    }
  };
  permute(0, new Array<boolean>(n).fill(false), 0);
  return best;
}

test('the assignment solver finds the minimum of brute force on 120 random matrices up to 7 x 7 (real and tied integer costs)', () => {
  const rng = createRng(3);
  for (let trial = 0; trial < 120; trial++) {
    const n = 1 + (trial % 7);
    const integers = trial % 2 === 0;
    const cost = Float64Array.from({ length: n * n }, () => (integers ? Math.floor(rng.next() * 4) : rng.normal() * 10));
    const { rowToColumn, total } = solveAssignment(cost, n);
    assert.deepEqual([...rowToColumn].sort((a, b) => a - b), Array.from({ length: n }, (_, j) => j), 'a permutation');
    let sum = 0;
    for (let i = 0; i < n; i++) sum += cost[i * n + rowToColumn[i]];
    assert.ok(Math.abs(sum - total) < 1e-9, 'total is the cost of the returned matching');
    assert.ok(Math.abs(total - bruteForceMinimum(cost, n)) < 1e-9, `trial ${trial}: ${total} vs brute force`);
  }
});

test('exact W2: 0 between a set and its permutation, |v| to its translate by v, and the sorted matching in 1-D', () => {
  const rng = createRng(8);
  const n = 300;
  const a = Float64Array.from({ length: 2 * n }, () => rng.normal() * 3);
  const order = Array.from({ length: n }, (_, i) => i).sort(() => rng.next() - 0.5);
  const permuted = Float64Array.from({ length: 2 * n }, (_, i) => a[order[Math.floor(i / 2)] * 2 + (i % 2)]);
  assert.ok(exactW2(a, permuted, 2) < 1e-12);
  const shifted = a.map((x, i) => x + (i % 2 === 0 ? 3 : -4));
  assert.ok(Math.abs(exactW2(a, shifted, 2) - 5) < 1e-9, 'translation by (3, -4)');
  // 1-D: the monotone (sorted) matching is optimal for convex costs.
  const x = Float64Array.from({ length: n }, () => rng.normal());
  const y = Float64Array.from({ length: n }, () => rng.normal() * 2 + 1);
  const xs = [...x].sort((p, q) => p - q);
  const ys = [...y].sort((p, q) => p - q);
  const sorted = Math.sqrt(xs.reduce((sum, v, i) => sum + (v - ys[i]) ** 2, 0) / n);
  assert.ok(Math.abs(exactW2(x, y, 1) - sorted) < 1e-9);
});

test('exact W2 refuses sets of different sizes and non-finite costs, in words', () => {
  assert.throws(() => exactW2([0, 0, 1, 1], [0, 0], 2), /same number of 2-D points/);
  assert.throws(() => solveAssignment(Float64Array.from([0, NaN, 1, 2]), 2), /cost 1 is NaN/);
});
