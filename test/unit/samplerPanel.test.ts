// The Sampler panel's pure parts: the contour lines under the samples (marching squares against
// a circle's radius), the note on how trained a checkpoint is (an untrained checkpoint says so),
// and the checks of the page's request parameters (each bad one refused by name).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkLandscapeParams, checkSamplesParams, SamplerPanelInputError } from '../../src/core/sampler/panelData';
import { contourLevels, contourSegments } from '../../webview/sampler/contours';
import { trainingNote } from '../../webview/sampler/trainingNote';

test('contour segments of -r^2 on a grid lie on the circle of the level', () => {
  const grid = 41;
  const centre = 20;
  const values = new Float64Array(grid * grid);
  for (let b = 0; b < grid; b++) for (let a = 0; a < grid; a++) values[b * grid + a] = -((a - centre) ** 2 + (b - centre) ** 2);
  const radius = 12.3;
  const segments = contourSegments(values, grid, -(radius ** 2));
  assert.ok(segments.length > 40, `a closed ring of segments, got ${segments.length}`);
  for (const [a1, b1, a2, b2] of segments) {
    for (const [a, b] of [[a1, b1], [a2, b2]]) {
      // Linear interpolation of r^2 along a cell edge errs by at most a quarter cell squared.
      assert.ok(Math.abs(Math.hypot(a - centre, b - centre) - radius) < 0.05, `(${a}, ${b}) is on the circle of radius ${radius}`);
    }
  }
  assert.deepEqual(contourSegments(values, grid, 1), [], 'no crossing above the maximum');
});

test('contour levels start just below the maximum and ignore -Infinity; none for an all -Infinity grid', () => {
  const levels = contourLevels([0, -Infinity, -3, NaN, 2], 3, 10);
  assert.deepEqual(levels, [1.5, -3.5, -8.5]);
  assert.deepEqual(contourLevels([-Infinity, -Infinity], 3, 10), []);
  // -Infinity (R = 0) counts as below every level: a crossing is drawn at the finite corner.
  assert.equal(contourSegments([-Infinity, 0, -Infinity, -Infinity], 2, -1).length, 1);
});

test('the training note says an untrained checkpoint is the start distribution, and how far training has come', () => {
  const run = { trainingSteps: 2000 };
  const untrained = trainingNote({ run, step: 0, steps: [0], metrics: {} });
  assert.match(untrained, /^Not trained yet: step 0 of the run's 2,000 \(the paper trains 25,000\)/);
  assert.match(untrained, /start distribution/);
  const result = { step: 500, perMode: { counts: new Array(25).fill(0), covered: 9, rule: { radius: 1, share: 0.01 } } };
  const partly = trainingNote({ run, step: 500, steps: [0, 500], result, metrics: { 'train/loss': { steps: [100, 1000], values: [1, 2] } } });
  assert.equal(partly, 'Partly trained: step 500 of the run\'s 2,000 (25%; the paper trains 25,000). 9 of 25 modes covered. The run has logged up to step 1,000: move the slider to its newer checkpoints.');
  assert.equal(trainingNote({ run, step: 2000, steps: [0, 2000], metrics: {} }), 'Trained: step 2,000 (the paper trains 25,000; modes are discovered slowly).');
  assert.equal(trainingNote({ run, step: -1, steps: [], metrics: {} }), '', 'nothing before the session answers');
});

test('sample request parameters: defaults, limits, and each bad one named', () => {
  assert.deepEqual(checkSamplesParams({ n: 300 }), { n: 300, seed: 0, trajectories: 0 });
  assert.deepEqual(checkSamplesParams({ n: 10, seed: 3, trajectories: 10 }), { n: 10, seed: 3, trajectories: 10 });
  const refused = (params: unknown, pattern: RegExp) => assert.throws(() => checkSamplesParams(params), (error: Error) => error instanceof SamplerPanelInputError && pattern.test(error.message));
  refused({ n: 0 }, /^samplerSamples: n must be an integer in 1\.\.10000, got 0$/);
  refused({ n: 1.5 }, /n must be an integer/);
  refused({}, /n must be an integer in 1\.\.10000, got undefined/);
  refused(undefined, /n must be an integer/);
  refused({ n: 10, seed: -1 }, /seed must be a non-negative integer, got -1/);
  refused({ n: 10, trajectories: 11 }, /trajectories must be an integer in 0\.\.10 \(at most n\), got 11/);
  refused({ n: 1000, trajectories: 65 }, /trajectories must be an integer in 0\.\.64/);
});

test('landscape request parameters: the target\'s box and a zero slice by default; bad dims, grid, range and slice refused', () => {
  const box: [number, number][] = [[-15, 15], [-14, 14], [-1, 1]];
  assert.deepEqual(checkLandscapeParams({ dims: [0, 1], grid: 64 }, 3, box), { dims: [0, 1], grid: 64, range: [[-15, 15], [-14, 14]], slice: [0, 0, 0] });
  assert.deepEqual(checkLandscapeParams({ dims: [2, 0], grid: 2, range: [[0, 1], [2, 3]], slice: [1, 2, 3] }, 3, box).range, [[0, 1], [2, 3]]);
  const refused = (params: unknown, pattern: RegExp) => assert.throws(() => checkLandscapeParams(params, 3, box), (error: Error) => error instanceof SamplerPanelInputError && pattern.test(error.message));
  refused({ dims: [0, 0], grid: 8 }, /^samplerLandscape: dims must be two different coordinate indices in 0\.\.2, got \[0,0\]$/);
  refused({ dims: [0, 3], grid: 8 }, /dims must be two different coordinate indices/);
  refused({ dims: [0, 1], grid: 257 }, /grid must be an integer in 2\.\.256, got 257/);
  refused({ dims: [0, 1], grid: 8, range: [[1, 0], [0, 1]] }, /range must be \[\[low, high\], \[low, high\]\] with finite low < high/);
  refused({ dims: [0, 1], grid: 8, slice: [0, 0] }, /slice must be 3 finite numbers \(one per coordinate\), got \[0,0\]/);
  refused({ dims: [0, 1], grid: 8, slice: [0, null, 0] }, /slice must be 3 finite numbers/);
});
