/**
 * The HParams view's geometry, pure (no DOM): an axis per column (numbers on a linear or, when
 * they span two decades or more and are all positive, a log scale; text as evenly spaced
 * categories), the scatter's points (a metric against one hyperparameter, one point per run)
 * and the parallel coordinates' polylines (one per run over several hyperparameters and the
 * metric). Positions are fractions in [0, 1]; the view turns them into pixels. As in
 * TensorBoard's HParams, positive numbers spanning a decade or more (learning rates, weight
 * decays) get a log axis unless the caller turns log scales off.
 */
import { nice, ticks as linearTicks } from 'd3-array';
import type { Column, TableRow } from './tableModel';

export interface Axis {
  column: string;
  label: string;
  kind: 'linear' | 'log' | 'categorical';
  /** Where a value sits on the axis, 0 (low) .. 1 (high); undefined when the run lacks it. */
  position(value: number | string | undefined): number | undefined;
  ticks: { at: number; label: string }[];
}

/** Numbers spanning this ratio or more (all positive) get a log axis: learning rates, weight decays. */
export const LOG_RATIO = 10;
const MAX_CATEGORY_TICKS = 12;

/** `log: false` keeps every numeric axis linear. */
export function buildAxis(column: Column, rows: readonly TableRow[], options: { log?: boolean } = {}): Axis {
  const values = rows.map((row) => row.cells[column.id]).filter((v) => v !== undefined && !(typeof v === 'number' && !Number.isFinite(v)));
  const base = { column: column.id, label: column.label };
  if (values.length > 0 && values.every((v) => typeof v === 'number')) {
    const numbers = values as number[];
    let min = Math.min(...numbers);
    let max = Math.max(...numbers);
    if (options.log !== false && min > 0 && max / min >= LOG_RATIO) return logAxis(base, min, max);
    if (min === max) [min, max] = min === 0 ? [-1, 1] : [min - Math.abs(min) * 0.1, max + Math.abs(max) * 0.1];
    [min, max] = nice(min, max, 5); // round ends, so the extreme runs sit on labelled ticks
    const span = max - min;
    return {
      ...base,
      kind: 'linear',
      position: (v) => (typeof v === 'number' && Number.isFinite(v) ? (v - min) / span : undefined),
      ticks: linearTicks(min, max, 5).map((t) => ({ at: (t - min) / span, label: tickLabel(t) })),
    };
  }
  // Text (or a mix): categories in natural order, evenly spaced, each in the middle of its band.
  const categories = [...new Set(values.map(String))].sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
  const at = (index: number) => (categories.length === 1 ? 0.5 : index / (categories.length - 1));
  const every = Math.ceil(categories.length / MAX_CATEGORY_TICKS);
  return {
    ...base,
    kind: 'categorical',
    position: (v) => {
      const index = v === undefined ? -1 : categories.indexOf(String(v));
      return index < 0 ? undefined : at(index);
    },
    ticks: categories.flatMap((label, index) => (index % every === 0 ? [{ at: at(index), label }] : [])),
  };
}

function logAxis(base: { column: string; label: string }, min: number, max: number): Axis {
  const low = Math.log10(min);
  const span = Math.log10(max) - low;
  // Powers of ten; within one or two decades also 2x and 5x, so the axis has enough labels.
  const decades: number[] = [];
  const steps = span <= 2 ? [1, 2, 5] : [1];
  for (let p = Math.floor(low); p <= Math.ceil(low + span); p++) {
    for (const m of steps) {
      const t = Number((m * 10 ** p).toPrecision(6));
      const at = Math.log10(t);
      if (at >= low - 1e-9 && at <= low + span + 1e-9) decades.push(t);
    }
  }
  return {
    ...base,
    kind: 'log',
    position: (v) => (typeof v === 'number' && v > 0 ? (Math.log10(v) - low) / span : undefined),
    ticks: decades.map((t) => ({ at: (Math.log10(t) - low) / span, label: tickLabel(t) })),
  };
}

/** `0.0005`, `0.75`, `1e-7`: ticks are round numbers, so a short plain form reads best. */
export function tickLabel(value: number): string {
  const abs = Math.abs(value);
  if (abs !== 0 && (abs < 1e-4 || abs >= 1e6)) return value.toExponential().replace(/\.?0+e/, 'e').replace('e+', 'e');
  return String(Number(value.toPrecision(6)));
}

export interface ScatterPoint {
  runId: string;
  x: number;
  y: number;
}

/** One point per run that has both values; `omitted` counts the runs that lack one. */
export function scatterPoints(rows: readonly TableRow[], x: Axis, y: Axis): { points: ScatterPoint[]; omitted: number } {
  const points: ScatterPoint[] = [];
  for (const row of rows) {
    const px = x.position(row.cells[x.column]);
    const py = y.position(row.cells[y.column]);
    if (px !== undefined && py !== undefined) points.push({ runId: row.id, x: px, y: py });
  }
  return { points, omitted: rows.length - points.length };
}

export interface ParallelLine {
  runId: string;
  /** Position on each axis, in axis order. */
  positions: number[];
}

/** One polyline per run that has a value on every axis; `omitted` counts the others. */
export function parallelLines(rows: readonly TableRow[], axes: readonly Axis[]): { lines: ParallelLine[]; omitted: number } {
  const lines: ParallelLine[] = [];
  for (const row of rows) {
    const positions = axes.map((axis) => axis.position(row.cells[axis.column]));
    if (positions.every((p) => p !== undefined)) lines.push({ runId: row.id, positions: positions as number[] });
  }
  return { lines, omitted: rows.length - lines.length };
}
