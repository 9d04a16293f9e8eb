/**
 * Sweeps: one experiment file (`kind: "sweep"`) that names a grid of values over a base
 * experiment; its members are the Cartesian product of the grid (see docs/sweeps.md).
 *
 *   { "formatVersion": 1, "kind": "sweep", "name": "grid",
 *     "base": { ...a train experiment... } | { "file": "relative.lab.json" },
 *     "grid": { "/model/name": ["corelnet", "relational-lstm"], "/task/m": [0, 95], "/seed": [0, 1] },
 *     "exclude": [{ "/task/name": "rmts", "/task/m": 98 }],
 *     "report": { "metric": "eval/test/accuracy" } }
 *
 * A grid key is a JSON pointer into the base; its value replaces the whole value there. This
 * module is pure (no I/O, no registry): expanding, naming members and summarising a metric
 * over seeds. Validation of the file and of every member is in spec/validate.ts.
 */

export type Json = Record<string, unknown>;

/** Grid key -> the value it takes in one member. */
export type GridPoint = Record<string, unknown>;

export interface SweepReport {
  /** The metric compared across members, e.g. `eval/test/accuracy`. */
  metric: string;
  /** Which record of the metric counts: the last one logged. */
  at: 'last';
}

export const DEFAULT_SWEEP_REPORT: SweepReport = { metric: 'eval/test/accuracy', at: 'last' };

/** The sweep file after validation (the base resolved, defaults filled in). */
export interface ResolvedSweep {
  formatVersion: number;
  kind: 'sweep';
  name: string;
  description?: string;
  /** The base experiment as written (inline, or read from `baseFile`), without formatVersion/kind. */
  base: Json;
  /** The file the base was read from, relative to the sweep file, when it came from one. */
  baseFile?: string;
  grid: Record<string, unknown[]>;
  exclude: GridPoint[];
  report: SweepReport;
}

export interface SweepMember {
  /** Position in grid order (0-based), also after exclusions. */
  index: number;
  /** Value labels joined by '.', e.g. `corelnet.same-diff.m95.s1`: unique within the sweep. */
  label: string;
  point: GridPoint;
}

// ---------------------------------------------------------------------------------------------
// JSON pointers

export function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new Error(`a JSON pointer starts with '/', got '${pointer}'`);
  return pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

export const escapePointerSegment = (key: string): string => key.replace(/~/g, '~0').replace(/\//g, '~1');

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Why `pointer` cannot be set in `base` (its parent must be an existing object), or undefined. */
export function pointerProblem(base: Json, pointer: string): string | undefined {
  let segments: string[];
  try {
    segments = parsePointer(pointer);
  } catch (error) {
    return (error as Error).message;
  }
  if (segments.length === 0) return 'the grid cannot replace the whole base experiment';
  if (['formatVersion', 'kind', 'name'].includes(segments[0]) && segments.length === 1) {
    return `'/${segments[0]}' is set by the sweep itself (members are named after their grid values)`;
  }
  let node: unknown = base;
  for (const [depth, segment] of segments.slice(0, -1).entries()) {
    if (!isObject(node) || !(segment in node) || !isObject(node[segment])) {
      const parent = `/${segments.slice(0, depth + 1).map(escapePointerSegment).join('/')}`;
      return `the base experiment has no object at ${parent} to set ${pointer} in`;
    }
    node = node[segment];
  }
  return undefined;
}

/** A deep copy of `base` with `value` at `pointer` (the parent must exist: see pointerProblem). */
export function withValueAt(base: Json, pointer: string, value: unknown): Json {
  const copy = structuredClone(base);
  setValueAt(copy, pointer, structuredClone(value));
  return copy;
}

/** Puts `value` at `pointer` in `target` itself (the parent must exist). */
function setValueAt(target: Json, pointer: string, value: unknown): void {
  const segments = parsePointer(pointer);
  let node = target;
  for (const segment of segments.slice(0, -1)) node = node[segment] as Json;
  node[segments[segments.length - 1]] = value;
}

// ---------------------------------------------------------------------------------------------
// Expansion

/**
 * Most members a sweep may have (README, "Limits"): each member is a run folder and a validated
 * spec. VS Code asks before starting more than SWEEP_CONFIRM_MEMBERS.
 */
export const MAX_SWEEP_MEMBERS = 5000;
export const SWEEP_CONFIRM_MEMBERS = 100;

/** Members before exclusions: the product of the list lengths, computed without expanding. */
export function gridSize(grid: Record<string, readonly unknown[]>): number {
  return Object.values(grid).reduce((product, values) => product * values.length, 1);
}

/**
 * Grid keys in expansion order: as written, except `/seed`, which varies fastest, so that the
 * first members already cover every cell once and later ones add seeds.
 */
export function gridKeyOrder(grid: Record<string, unknown[]>): string[] {
  const keys = Object.keys(grid);
  return [...keys.filter((k) => k !== '/seed'), ...keys.filter((k) => k === '/seed')];
}

function matchesExclusion(point: GridPoint, exclusion: GridPoint): boolean {
  return Object.entries(exclusion).every(([key, value]) => key in point && sameJson(point[key], value));
}

const sameJson = (a: unknown, b: unknown): boolean => a === b || canonicalText(a) === canonicalText(b);

/**
 * The canonical JSON text of a value, kept per object: expansion compares the same grid values for
 * every member, and re-sorting a large value each time made a 15,000-key grid value take seconds.
 * (Grid values are never changed: members get copies.)
 */
const canonicalTexts = new WeakMap<object, string>();
function canonicalText(value: unknown): string {
  if (typeof value !== 'object' || value === null) return JSON.stringify(value);
  let text = canonicalTexts.get(value);
  if (text === undefined) canonicalTexts.set(value, (text = JSON.stringify(canonical(value))));
  return text;
}

/** Objects with sorted keys, so that key order does not make two values differ. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (isObject(value)) return Object.fromEntries(Object.keys(value).sort().map((k) => [k, canonical(value[k])]));
  return value;
}

/** Every grid point, in order (last key fastest, see gridKeyOrder), minus the excluded ones. */
export function expandGrid(grid: Record<string, unknown[]>, exclude: readonly GridPoint[] = []): GridPoint[] {
  const keys = gridKeyOrder(grid);
  let points: GridPoint[] = [{}];
  for (const key of keys) points = points.flatMap((point) => grid[key].map((value) => ({ ...point, [key]: value })));
  return points.filter((point) => !exclude.some((exclusion) => matchesExclusion(point, exclusion)));
}

/** The members of a sweep: grid points with their labels. */
export function sweepMembers(sweep: Pick<ResolvedSweep, 'grid' | 'exclude'>): SweepMember[] {
  const labels = valueLabels(sweep.grid);
  return expandGrid(sweep.grid, sweep.exclude).map((point, index) => ({
    index,
    point,
    label: gridKeyOrder(sweep.grid)
      .map((key) => labels[key][sweep.grid[key].findIndex((value) => sameJson(value, point[key]))])
      .join('.'),
  }));
}

/** The experiment name of a member: `<sweep name>.<label>` (a valid experiment name). */
export const memberName = (sweepName: string, member: SweepMember): string => `${sweepName}.${member.label}`;

/**
 * The member's experiment (before validation): formatVersion and kind of a train file, the base
 * with the grid values in place, the member's name.
 */
export function memberExperiment(sweep: Pick<ResolvedSweep, 'name' | 'base' | 'formatVersion'>, member: SweepMember): Json {
  // One copy per member, the grid values set into it: a copy per grid key made a large base cost
  // (keys + 1) x members copies (a 300 KB base in a 58-member sweep took seconds).
  const experiment: Json = { formatVersion: sweep.formatVersion, kind: 'train', ...structuredClone(sweep.base) };
  for (const [pointer, value] of Object.entries(member.point)) setValueAt(experiment, pointer, structuredClone(value));
  experiment.name = memberName(sweep.name, member);
  return experiment;
}

// ---------------------------------------------------------------------------------------------
// Labels

const SHORT_KEYS: Record<string, string> = { seed: 's' };

/** Letters, digits, '_' and '-', at most 40 characters (labels end up in member names and folder names). */
const safeLabel = (text: string): string => text.replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40).replace(/-+$/, '') || 'x';

/**
 * A short label per value of each grid key: strings as they are (`corelnet`), numbers and
 * booleans after the key's last segment (`m95`, `s1` for seeds), objects by their `name`;
 * values that would share a label get their position appended (`relational-transformer-2`).
 */
export function valueLabels(grid: Record<string, unknown[]>): Record<string, string[]> {
  const result: Record<string, string[]> = {};
  for (const [key, values] of Object.entries(grid)) {
    const last = parsePointer(key).pop() ?? 'value';
    const prefix = SHORT_KEYS[last] ?? last;
    const raw = values.map((value, i) => {
      if (typeof value === 'string') return safeLabel(value);
      if (typeof value === 'number' || typeof value === 'boolean') return safeLabel(`${prefix}${value}`);
      if (isObject(value) && typeof value.name === 'string') return safeLabel(value.name);
      return safeLabel(`${prefix}${i + 1}`);
    });
    result[key] = raw.map((label, i) => (raw.filter((other) => other === label).length > 1 ? `${label}-${i + 1}` : label));
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// Reports: one metric per member, summarised over seeds

export interface MemberResult {
  label: string;
  point: GridPoint;
  /** The reported metric (undefined: not logged yet, or the member failed before logging it). */
  value?: number;
}

export interface CellSummary {
  /** The grid point without the seed. */
  point: GridPoint;
  values: number[];
  /** Members of the cell that have no value yet. */
  missing: number;
  mean?: number;
  /** Sample standard deviation (n - 1); 0 for a single value. */
  sd?: number;
  min?: number;
  max?: number;
}

/** The value of `metric` in the last record that has it (records in step order). */
export function lastMetricValue(records: readonly { values: Record<string, number> }[], metric: string): number | undefined {
  for (let i = records.length - 1; i >= 0; i--) {
    const value = records[i].values[metric];
    if (typeof value === 'number' && Number.isFinite(value)) return value;
  }
  return undefined;
}

export function summarise(values: readonly number[]): Pick<CellSummary, 'mean' | 'sd' | 'min' | 'max'> {
  if (values.length === 0) return {};
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  const sd = values.length > 1 ? Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / (values.length - 1)) : 0;
  return { mean, sd, min: Math.min(...values), max: Math.max(...values) };
}

/** Members grouped by their grid point without `seedKey`, in member order, with mean and spread. */
export function summariseOverSeeds(results: readonly MemberResult[], seedKey = '/seed'): CellSummary[] {
  const cells = new Map<string, { point: GridPoint; values: number[]; missing: number }>();
  for (const result of results) {
    const point = Object.fromEntries(Object.entries(result.point).filter(([key]) => key !== seedKey));
    const id = JSON.stringify(canonical(point));
    const cell = cells.get(id) ?? { point, values: [], missing: 0 };
    if (result.value === undefined) cell.missing++;
    else cell.values.push(result.value);
    cells.set(id, cell);
  }
  return [...cells.values()].map((cell) => ({ ...cell, ...summarise(cell.values) }));
}

// ---------------------------------------------------------------------------------------------
// The sweep folder's record (`<runs>/<sweep-id>/sweep.json`)

/** File name of the record in a sweep folder; a folder holding it is a sweep, not a run. */
export const SWEEP_FILE = 'sweep.json';
export const SWEEP_RECORD_VERSION = 1;

export interface SweepMemberRecord extends SweepMember {
  /** Folder name of the member's run, beside the sweep folder in the same runs folder. */
  runId: string;
}

/** sweep.json: the resolved sweep and its members' run ids (members are ordinary runs). */
export interface SweepRecord {
  formatVersion: number;
  /** The sweep folder's name: `<yyyymmdd-hhmmss>-<sweep name>[-n]`. */
  id: string;
  name: string;
  specFile?: string;
  createdAt: string;
  /** `training.steps` given on the command line for every member, when it was. */
  stepsOverride?: number;
  sweep: ResolvedSweep;
  members: SweepMemberRecord[];
}

/** Checks the shape of a parsed sweep.json; throws a sentence naming the bad field. */
export function parseSweepRecord(value: unknown): SweepRecord {
  const fail = (what: string): never => {
    throw new Error(`not a sweep record: ${what}`);
  };
  if (!isObject(value)) return fail('expected a JSON object');
  if (value.formatVersion !== SWEEP_RECORD_VERSION) fail(`formatVersion ${JSON.stringify(value.formatVersion)} (this version reads ${SWEEP_RECORD_VERSION})`);
  if (typeof value.id !== 'string' || typeof value.name !== 'string') fail('"id" and "name" must be strings');
  if (!isObject(value.sweep) || !isObject(value.sweep.grid)) fail('"sweep" must hold the resolved sweep with its grid');
  if (!Array.isArray(value.members)) fail('"members" must be an array');
  (value.members as unknown[]).forEach((member, i) => {
    if (!isObject(member) || typeof member.runId !== 'string' || typeof member.label !== 'string' || !isObject(member.point)) {
      fail(`members[${i}] needs runId, label and point`);
    }
  });
  return value as unknown as SweepRecord;
}
