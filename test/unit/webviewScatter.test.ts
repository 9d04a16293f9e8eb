import assert from 'node:assert/strict';
import { test } from 'node:test';
import { countSquares, pixelWords, type CountGrid } from '../../webview/posterior/scatter';

const grid = (width: number, height: number, stride = width): CountGrid => ({ counts: new Uint16Array(stride * height).fill(9), stride, width, height });
const at = (g: CountGrid, col: number, row: number) => g.counts[row * g.stride + col];
// A 10 x 10 pixel grid over data [0, 10] x [0, 10]: one data unit per pixel, y up.
const frame = { x: [0, 10] as [number, number], y: [0, 10] as [number, number] };
const xOf = (points: number[][]) => points.map((p) => p[0]);
const yOf = (points: number[][]) => points.map((p) => p[1]);
const count = (g: CountGrid, points: number[][], side: number) => countSquares(g, frame, xOf(points), yOf(points), side);

test('countSquares: each point covers side x side pixels around it, overlaps add up, the window is cleared first', () => {
  const g = grid(10, 10, 12); // rows 12 apart: the 2 columns past the window keep their old values
  const most = count(g, [[2, 8], [3, 8]], 2);
  assert.equal(most, 2);
  // (2, 8) -> pixel column 2, row 2: its square spans columns 1-2, rows 1-2; (3, 8) spans 2-3.
  assert.deepEqual([0, 1, 2, 3, 4].map((c) => at(g, c, 1)), [0, 1, 2, 1, 0]);
  assert.deepEqual([0, 1, 2, 3].map((r) => at(g, 2, r)), [0, 2, 2, 0]);
  assert.equal(at(g, 10, 0), 9, 'outside the window: untouched');
  const total = Array.from({ length: 10 }, (_, r) => Array.from({ length: 10 }, (_, c) => at(g, c, r))).flat().reduce((a, b) => a + b, 0);
  assert.equal(total, 8, 'two squares of 4 pixels');
});

test('countSquares: points off the frame or not finite draw nothing; squares at the edge are clipped', () => {
  const g = grid(10, 10);
  assert.equal(count(g, [[-5, 5], [5, 20], [NaN, 1], [1, Infinity]], 3), 0);
  assert.equal(count(g, [[0, 10]], 3), 1);
  assert.equal(g.counts.reduce((a, b) => a + b, 0), 4, 'the corner square keeps its 2 x 2 pixels inside');
});

test('countSquares: the same counts as one pixel at a time, for squares inside and across the edges, sides 1 to 4', () => {
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const points = Array.from({ length: 400 }, () => [12 * random() - 1, 12 * random() - 1]); // some off the frame
  for (const side of [1, 2, 3, 4]) {
    const g = grid(10, 10, 11);
    const most = count(g, points, side);
    const expected = new Uint32Array(11 * 10);
    for (const [x, y] of points) {
      const left = Math.round(x - side / 2);
      const top = Math.round(10 - y - side / 2);
      for (let row = top; row < top + side; row++) {
        for (let col = left; col < left + side; col++) if (row >= 0 && row < 10 && col >= 0 && col < 10) expected[row * 11 + col]++;
      }
    }
    for (let row = 0; row < 10; row++) expected[row * 11 + 10] = 9; // past the window: untouched
    assert.deepEqual([...g.counts], [...expected], `side ${side}`);
    assert.equal(most, Math.max(...expected.filter((_, i) => i % 11 !== 10)), `side ${side}: the largest count`);
  }
});

test('pixelWords: colour bytes and alpha 1 - (1 - a)^n, as n stacked squares of alpha a composite', () => {
  const words = pixelWords([10, 20, 30], 0.5, 3);
  assert.equal(words[0], 0, 'uncovered pixels stay transparent');
  const bytes = new Uint8Array(words.buffer);
  assert.deepEqual([...bytes.subarray(4, 8)], [10, 20, 30, 128]);
  assert.deepEqual([...bytes.subarray(8, 12)], [10, 20, 30, 191]);
  assert.deepEqual([...bytes.subarray(12, 16)], [10, 20, 30, 223]);
});
