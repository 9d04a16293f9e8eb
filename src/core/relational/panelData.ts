/**
 * What the similarity panel shows, computed from plain data (no tensors, no I/O):
 * - one trial: the objects' pixels, the matrix the decoder reads (`inspect.similarity`), the
 *   prediction against the truth;
 * - class averages: the mean similarity matrix over many trials of each kind (same/different,
 *   AAA/ABA/ABB, ...), which shows the relation the model has learned;
 * - for a sweep: held-out accuracy per (model, task) row over m, with mean and spread over seeds.
 */
import { gridKeyOrder, lastMetricValue, summariseOverSeeds, valueLabels, type CellSummary, type GridPoint } from '../sweep';

/** An inference session's answer for one example (see src/core/inference.ts ExampleView). */
export interface ExampleLike {
  split: string;
  index: number;
  step: number;
  inputs: unknown;
  output: unknown;
  truth: unknown;
  inspect: Record<string, unknown>;
}

export interface TrialView {
  split: string;
  index: number;
  step: number;
  /** Per object, 32 x 32 intensities in [0, 1], row-major. */
  objects: number[][];
  /** Object indices in the object set (from the truth), when known. */
  objectIds?: number[];
  /** T x T: what the decoder reads; undefined when the model has no similarity matrix. */
  similarity?: number[][];
  /** T x T: a transformer baseline's self-attention averaged over heads (searches), row i = object i's weights over j. */
  attention?: number[][];
  /** Softmax of the output logits. */
  probabilities: number[];
  predicted: number;
  label?: number;
  kind?: string;
}

const isNumberArray = (value: unknown): value is number[] => Array.isArray(value) && value.every((v) => typeof v === 'number');

/** Flattens nested arrays of numbers (e.g. [32][32][1]) in row-major order. */
export function flatten(value: unknown): number[] {
  if (typeof value === 'number') return [value];
  if (!Array.isArray(value)) throw new Error(`expected nested arrays of numbers, got ${typeof value}`);
  return value.flatMap(flatten);
}

export function softmax(logits: readonly number[]): number[] {
  const max = Math.max(...logits);
  const exps = logits.map((x) => Math.exp(x - max));
  const sum = exps.reduce((s, x) => s + x, 0);
  return exps.map((x) => x / sum);
}

/** Index of the largest value (the first on ties, as tf.argMax). */
export function argMax(values: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

function truthOf(example: ExampleLike): { label?: number; kind?: string; objects?: number[] } {
  const truth = example.truth as { label?: unknown; kind?: unknown; objects?: unknown } | undefined;
  return {
    ...(typeof truth?.label === 'number' ? { label: truth.label } : {}),
    ...(typeof truth?.kind === 'string' ? { kind: truth.kind } : {}),
    ...(isNumberArray(truth?.objects) ? { objects: truth.objects } : {}),
  };
}

function similarityOf(example: ExampleLike): number[][] | undefined {
  const matrix = example.inspect.similarity;
  if (!Array.isArray(matrix) || !matrix.every(isNumberArray)) return undefined;
  return matrix as number[][];
}

/** Mean over heads of `inspect.attention` [H][T][T], when the model is a transformer. */
function attentionOf(example: ExampleLike): number[][] | undefined {
  const maps = example.inspect.attention;
  if (!Array.isArray(maps) || maps.length === 0 || !maps.every((m) => Array.isArray(m) && m.every(isNumberArray))) return undefined;
  const heads = maps as number[][][];
  return heads[0].map((row, i) => row.map((_, j) => heads.reduce((sum, head) => sum + head[i][j], 0) / heads.length));
}

/** One example of a relational task as the panel draws it. Inputs are [T, 32, 32, 1]. */
export function trialView(example: ExampleLike): TrialView {
  if (!Array.isArray(example.inputs)) throw new Error('the example has no inputs: expected [objects, 32, 32, 1]');
  const objects = (example.inputs as unknown[]).map(flatten);
  if (!isNumberArray(example.output)) throw new Error('the model output is not a vector of class logits');
  const probabilities = softmax(example.output);
  const truth = truthOf(example);
  const similarity = similarityOf(example);
  const attention = similarity ? undefined : attentionOf(example);
  return {
    split: example.split,
    index: example.index,
    step: example.step,
    objects,
    ...(truth.objects ? { objectIds: truth.objects } : {}),
    ...(similarity ? { similarity } : {}),
    ...(attention ? { attention } : {}),
    probabilities,
    predicted: argMax(probabilities),
    ...(truth.label !== undefined ? { label: truth.label } : {}),
    ...(truth.kind !== undefined ? { kind: truth.kind } : {}),
  };
}

// ---------------------------------------------------------------------------------------------
// Class averages

export interface ClassAverage {
  /** The trial kind: 'same', 'different', 'AAA', ... */
  kind: string;
  trials: number;
  /** Fraction of these trials the model answered correctly. */
  accuracy: number;
  /** Element-wise mean of the similarity matrices. */
  mean: number[][];
}

/** Accumulates similarity matrices per trial kind; feed it examples, read `result()`. */
export class ClassAverageBuilder {
  private readonly sums = new Map<string, { trials: number; correct: number; sum: number[][] }>();

  /** Trials of `kind` added so far. */
  count(kind: string): number {
    return this.sums.get(kind)?.trials ?? 0;
  }

  add(example: ExampleLike): void {
    const view = trialView(example);
    if (!view.similarity) throw new Error("this model exposes no similarity matrix (inspect.similarity): class averages need CoRelNet");
    const kind = view.kind ?? (view.label !== undefined ? `class ${view.label}` : 'all');
    const entry = this.sums.get(kind) ?? { trials: 0, correct: 0, sum: view.similarity.map((row) => row.map(() => 0)) };
    view.similarity.forEach((row, i) => row.forEach((value, j) => (entry.sum[i][j] += value)));
    entry.trials++;
    if (view.label !== undefined && view.predicted === view.label) entry.correct++;
    this.sums.set(kind, entry);
  }

  /** Kinds in alphabetical order (stable across calls and runs). */
  result(): ClassAverage[] {
    return [...this.sums.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([kind, { trials, correct, sum }]) => ({
        kind,
        trials,
        accuracy: correct / trials,
        mean: sum.map((row) => row.map((value) => value / trials)),
      }));
  }
}

/**
 * Draws examples 0, 1, 2, ... of a split until every kind seen has `perKind` trials (or
 * `maxExamples` were drawn), averaging only the first `perKind` of each kind.
 */
export function classAverages(draw: (index: number) => ExampleLike, perKind: number, maxExamples: number): ClassAverage[] {
  const builder = new ClassAverageBuilder();
  const kinds = new Set<string>();
  for (let index = 0; index < maxExamples; index++) {
    const example = draw(index);
    const kind = trialView(example).kind ?? 'all';
    kinds.add(kind);
    if (builder.count(kind) < perKind) builder.add(example);
    if (index + 1 >= perKind && [...kinds].every((k) => builder.count(k) >= perKind)) break;
  }
  return builder.result();
}

// ---------------------------------------------------------------------------------------------
// The m-grid of a sweep

export interface SweepGridMember {
  runId: string;
  label: string;
  point: GridPoint;
  state: string;
  /** The metric's records, in step order. */
  records: readonly { values: Record<string, number> }[];
}

export interface SweepGridCell extends CellSummary {
  /** Member run ids of the cell, seed order. */
  runIds: string[];
}

export interface SweepGridRow {
  /** e.g. `corelnet · same-diff` */
  label: string;
  /** One per column value (same order as `columns`). */
  cells: (SweepGridCell | undefined)[];
}

export interface SweepGrid {
  metric: string;
  /** The grid key along the columns (`/task/m` when the grid has it). */
  columnKey?: string;
  columns: string[];
  rows: SweepGridRow[];
  /** How many seeds per cell at most. */
  seeds: number;
}

/**
 * Rows: every combination of the grid keys other than the column key and `/seed`; columns: the
 * values of the column key (`/task/m`); cells: the metric's last value per member, summarised
 * over seeds (mean, sample sd, min-max).
 */
export function sweepGrid(
  grid: Record<string, unknown[]>,
  members: readonly SweepGridMember[],
  metric: string,
  columnKey = '/task/m',
): SweepGrid {
  const labels = valueLabels(grid);
  const column = columnKey in grid ? columnKey : undefined;
  const rowKeys = gridKeyOrder(grid).filter((key) => key !== column && key !== '/seed');
  const labelOf = (key: string, value: unknown) => labels[key][grid[key].findIndex((v) => JSON.stringify(v) === JSON.stringify(value))] ?? String(value);
  const columns = column ? grid[column].map((value) => String(value)) : [metric];

  const cells = summariseOverSeeds(members.map((m) => ({ label: m.label, point: m.point, value: lastMetricValue(m.records, metric) })));
  const rows = new Map<string, SweepGridRow>();
  for (const cell of cells) {
    const rowLabel = rowKeys.map((key) => labelOf(key, cell.point[key])).join(' · ') || 'all';
    const row = rows.get(rowLabel) ?? { label: rowLabel, cells: columns.map(() => undefined) };
    const at = column ? grid[column].findIndex((v) => JSON.stringify(v) === JSON.stringify(cell.point[column])) : 0;
    const runIds = members
      .filter((m) => Object.entries(cell.point).every(([key, value]) => JSON.stringify(m.point[key]) === JSON.stringify(value)))
      .map((m) => m.runId);
    row.cells[at] = { ...cell, runIds };
    rows.set(rowLabel, row);
  }
  const seeds = Math.max(1, ...cells.map((c) => c.values.length + c.missing));
  return { metric, ...(column ? { columnKey: column } : {}), columns, rows: [...rows.values()], seeds };
}
