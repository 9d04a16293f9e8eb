/**
 * CSV export of metrics (RFC 4180). Pure: the host builds the file from its own data with it.
 * Wide layout, one row per (run, step): run_id, run_name, step, time_ms, then one column per
 * metric; an empty cell means the metric was not logged at that step ; NaN and Infinity
 * are written as such.
 */
import type { MetricRecord } from './runs';
import { alignSeries, appendPoint, MetricStore, type StepSeries } from './series';

/** Quotes a field when it holds a comma, quote or line break. */
export function csvField(value: string | number | undefined): string {
  if (value === undefined) return '';
  const text = typeof value === 'number' ? String(value) : value;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function buildMetricsCsv(
  runs: readonly { id: string; name: string }[],
  metrics: Record<string, readonly MetricRecord[]>,
): string {
  const store = new MetricStore();
  for (const run of runs) store.append(run.id, metrics[run.id] ?? []);
  const columns = store.metricNames();
  const lines = [['run_id', 'run_name', 'step', 'time_ms', ...columns].map(csvField).join(',')];
  for (const run of runs) {
    // Same rules as the charts (a resumed run's repeated steps replace the earlier ones).
    const time: StepSeries = { steps: [], values: [] };
    for (const r of metrics[run.id] ?? []) if (Object.keys(r.values).length > 0) appendPoint(time, r.step, r.time);
    const empty: StepSeries = { steps: [], values: [] };
    const aligned = alignSeries([time, ...columns.map((c) => store.series(run.id, c) ?? empty)]);
    aligned.steps.forEach((step, i) => {
      const cells = aligned.columns.map((column) => column[i] ?? undefined);
      lines.push([run.id, run.name, step, ...cells].map(csvField).join(','));
    });
  }
  return lines.join('\r\n') + '\r\n';
}
