import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cellPixels, cellValues } from '../../webview/attention/heatmap';

test('cellValues: row-major values; anything not a number (null from JSON) is no data', () => {
  const grid: unknown[][] = [[0.25, null], ['x', 1]];
  const values = cellValues({ rows: 2, cols: 2, value: (r, c) => grid[r][c] as number });
  assert.deepEqual(Array.from(values), [0.25, NaN, NaN, 1]);
});

test('cellPixels: the accent at alpha min(1, v) per cell, transparent for v <= 0 and no data', () => {
  const words = cellPixels(Float64Array.from([0.5, 0, -1, NaN, 2, 1]), [10, 20, 30]);
  const rgba = (w: number) => [w & 255, (w >>> 8) & 255, (w >>> 16) & 255, w >>> 24];
  assert.deepEqual(rgba(words[0]), [10, 20, 30, 128]);
  assert.deepEqual([1, 2, 3].map((i) => words[i]), [0, 0, 0]);
  assert.deepEqual(rgba(words[4]), [10, 20, 30, 255], 'clipped at 1');
  assert.deepEqual(rgba(words[5]), [10, 20, 30, 255]);
});
