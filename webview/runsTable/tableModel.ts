/**
 * The runs table's model, pure (no DOM): the cells of each run, the columns there are and the
 * default set, sorting, and the filter language.
 *
 * Columns: the run's own fields (`name`, `lab`, `status`, `experiment`, `step`, `duration`,
 * `created`), `metric:<name>` (the last logged value of a metric) and `param:<key>` (a resolved
 * hyperparameter, the spec flattened to dotted keys as the dashboard's table shows it).
 *
 * Filter (all terms must hold; terms are separated by spaces or commas, `and` is optional):
 *   word or "quoted text"        name, lab, status or experiment contains it (any case)
 *   <column> > 0.9               also >=, <, <=: numbers (duration in s, or with ms/s/m/h)
 *   <column> = adam              also !=: number or text (any case)
 *   <column> ~ text              the value contains the text
 * A column is named by its id, a run field, a metric (`eval/test/accuracy`) or a hyperparameter
 * (`training.learningRate`). A run without the value does not match a comparison. A bad filter
 * gives an error located by its character range, never a silently ignored term.
 */
import type { RunsTableRow } from '../../src/protocol/runsTable';
import { flattenToDotted } from '../common/params';

export type CellValue = number | string | undefined;

export interface Column {
  id: string;
  kind: 'run' | 'metric' | 'param';
  /** What the header shows: the field, metric or hyperparameter name. */
  label: string;
}

/** A run's cells by column id. */
export interface TableRow {
  id: string;
  cells: Record<string, CellValue>;
}

const RUN_COLUMNS: readonly Column[] = [
  { id: 'name', kind: 'run', label: 'name' },
  { id: 'lab', kind: 'run', label: 'lab' },
  { id: 'status', kind: 'run', label: 'status' },
  { id: 'experiment', kind: 'run', label: 'experiment' },
  { id: 'step', kind: 'run', label: 'step' },
  { id: 'duration', kind: 'run', label: 'duration' },
  { id: 'created', kind: 'run', label: 'created' },
];

/** Spec fields that name or describe the experiment rather than set it up. */
const NOT_HYPERPARAMETERS = new Set(['formatVersion', 'kind', 'name', 'description']);

/** The columns shown before the user picks any: the run, the loss and held-out metrics, the hyperparameters that differ. */
const DEFAULT_RUN_COLUMNS = ['name', 'lab', 'status', 'duration'];
const DEFAULT_METRICS = 4;
const DEFAULT_PARAMS = 5;

/** `metric:x` -> x; every column id is `run field`, `metric:<name>` or `param:<key>`. */
export const metricColumn = (metric: string): string => `metric:${metric}`;
export const paramColumn = (key: string): string => `param:${key}`;

export function toTableRow(row: RunsTableRow): TableRow {
  const cells: Record<string, CellValue> = {
    name: row.name,
    lab: row.lab || undefined,
    status: row.state,
    experiment: row.experiment,
    step: row.step,
    duration: row.durationMs === undefined ? undefined : row.durationMs / 1000,
    created: row.createdAt,
  };
  for (const [metric, value] of Object.entries(row.metrics)) cells[metricColumn(metric)] = value;
  for (const [key, value] of Object.entries(hyperparameters(row.spec))) cells[paramColumn(key)] = value;
  return { id: row.id, cells };
}

/** The resolved spec as dotted keys; numbers stay numbers (for sorting, filters and axes). */
function hyperparameters(spec: unknown): Record<string, string | number> {
  if (!spec || typeof spec !== 'object') return {};
  const out: Record<string, string | number> = {};
  for (const [key, text] of Object.entries(flattenToDotted(spec))) {
    if (NOT_HYPERPARAMETERS.has(key)) continue;
    const number = text.trim() === '' ? NaN : Number(text);
    out[key] = Number.isFinite(number) ? number : text;
  }
  return out;
}

/** Every column the rows have: run fields, then metrics (sorted), then hyperparameters (spec order). */
export function availableColumns(rows: readonly TableRow[]): Column[] {
  const metrics = new Set<string>();
  const params = new Set<string>();
  for (const row of rows) {
    for (const id of Object.keys(row.cells)) {
      if (id.startsWith('metric:')) metrics.add(id);
      else if (id.startsWith('param:')) params.add(id);
    }
  }
  return [
    ...RUN_COLUMNS,
    ...[...metrics].sort().map((id): Column => ({ id, kind: 'metric', label: id.slice('metric:'.length) })),
    ...[...params].map((id): Column => ({ id, kind: 'param', label: id.slice('param:'.length) })),
  ];
}

/**
 * Name, lab, status and duration; the training loss and the first held-out metrics; the
 * hyperparameters whose values differ between the runs (what tells them apart).
 */
export function defaultColumns(rows: readonly TableRow[]): string[] {
  const columns = availableColumns(rows);
  const metrics = columns.filter((c) => c.kind === 'metric').map((c) => c.id);
  const preferred = [metricColumn('train/loss'), ...metrics.filter((id) => id.startsWith('metric:eval/'))];
  const shownMetrics = [...new Set(preferred.filter((id) => metrics.includes(id)))].slice(0, DEFAULT_METRICS);
  const differing = columns
    .filter((c) => c.kind === 'param')
    .map((c) => c.id)
    .filter((id) => rows.some((row) => row.cells[id] !== rows[0].cells[id]))
    .slice(0, DEFAULT_PARAMS);
  return [...DEFAULT_RUN_COLUMNS, ...shownMetrics, ...differing];
}

// ------------------------------------------------------------------ sort

export interface SortOrder {
  column: string;
  descending: boolean;
}

/**
 * Rows ordered by one column: numbers by value, text by natural order (`run-2` before
 * `run-10`). Runs without the value (and NaN) come last in either direction; ties keep the
 * incoming order.
 */
export function sortRows(rows: readonly TableRow[], order: SortOrder): TableRow[] {
  const sign = order.descending ? -1 : 1;
  return rows
    .map((row, index) => ({ row, index }))
    .sort((a, b) => {
      const x = a.row.cells[order.column];
      const y = b.row.cells[order.column];
      const xMissing = isMissing(x);
      const yMissing = isMissing(y);
      if (xMissing || yMissing) return xMissing === yMissing ? a.index - b.index : xMissing ? 1 : -1;
      return sign * compareValues(x!, y!) || a.index - b.index;
    })
    .map(({ row }) => row);
}

const isMissing = (value: CellValue): boolean => value === undefined || (typeof value === 'number' && Number.isNaN(value));

function compareValues(x: number | string, y: number | string): number {
  if (typeof x === 'number' && typeof y === 'number') return x - y;
  if (typeof x === 'number') return -1; // numbers before text in a mixed column
  if (typeof y === 'number') return 1;
  return x.localeCompare(y, undefined, { numeric: true, sensitivity: 'base' });
}

// ------------------------------------------------------------------ filter

export type FilterOp = '>' | '>=' | '<' | '<=' | '=' | '!=' | '~';

export type FilterTerm =
  | { kind: 'text'; text: string }
  | { kind: 'compare'; column: string; op: FilterOp; value: string; number?: number };

/** A filter problem at characters [start, end) of the filter text. */
export interface FilterError {
  message: string;
  start: number;
  end: number;
}

export type ParsedFilter = { terms: FilterTerm[] } | { error: FilterError };

/** Run fields searched by a bare word. */
const TEXT_FIELDS = ['name', 'lab', 'status', 'experiment'];
/** Other names of run fields in a filter. */
const FIELD_ALIASES: Record<string, string> = { state: 'status' };
const OPERATORS: readonly FilterOp[] = ['>=', '<=', '!=', '>', '<', '=', '~'];
const NUMERIC_OPS = new Set<FilterOp>(['>', '>=', '<', '<=']);
const DURATION_UNITS: Record<string, number> = { ms: 0.001, s: 1, m: 60, min: 60, h: 3600 };

interface Token {
  kind: 'word' | 'op';
  text: string;
  start: number;
  end: number;
  /** Written in quotes: never a keyword. */
  quoted?: boolean;
}

/** Parses `text` against the columns the rows have. Empty text: no terms (every run). */
export function parseFilter(text: string, columns: readonly Column[]): ParsedFilter {
  const tokens = tokenize(text);
  if ('error' in tokens) return tokens;
  const terms: FilterTerm[] = [];
  const list = tokens.tokens.filter((t) => !(t.kind === 'word' && !t.quoted && t.text.toLowerCase() === 'and'));
  for (let i = 0; i < list.length; i++) {
    const token = list[i];
    if (token.kind === 'op') {
      return { error: { message: `'${token.text}' needs a column before it, e.g. eval/test/accuracy ${token.text} 0.9`, start: token.start, end: token.end } };
    }
    const op = list[i + 1];
    if (op?.kind !== 'op') {
      terms.push({ kind: 'text', text: token.text.toLowerCase() });
      continue;
    }
    const value = list[i + 2];
    if (!value || value.kind !== 'word') {
      const at = value ?? { start: op.end, end: op.end };
      return { error: { message: `expected a value after '${op.text}'`, start: at.start, end: Math.max(at.end, at.start + 1) } };
    }
    const column = resolveColumn(token.text, columns);
    if (!column) {
      return {
        error: {
          message: `unknown column '${token.text}': use a run field (${RUN_COLUMNS.map((c) => c.id).join(', ')}), a metric or a hyperparameter of these runs${suggestion(token.text, columns)}`,
          start: token.start,
          end: token.end,
        },
      };
    }
    const opText = op.text === '==' ? '=' : op.text;
    if (!OPERATORS.includes(opText as FilterOp)) {
      return { error: { message: `unknown operator '${op.text}': use one of ${OPERATORS.join(' ')}`, start: op.start, end: op.end } };
    }
    const number = column === 'duration' ? parseDuration(value.text) : parseNumber(value.text);
    if (NUMERIC_OPS.has(opText as FilterOp) && number === undefined) {
      const expected = column === 'duration' ? 'a duration (seconds, or with ms, s, m or h)' : 'a number';
      return { error: { message: `expected ${expected} after '${op.text}', found '${value.text}'`, start: value.start, end: value.end } };
    }
    terms.push({ kind: 'compare', column, op: opText as FilterOp, value: value.text.toLowerCase(), number });
    i += 2;
  }
  return { terms };
}

/** Whether a row passes every term. */
export function matchesFilter(row: TableRow, terms: readonly FilterTerm[]): boolean {
  return terms.every((term) => (term.kind === 'text' ? matchesText(row, term.text) : matchesComparison(row.cells[term.column], term)));
}

function matchesText(row: TableRow, text: string): boolean {
  return TEXT_FIELDS.some((field) => String(row.cells[field] ?? '').toLowerCase().includes(text));
}

function matchesComparison(cell: CellValue, term: Extract<FilterTerm, { kind: 'compare' }>): boolean {
  if (isMissing(cell)) return false;
  const numeric = typeof cell === 'number' && term.number !== undefined;
  switch (term.op) {
    case '>': return numeric && (cell as number) > term.number!;
    case '>=': return numeric && (cell as number) >= term.number!;
    case '<': return numeric && (cell as number) < term.number!;
    case '<=': return numeric && (cell as number) <= term.number!;
    case '=': return numeric ? cell === term.number : String(cell).toLowerCase() === term.value;
    case '!=': return numeric ? cell !== term.number : String(cell).toLowerCase() !== term.value;
    case '~': return String(cell).toLowerCase().includes(term.value);
  }
}

/** Column id for a name typed in a filter: a column id, a run field, a metric or a hyperparameter. */
function resolveColumn(name: string, columns: readonly Column[]): string | undefined {
  const field = FIELD_ALIASES[name.toLowerCase()] ?? name.toLowerCase();
  if (RUN_COLUMNS.some((c) => c.id === field)) return field;
  return (
    columns.find((c) => c.id === name)?.id ??
    columns.find((c) => c.kind === 'metric' && c.label === name)?.id ??
    columns.find((c) => c.kind === 'param' && c.label === name)?.id
  );
}

/** ` (did you mean x?)` for the column whose name ends like the one typed, if any. */
function suggestion(name: string, columns: readonly Column[]): string {
  const last = name.split(/[/.]/).pop()?.toLowerCase() ?? '';
  const near = last && columns.find((c) => c.kind !== 'run' && c.label.toLowerCase().split(/[/.]/).pop() === last);
  return near ? ` (did you mean ${near.label}?)` : '';
}

function parseNumber(text: string): number | undefined {
  const value = text.trim() === '' ? NaN : Number(text);
  return Number.isFinite(value) ? value : undefined;
}

/** Seconds: `90`, `90s`, `1.5m`, `250ms`, `2h`. */
function parseDuration(text: string): number | undefined {
  const match = /^([0-9.eE+-]+)\s*([a-z]*)$/i.exec(text);
  if (!match) return undefined;
  const value = parseNumber(match[1]);
  const unit = match[2].toLowerCase();
  const factor = unit === '' ? 1 : DURATION_UNITS[unit];
  return value === undefined || factor === undefined ? undefined : value * factor;
}

/** Words (or "quoted text") and operators, with their character ranges. */
function tokenize(text: string): { tokens: Token[] } | { error: FilterError } {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const char = text[i];
    if (/[\s,]/.test(char)) {
      i++;
    } else if (char === '"' || char === "'") {
      const close = text.indexOf(char, i + 1);
      if (close < 0) return { error: { message: `unclosed quote: add ${char} at the end of the text`, start: i, end: text.length } };
      tokens.push({ kind: 'word', text: text.slice(i + 1, close), start: i, end: close + 1, quoted: true });
      i = close + 1;
    } else if (/[<>=!~]/.test(char)) {
      const two = text.slice(i, i + 2);
      const op = ['>=', '<=', '!=', '=='].includes(two) ? two : char;
      tokens.push({ kind: 'op', text: op, start: i, end: i + op.length });
      i += op.length;
    } else {
      const start = i;
      while (i < text.length && !/[\s,<>=!~"']/.test(text[i])) i++;
      tokens.push({ kind: 'word', text: text.slice(start, i), start, end: i });
    }
  }
  return { tokens };
}
