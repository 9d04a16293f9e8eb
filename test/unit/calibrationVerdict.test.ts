// The calibration verdict says what the test says (evidence or no evidence at a level, never
// "looks uniform") and what the histograms show beside it: bins out of the band, slope, U or hump.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chiSquareUniformity, type CalibrationResult } from '../../src/core/posterior/calibration';
import { binomialBand, calibrationVerdict, normalQuantile } from '../../src/core/posterior/calibrationVerdict';

const L = 99;
const BINS = 20;

/** A calibration result from given ranks (one parameter), binned as simulationBasedCalibration bins them. */
function fromRanks(ranks: number[]): CalibrationResult {
  const counts = new Array<number>(BINS).fill(0);
  for (const rank of ranks) counts[Math.floor(rank / ((L + 1) / BINS))]++;
  return {
    k: ranks.length,
    l: L,
    ranks: ranks.map((rank) => [rank]),
    histogram: { bins: BINS, counts: [counts], expected: ranks.length / BINS, uniformity: [chiSquareUniformity(counts)] },
    coverage: { levels: [0.5], perDimension: [[0.5]], mean: [0.5] },
  };
}

const verdictOf = (ranks: number[]) => calibrationVerdict(fromRanks(ranks), ['θ1'], binomialBand(ranks.length, 1 / BINS, 0.99));
/** `k` ranks spread evenly over 0..L, then mapped through `shape` (a map of [0, 1] onto itself). */
const ranksShaped = (k: number, shape: (u: number) => number) => Array.from({ length: k }, (_, i) => Math.min(L, Math.floor(shape((i + 0.5) / k) * (L + 1))));

test('even ranks: no evidence against uniformity, and nothing flagged', () => {
  const verdict = verdictOf(ranksShaped(200, (u) => u));
  assert.equal(verdict.evidenceAgainstUniform, false);
  assert.deepEqual(verdict.findings[0], { name: 'θ1', binsOutsideBand: [] });
  assert.match(verdict.text, /^No evidence against uniform ranks at the 1% level \(chi-square p = 1\.0, Bonferroni over 1 parameter\); that alone does not show calibration\. Every bin lies inside the band\.$/);
  assert.doesNotMatch(verdict.text, /look uniform/);
});

test('ranks piled at both ends: over-confident; gathered in the middle: under-confident', () => {
  const u = verdictOf(ranksShaped(400, (x) => (x < 0.5 ? 0.4 * x : 1 - 0.4 * (1 - x))));
  assert.equal(u.findings[0].dispersion, 'over-confident');
  assert.equal(u.findings[0].bias, undefined, 'symmetric: no bias');
  assert.match(u.text, /^The ranks are not uniform at the 1% level.*θ1: its ranks pile at both ends: over-confident, intervals too narrow/);

  const hump = verdictOf(ranksShaped(400, (x) => 0.3 + 0.4 * x));
  assert.equal(hump.findings[0].dispersion, 'under-confident');
  assert.match(hump.text, /gather in the middle: under-confident, intervals too wide/);
});

test('a sloped histogram: the direction of the bias is named', () => {
  const high = verdictOf(ranksShaped(400, (x) => Math.sqrt(x))); // more high ranks: truth above the samples
  assert.equal(high.findings[0].bias, 'high');
  assert.match(high.text, /the truth tends to lie above the samples: it under-estimates this parameter/);
  const low = verdictOf(ranksShaped(400, (x) => x * x));
  assert.equal(low.findings[0].bias, 'low');
  assert.match(low.text, /over-estimates/);
});

test('p above the level beside bins outside the band: no evidence, and the bins are still named', () => {
  // 200 data sets; one bin far above the band, the others even: chi-square cannot reject at 1%, the band can.
  const ranks = ranksShaped(200, (u) => u);
  for (let i = 0; i < 12; i++) ranks[i * 16] = 50; // move 12 ranks into bin 10
  const verdict = verdictOf(ranks);
  assert.ok(verdict.pValue > 0.01, `p ${verdict.pValue}`);
  assert.deepEqual(verdict.findings[0].binsOutsideBand, [10]);
  assert.match(verdict.text, /^No evidence against uniform ranks at the 1% level .* θ1: 1 bin outside the 99% band\.$/);
});

test('normalQuantile inverts the normal CDF where the tests use it', () => {
  assert.ok(Math.abs(normalQuantile(0.995) - 2.5758293) < 1e-6);
  assert.ok(Math.abs(normalQuantile(0.975) - 1.9599640) < 1e-6);
  assert.ok(Math.abs(normalQuantile(0.5)) < 1e-12);
  assert.ok(Math.abs(normalQuantile(0.0025) + 2.8070338) < 1e-6);
});
