/**
 * Short progress texts (notification, status bar): step counts, the latest loss and, when
 * measured, speed and time left (src/shared/progress.ts). No 'vscode' import.
 */
import type { MetricRecord } from '../../protocol';
import { formatDuration, formatRate, type ProgressEstimate } from '../../shared/progress';

/** The newest value of a training loss among metric records (`train/loss`, else any `*loss`). */
export function latestLoss(records: readonly MetricRecord[]): number | undefined {
  for (let i = records.length - 1; i >= 0; i--) {
    const values = records[i].values;
    if (typeof values['train/loss'] === 'number') return values['train/loss'];
    const key = Object.keys(values).find((name) => name.endsWith('loss'));
    if (key) return values[key];
  }
  return undefined;
}

/** Compact number for status text: 3 significant digits, exponent for tiny/huge values. */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const magnitude = Math.abs(value);
  if (magnitude !== 0 && (magnitude < 1e-3 || magnitude >= 1e5)) return value.toExponential(2);
  return String(Number(value.toPrecision(3)));
}

/**
 * `step 120/2000 · loss 0.421` for progress notifications and the status bar; with an estimate,
 * what of `410 steps/s · 4.4 s left` is known (`timing: 'left'`: the time left only, for the status bar).
 */
export function progressText(
  step: number,
  totalSteps: number,
  loss: number | undefined,
  estimate?: ProgressEstimate,
  timing: 'rate and left' | 'left' = 'rate and left',
): string {
  const parts = [totalSteps > 0 ? `step ${step}/${totalSteps}` : `step ${step}`];
  if (loss !== undefined) parts.push(`loss ${formatNumber(loss)}`);
  if (estimate?.stepsPerSecond !== undefined && timing === 'rate and left') parts.push(formatRate(estimate.stepsPerSecond));
  if (estimate?.remainingMs !== undefined) parts.push(`${formatDuration(estimate.remainingMs)} left`);
  return parts.join(' · ');
}
