import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MetricRecord } from '../../src/protocol';
import { formatNumber, latestLoss, progressText } from '../../src/host/training/progressText';

test('latest loss: the newest record that has one, train/loss preferred', () => {
  const records: MetricRecord[] = [
    { step: 10, time: 1, values: { 'train/loss': 0.9 } },
    { step: 20, time: 2, values: { 'train/loss': 0.5, 'eval/id/loss': 0.7 } },
    { step: 20, time: 2, values: { 'eval/ood/l1': 0.3 } },
  ];
  assert.equal(latestLoss(records), 0.5);
  assert.equal(latestLoss([{ step: 1, time: 0, values: { 'objective/loss': 2 } }]), 2);
  assert.equal(latestLoss([{ step: 1, time: 0, values: { accuracy: 1 } }]), undefined);
  assert.equal(latestLoss([]), undefined);
});

test('numbers: 3 significant digits, exponent when tiny or huge', () => {
  assert.equal(formatNumber(0.123456), '0.123');
  assert.equal(formatNumber(12.3456), '12.3');
  assert.equal(formatNumber(0), '0');
  assert.equal(formatNumber(0.0000123), '1.23e-5');
  assert.equal(formatNumber(123456), '1.23e+5');
  assert.equal(formatNumber(Number.NaN), 'NaN');
});

test('progress text', () => {
  assert.equal(progressText(120, 2000, 0.42123), 'step 120/2000 · loss 0.421');
  assert.equal(progressText(5, 0, undefined), 'step 5');
});

test('progress text with speed and time left, when measured', () => {
  const estimate = { step: 1_200, totalSteps: 3_000, elapsedMs: 3_000, stepsPerSecond: 410, remainingMs: 4_390 };
  assert.equal(progressText(1_200, 3_000, 0.42123, estimate), 'step 1200/3000 · loss 0.421 · 410 steps/s · 4.4 s left');
  assert.equal(progressText(1_200, 3_000, undefined, estimate, 'left'), 'step 1200/3000 · 4.4 s left');
  assert.equal(progressText(3, 3_000, undefined, { step: 3, totalSteps: 3_000, elapsedMs: 10 }), 'step 3/3000', 'nothing measured yet');
});
