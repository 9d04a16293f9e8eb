import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { estimateProgress, formatDuration, progressLine, progressSamples, progressSummaryText, ProgressSampler, timingParts } from '../../src/shared/progress';

test('steps/s and time left come from the recent window, not from the start', () => {
  // Slow warm-up (100 steps in 5 s), then 400 steps/s: the window sees only the fast part.
  const samples = [
    { step: 0, elapsedMs: 0 },
    { step: 100, elapsedMs: 5_000 },
    { step: 500, elapsedMs: 6_000 },
    { step: 4_100, elapsedMs: 15_000 },
  ];
  const estimate = estimateProgress(4_100, 6_100, 15_000, samples);
  assert.equal(estimate.stepsPerSecond, 400);
  assert.equal(estimate.remainingMs, 5_000);
  assert.equal(estimate.elapsedMs, 15_000);
});

test('a resumed run is measured on its own samples: elapsed continues, the rate is recent', () => {
  // First attempt ran 3 s to step 300; stopped for an hour (not counted); the resumed attempt does 200 steps/s.
  const samples = progressSamples(
    [{ step: 100, time: 1_000 }, { step: 300, time: 3_000 }, { step: 500, time: 4_000 }],
    { step: 700, elapsedMs: 5_000 },
  );
  const estimate = estimateProgress(700, 1_000, 5_000, samples, 2_500);
  assert.equal(estimate.stepsPerSecond, 200);
  assert.equal(estimate.remainingMs, 1_500);
});

test('no rate from fewer than two samples, or from samples too close together', () => {
  assert.deepEqual(estimateProgress(10, 100, 500, [{ step: 10, elapsedMs: 500 }]), { step: 10, totalSteps: 100, elapsedMs: 500 });
  assert.equal(estimateProgress(10, 100, 500, [{ step: 9, elapsedMs: 450 }, { step: 10, elapsedMs: 500 }]).stepsPerSecond, undefined);
  assert.deepEqual(estimateProgress(0, 100, undefined, []), { step: 0, totalSteps: 100 });
});

test('a finished run has a rate but no time left', () => {
  const estimate = estimateProgress(100, 100, 2_000, [{ step: 0, elapsedMs: 0 }, { step: 100, elapsedMs: 2_000 }]);
  assert.equal(estimate.stepsPerSecond, 50);
  assert.equal(estimate.remainingMs, undefined);
});

test('durations and the progress line read well', () => {
  assert.equal(formatDuration(3_000), '3.0 s');
  assert.equal(formatDuration(42_400), '42 s');
  assert.equal(formatDuration(245_000), '4 min 05 s');
  assert.equal(formatDuration(2 * 3600_000 + 7 * 60_000), '2 h 07 min');
  assert.equal(
    progressLine({ step: 1_200, totalSteps: 3_000, elapsedMs: 3_000, stepsPerSecond: 410, remainingMs: 4_390 }),
    '1,200 / 3,000 steps · 410 steps/s · 4.4 s left · 3.0 s elapsed',
  );
  assert.deepEqual(timingParts({ step: 5, totalSteps: 10 }), []);
  assert.deepEqual(timingParts({ step: 5, totalSteps: 10, stepsPerSecond: 2.5 }), ['2.5 steps/s']);
});

test("show's progress text: steps, duration, rate, and time left only while active", () => {
  const records = [{ step: 600, time: 1_000 }, { step: 1_000, time: 2_000 }];
  assert.equal(
    progressSummaryText({ step: 1_200, totalSteps: 3_000, state: 'running', elapsedMs: 3_000 }, records),
    '1200/3000 steps, 3.0 s, 300 steps/s, 6.0 s left',
  );
  assert.equal(progressSummaryText({ step: 3_000, totalSteps: 3_000, state: 'completed', elapsedMs: 12_000 }, []), '3000/3000 steps, 12 s');
  assert.equal(progressSummaryText({ step: 30, totalSteps: 100, state: 'cancelled' }, records), '30/100 steps, 400 steps/s');
});

test('ProgressSampler: status and records in any order give the recent rate; old samples are trimmed', () => {
  const sampler = new ProgressSampler();
  sampler.add(progressSamples([{ step: 100, time: 1_000 }, { step: 200, time: 2_000 }]));
  assert.equal(sampler.estimate({ step: 400, totalSteps: 1_000, elapsedMs: 3_000 }).stepsPerSecond, 150);
  sampler.add([{ step: 390, elapsedMs: 2_950 }]); // a record arriving after the newer status
  assert.equal(sampler.estimate({ step: 400, totalSteps: 1_000, elapsedMs: 3_000 }).stepsPerSecond, 150);
  // Much later, at a new speed: the early samples fall out of the window.
  sampler.add([{ step: 2_400, elapsedMs: 30_000 }]);
  const late = sampler.estimate({ step: 2_600, totalSteps: 3_000, elapsedMs: 31_000 });
  assert.equal(late.stepsPerSecond, 200);
  assert.equal(late.remainingMs, 2_000);
});

test('ProgressSampler takes a whole long metrics file at once', () => {
  const sampler = new ProgressSampler();
  const records = Array.from({ length: 300_000 }, (_, i) => ({ step: i + 1, time: (i + 1) * 10 }));
  sampler.add(progressSamples(records));
  assert.equal(sampler.estimate({ step: 300_000, totalSteps: 400_000, elapsedMs: 3_000_000 }).stepsPerSecond, 100);
});
