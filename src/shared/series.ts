/**
 * Pure data helpers behind the charts: keeping per-run metric series, EMA smoothing and
 * aligning several runs on one step axis. No DOM here, so the host and unit tests can use them.
 */
import type { ChartSeries, MetricRecord, RunSummary } from './runs';

/** One metric of one run, steps strictly increasing. */
export interface StepSeries {
  steps: number[];
  values: number[];
}

/** A stored series also keeps each point's wall-clock time (ms since the run started). */
export interface TimedSeries extends StepSeries {
  times: number[];
}

/** What a chart's x axis measures: training steps, or wall-clock time since the run started. */
export type XAxis = 'step' | 'time';

/** The x axis title a chart shows. */
export const X_AXIS_TITLES: Record<XAxis, string> = { step: 'step', time: 'wall-clock time (s)' };

/**
 * Appends a point, first dropping every point at or after its step. A resumed run restarts
 * from its last checkpoint and logs those steps again: the later values are the real
 * continuation. The same rule makes a replayed record (disk read + live event) a no-op.
 */
export function appendPoint(series: StepSeries | TimedSeries, step: number, value: number, time?: number): void {
  const { steps, values } = series;
  const times = 'times' in series ? series.times : undefined;
  if (steps.length > 0 && steps[steps.length - 1] >= step) {
    let keep = steps.length;
    while (keep > 0 && steps[keep - 1] >= step) keep--;
    steps.length = keep;
    values.length = keep;
    if (times) times.length = keep;
  }
  steps.push(step);
  values.push(value);
  times?.push(time ?? NaN);
}

/**
 * The series with its x values on `axis`: steps as they are, or wall-clock seconds. Points without
 * a finite time (a record that lacks one) are left out of a time axis rather than put at 0.
 */
export function onXAxis(series: TimedSeries, axis: XAxis): StepSeries {
  if (axis === 'step') return { steps: series.steps, values: series.values };
  const steps: number[] = [];
  const values: number[] = [];
  series.times.forEach((time, i) => {
    if (!Number.isFinite(time)) return;
    steps.push(time / 1000);
    values.push(series.values[i]);
  });
  return { steps, values };
}

/** One curve of an overlay chart: a metric of a run, with its legend label and colour slot. */
export interface OverlayLine extends StepSeries {
  runId: string;
  metric: string;
  label: string;
  colorIndex: number;
}

/**
 * The curves of one chart that overlays several metrics (training and held-out loss together) of
 * the shown runs, metric-major: each (metric, run) pair present gets its own colour slot, so the
 * slots stay put as points arrive. The legend says the metric, and the run when there are several.
 */
export function overlayLines(
  runs: readonly { id: string; displayName: string }[],
  metrics: readonly string[],
  seriesOf: (runId: string, metric: string) => TimedSeries | undefined,
  axis: XAxis,
): OverlayLine[] {
  const lines: OverlayLine[] = [];
  metrics.forEach((metric, m) => {
    runs.forEach((run, r) => {
      const series = seriesOf(run.id, metric);
      if (!series) return;
      const label = runs.length > 1 ? `${run.displayName} · ${metric}` : metric;
      lines.push({ runId: run.id, metric, label, colorIndex: m * runs.length + r, ...onXAxis(series, axis) });
    });
  });
  return lines;
}

/**
 * Records moved `offset` steps along the step axis and `timeOffsetMs` along the wall-clock axis: a
 * run that continues another from its step N checkpoint is drawn from N on, and from the time the
 * other had trained by N, so its curve joins the earlier one on both axes (src/shared/runs.ts
 * initStepOffset, initTimeOffset).
 */
export function offsetSteps(records: readonly MetricRecord[], offset: number, timeOffsetMs = 0): readonly MetricRecord[] {
  return offset === 0 && timeOffsetMs === 0 ? records : records.map((record) => ({ ...record, step: record.step + offset, time: record.time + timeOffsetMs }));
}

/** Metric series of several runs, filled from full replays and live increments alike. */
export class MetricStore {
  private readonly runs = new Map<string, Map<string, TimedSeries>>();

  /** Adds records of a run; returns the metric names that changed. */
  append(runId: string, records: readonly MetricRecord[]): Set<string> {
    const changed = new Set<string>();
    let byMetric = this.runs.get(runId);
    if (!byMetric) {
      byMetric = new Map();
      this.runs.set(runId, byMetric);
    }
    for (const record of records) {
      for (const [metric, value] of Object.entries(record.values)) {
        let series = byMetric.get(metric);
        if (!series) {
          series = { steps: [], values: [], times: [] };
          byMetric.set(metric, series);
        }
        appendPoint(series, record.step, value, record.time);
        changed.add(metric);
      }
    }
    return changed;
  }

  clear(): void {
    this.runs.clear();
  }

  series(runId: string, metric: string): TimedSeries | undefined {
    return this.runs.get(runId)?.get(metric);
  }

  /** Every metric name seen in any run, in display order. */
  metricNames(): string[] {
    const names = new Set<string>();
    for (const byMetric of this.runs.values()) for (const name of byMetric.keys()) names.add(name);
    return orderMetricNames([...names]);
  }

  /** The last logged value of each metric of a run whose name starts with `prefix`. */
  latest(runId: string, prefix = ''): { metric: string; step: number; value: number }[] {
    const byMetric = this.runs.get(runId);
    if (!byMetric) return [];
    return orderMetricNames([...byMetric.keys()].filter((m) => m.startsWith(prefix))).flatMap((metric) => {
      const s = byMetric.get(metric)!;
      const n = s.steps.length;
      return n === 0 ? [] : [{ metric, step: s.steps[n - 1], value: s.values[n - 1] }];
    });
  }
}

/** Training loss first, then other training metrics, then evaluation metrics, then the rest. */
export function orderMetricNames(names: readonly string[]): string[] {
  const rank = (name: string): number =>
    name === 'train/loss' ? 0 : name.startsWith('train/') ? 1 : name.startsWith('eval/') ? 2 : 3;
  return [...names].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

/** The metric a small chart should show: the training loss, else the first training metric. */
export function mainLossMetric(names: readonly string[]): string | undefined {
  const ordered = orderMetricNames(names);
  return ordered.find((n) => n === 'train/loss') ?? ordered.find((n) => n.startsWith('train/')) ?? ordered[0];
}

/**
 * Exponential moving average with TensorBoard's debiasing (divide by 1 - w^n), so the start of
 * the curve is not pulled toward zero. weight 0 returns the values unchanged. Non-finite values
 * pass through untouched and do not enter the average (a NaN loss stays visible as a gap).
 */
export function emaSmooth(values: readonly number[], weight: number): number[] {
  if (!(weight >= 0 && weight < 1)) throw new RangeError(`smoothing weight must be in [0, 1), got ${weight}`);
  if (weight === 0) return values.slice();
  const out: number[] = new Array(values.length);
  let average = 0;
  let count = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (!Number.isFinite(v)) {
      out[i] = v;
      continue;
    }
    average = average * weight + (1 - weight) * v;
    count++;
    out[i] = average / (1 - Math.pow(weight, count));
  }
  return out;
}

/**
 * Puts several series on one shared, sorted step axis (the union of their steps); a series
 * has `null` where it did not log. This is uPlot's column layout; values (NaN included) are
 * kept as logged, the chart turns non-finite ones into gaps.
 */
export function alignSeries(series: readonly StepSeries[]): { steps: number[]; columns: (number | null)[][] } {
  const union = new Set<number>();
  for (const s of series) for (const step of s.steps) union.add(step);
  const steps = [...union].sort((a, b) => a - b);
  const index = new Map(steps.map((step, i) => [step, i]));
  const columns = series.map((s) => {
    const column: (number | null)[] = new Array(steps.length).fill(null);
    for (let i = 0; i < s.steps.length; i++) column[index.get(s.steps[i])!] = s.values[i];
    return column;
  });
  return { steps, columns };
}

/** The series of every (run, metric) pair present in the data, runs in the given order. */
export function buildSeries(runs: readonly Pick<RunSummary, 'id' | 'name'>[], metrics: Record<string, readonly MetricRecord[]>): ChartSeries[] {
  const store = new MetricStore();
  for (const run of runs) store.append(run.id, metrics[run.id] ?? []);
  const out: ChartSeries[] = [];
  for (const metric of store.metricNames()) {
    for (const run of runs) {
      const s = store.series(run.id, metric);
      if (s) out.push({ runId: run.id, runName: run.name, metric, steps: s.steps, values: s.values });
    }
  }
  return out;
}
