/**
 * Progress of a training run: elapsed time, steps per second and time left, from plain numbers
 * (no clock, no I/O), so the notification, status bar, Live view, dashboard and `model-lab show`
 * all say the same thing.
 *
 * Elapsed time is training time (status.json `elapsedMs`, metric records' `time`): time stopped
 * between a cancel and a resume does not count. The rate is measured over the recent samples
 * only (RATE_WINDOW_MS of training time), not since the start: the first steps of a run are slow
 * (kernels warm up) and a resumed run has no samples from this attempt's start.
 */

/** One observation: the run had reached `step` after `elapsedMs` of training. */
export interface ProgressSample {
  step: number;
  elapsedMs: number;
}

export interface ProgressEstimate {
  step: number;
  totalSteps: number;
  /** Training time so far; undefined when nothing recorded it (runs written before it was). */
  elapsedMs?: number;
  /** Over the recent window; undefined until two samples are far enough apart. */
  stepsPerSecond?: number;
  /** Time left at that rate; undefined without a rate or once the run is done. */
  remainingMs?: number;
}

/** The rate looks back this far (training time) from the newest sample. */
export const RATE_WINDOW_MS = 10_000;
/** Samples a ProgressSampler keeps at most (a run logging every step makes many per window). */
const MAX_SAMPLES = 500;
/** Shorter spans than this give a rate from timer noise, not from training. */
const MIN_RATE_SPAN_MS = 200;

export function estimateProgress(
  step: number,
  totalSteps: number,
  elapsedMs: number | undefined,
  samples: readonly ProgressSample[],
  windowMs = RATE_WINDOW_MS,
): ProgressEstimate {
  const estimate: ProgressEstimate = { step, totalSteps, ...(elapsedMs !== undefined ? { elapsedMs } : {}) };
  const stepsPerSecond = recentRate(samples, windowMs);
  if (stepsPerSecond === undefined) return estimate;
  estimate.stepsPerSecond = stepsPerSecond;
  if (totalSteps > step) estimate.remainingMs = ((totalSteps - step) / stepsPerSecond) * 1000;
  return estimate;
}

/** Steps per second between the newest sample and the oldest one within `windowMs` before it. */
function recentRate(samples: readonly ProgressSample[], windowMs: number): number | undefined {
  const valid = samples.filter((s) => Number.isFinite(s.step) && Number.isFinite(s.elapsedMs));
  if (valid.length < 2) return undefined;
  const newest = valid.reduce((a, b) => (b.elapsedMs > a.elapsedMs || (b.elapsedMs === a.elapsedMs && b.step > a.step) ? b : a));
  let oldest = newest;
  for (const sample of valid) {
    if (sample.elapsedMs < newest.elapsedMs - windowMs || sample.step >= newest.step) continue;
    if (sample.elapsedMs < oldest.elapsedMs) oldest = sample;
  }
  const spanMs = newest.elapsedMs - oldest.elapsedMs;
  if (spanMs < MIN_RATE_SPAN_MS) return undefined;
  return ((newest.step - oldest.step) * 1000) / spanMs;
}

/** `3.0 s`, `42 s`, `4 min 05 s`, `2 h 07 min`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '?';
  const seconds = ms / 1000;
  if (seconds < 10) return `${seconds.toFixed(1)} s`;
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const totalSeconds = Math.round(seconds);
  if (totalSeconds < 3600) return `${Math.floor(totalSeconds / 60)} min ${String(totalSeconds % 60).padStart(2, '0')} s`;
  const totalMinutes = Math.round(totalSeconds / 60);
  return `${Math.floor(totalMinutes / 60)} h ${String(totalMinutes % 60).padStart(2, '0')} min`;
}

/** `410 steps/s`, `2.5 steps/s`, `0.04 steps/s`: three significant digits at most. */
export function formatRate(stepsPerSecond: number): string {
  const rounded = stepsPerSecond >= 100 ? Math.round(stepsPerSecond) : Number(stepsPerSecond.toPrecision(2));
  return `${rounded.toLocaleString('en-US')} steps/s`;
}

/** The rate, time left and elapsed parts that are known: `410 steps/s · 4.4 s left · 3.0 s elapsed`. */
export function timingParts(estimate: ProgressEstimate): string[] {
  const parts: string[] = [];
  if (estimate.stepsPerSecond !== undefined) parts.push(formatRate(estimate.stepsPerSecond));
  if (estimate.remainingMs !== undefined) parts.push(`${formatDuration(estimate.remainingMs)} left`);
  if (estimate.elapsedMs !== undefined) parts.push(`${formatDuration(estimate.elapsedMs)} elapsed`);
  return parts;
}

/** The Live view's line: `1,200 / 3,000 steps · 410 steps/s · 4.4 s left · 3.0 s elapsed`. */
export function progressLine(estimate: ProgressEstimate): string {
  const steps = `${estimate.step.toLocaleString('en-US')} / ${estimate.totalSteps.toLocaleString('en-US')} steps`;
  return [steps, ...timingParts(estimate)].join(' · ');
}

/** Samples from metric records (their `time` is training time) and the newest status. */
export function progressSamples(
  records: readonly { step: number; time: number }[],
  status?: { step: number; elapsedMs?: number },
): ProgressSample[] {
  const samples = records.map((r) => ({ step: r.step, elapsedMs: r.time }));
  if (status?.elapsedMs !== undefined) samples.push({ step: status.step, elapsedMs: status.elapsedMs });
  return samples;
}

/**
 * `model-lab show`'s progress: `1200/3000 steps, 3.0 s, 410 steps/s` (time left added while the
 * run is active; a finished run's time is its duration). Old runs without a duration: steps only.
 */
export function progressSummaryText(
  run: { step: number; totalSteps: number; state: string; elapsedMs?: number },
  records: readonly { step: number; time: number }[],
): string {
  const estimate = estimateProgress(run.step, run.totalSteps, run.elapsedMs, progressSamples(records, run));
  const parts = [`${run.step}/${run.totalSteps} steps`];
  if (estimate.elapsedMs !== undefined) parts.push(formatDuration(estimate.elapsedMs));
  if (estimate.stepsPerSecond !== undefined) parts.push(formatRate(estimate.stepsPerSecond));
  const active = run.state === 'running' || run.state === 'queued';
  if (active && estimate.remainingMs !== undefined) parts.push(`${formatDuration(estimate.remainingMs)} left`);
  return parts.join(', ');
}

/**
 * The recent samples of one run as a window follows it (status changes and metric records, in
 * whatever order they arrive), trimmed to what the rate window needs. Samples of an attempt a
 * resume abandoned need no special case: the resumed attempt's clock continues from its
 * checkpoint's, so they lie on the same line.
 */
export class ProgressSampler {
  private samples: ProgressSample[] = [];

  add(samples: readonly ProgressSample[]): void {
    // A loop, not push(...samples): a whole metrics.jsonl can be more records than a call takes arguments.
    let newest = -Infinity;
    for (const sample of samples) this.samples.push(sample);
    for (const sample of this.samples) newest = Math.max(newest, sample.elapsedMs);
    this.samples = this.samples.filter((s) => s.elapsedMs >= newest - 2 * RATE_WINDOW_MS).slice(-MAX_SAMPLES);
  }

  /** The estimate for the run's newest status (added as a sample when it has a duration). */
  estimate(run: { step: number; totalSteps: number; elapsedMs?: number }): ProgressEstimate {
    if (run.elapsedMs !== undefined) this.add([{ step: run.step, elapsedMs: run.elapsedMs }]);
    return estimateProgress(run.step, run.totalSteps, run.elapsedMs, this.samples);
  }
}
