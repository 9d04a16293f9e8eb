import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cellPixels, cellValues } from '../../webview/attention/heatmap';
import { autoScale, onScale, scaleText } from '../../webview/common/colorScale';

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

test('autoScale: colours span the finite min..max (a short run\'s near-uniform map is stretched), and the bar prints both ends', () => {
  const nearUniform = [0.098, 0.1, 0.104, NaN, Infinity];
  const scale = autoScale(nearUniform);
  assert.deepEqual(scale, { min: 0.098, max: 0.104, flat: false });
  assert.equal(onScale(scale, 0.098), 0);
  assert.equal(onScale(scale, 0.104), 1);
  assert.ok(Math.abs(onScale(scale, 0.101) - 0.5) < 1e-9);
  assert.ok(Number.isNaN(onScale(scale, NaN)), 'no data stays no data');
  assert.deepEqual(scaleText(scale), ['0.098', '0.104'], 'enough digits to tell the ends apart');
  assert.deepEqual(scaleText(autoScale([0, 0.5, 1])), ['0.00', '1.00']);
});

test('autoScale: a map with one value (or none) keeps a 0..1 scale around it instead of a zero span', () => {
  assert.deepEqual(autoScale([0.25, 0.25]), { min: 0, max: 1, flat: true });
  assert.deepEqual(autoScale([3, 3]), { min: 0, max: 3, flat: true });
  assert.deepEqual(autoScale([NaN]), { min: 0, max: 1, flat: true });
  assert.equal(onScale(autoScale([0.25, 0.25]), 0.25), 0.25);
});

test('autoScale skipZeros: masked positions (exact zeros) do not stretch the scale, and still draw as its first colour', () => {
  const shortRunMap = [0, 0.105, 0.11, 0.118, 0]; // the diagonal masked out
  const scale = autoScale(shortRunMap, { skipZeros: true });
  assert.deepEqual(scale, { min: 0.105, max: 0.118, flat: false });
  assert.equal(onScale(scale, 0), 0);
  assert.deepEqual(autoScale(shortRunMap), { min: 0, max: 0.118, flat: false }, 'without the option zeros are values');
  assert.deepEqual(autoScale([0, 1, 1], { skipZeros: true }), { min: 0, max: 1, flat: true }, 'a 0/1 truth map keeps 0..1');
});
