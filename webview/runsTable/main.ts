/**
 * Runs table: every run of the workspace as a row (name, lab, status, duration, the last value of
 * any metric and any resolved hyperparameter, the user choosing the columns), sorted by any
 * column, filtered (./tableModel.ts has the filter language), runs ticked and overlaid in the
 * dashboard; and the HParams tab: a metric against one hyperparameter, and parallel coordinates
 * over several, of the runs the filter shows. The host sends the rows (src/protocol/runsTable.ts);
 * this page only renders and sends the overlay intent.
 */
import { MAX_OVERLAY_RUNS, type FromRunsTablePage, type RunsTableState, type ToRunsTablePage } from '../../src/protocol/runsTable';
import type { RunState } from '../../src/shared/runs';
import { loadState, pageChannel, saveState } from '../common/channel';
import { el, stateBadge } from '../common/dom';
import { formatValue, onThemeChange, readThemeColors } from '../common/theme';
import { buildAxis } from './hparams';
import { drawParallel, drawScatter, type PlotContext } from './hparamsView';
import {
  availableColumns, defaultColumns, matchesFilter, parseFilter, sortRows, toTableRow,
  type CellValue, type Column, type FilterTerm, type SortOrder, type TableRow,
} from './tableModel';
import './main.css';

const PLOT_HEIGHT = 320;
const MAX_PARALLEL_AXES = 8;

type FormControl = HTMLElement & { value: string; checked: boolean };

const host = pageChannel<FromRunsTablePage, ToRunsTablePage>();
const persisted = loadState<RunsTableState>({ filter: '', tab: 'table' });
let rows: TableRow[] = [];
let received = false;
let columns: Column[] = [];
/** The user's column choice; undefined: the default set (follows new metrics and runs). */
let chosenColumns: string[] | undefined = Array.isArray(persisted.columns) ? persisted.columns.filter((c) => typeof c === 'string') : undefined;
let sort: SortOrder = validSort(persisted.sort) ?? { column: 'created', descending: true };
let filterTerms: FilterTerm[] = [];
const selected = new Set<string>();
let hparams = { ...(persisted.hparams ?? {}) };
let theme = readThemeColors();

// ------------------------------------------------------------------ layout

const app = document.getElementById('app')!;
const summary = el('span', { class: 'summary', 'data-testid': 'summary', role: 'status' });
const filterField = <FormControl>el('vscode-textfield', {
  id: 'filter', 'data-testid': 'filter', class: 'filter', placeholder: 'Filter: text, or eval/test/accuracy > 0.9, training.learningRate <= 0.001, status = completed',
  'aria-label': 'Filter the runs', title: filterHelp(),
});
filterField.setAttribute('value', persisted.filter ?? '');
const filterError = el('div', { class: 'filter-error', 'data-testid': 'filter-error', role: 'alert', hidden: '' });
const columnsButton = el('vscode-button', { icon: 'list-selection', secondary: '', 'data-testid': 'columns-button', title: 'Choose the columns' }, 'Columns');
const overlayButton = el('vscode-button', { icon: 'graph-line', 'data-testid': 'overlay-button', disabled: '', title: 'Open the dashboard with the ticked runs overlaid' }, 'Overlay in Dashboard');
const columnChooser = el('section', { class: 'column-chooser', 'data-testid': 'column-chooser', 'aria-label': 'Columns', hidden: '' });
const table = el('table', { class: 'runs-table', 'data-testid': 'runs-table', 'aria-label': 'Runs' });
const emptyNote = el('p', { class: 'empty-note' });

const metricSelect = <FormControl>el('vscode-single-select', { id: 'hp-metric', 'data-testid': 'hp-metric', 'aria-label': 'Metric' });
const paramSelect = <FormControl>el('vscode-single-select', { id: 'hp-param', 'data-testid': 'hp-param', 'aria-label': 'Hyperparameter' });
const logScaleBox = <FormControl>el('vscode-checkbox', {
  id: 'hp-log', 'data-testid': 'hp-log', label: 'Log scale',
  title: 'Hyperparameters whose positive values span 10x or more (learning rates) on a log axis',
});
if (hparams.log !== false) logScaleBox.setAttribute('checked', '');
const hoverReadout = el('div', { class: 'hp-readout', 'data-testid': 'hp-readout', 'aria-live': 'polite' }, '\u00a0');
const scatterHost = el('div', { class: 'hp-plot', 'data-testid': 'hp-scatter-host' });
const scatterNote = el('p', { class: 'hp-note' });
const axesChooser = el('div', { class: 'hp-axes', 'data-testid': 'hp-axes', 'aria-label': 'Axes of the parallel coordinates' });
const parallelHost = el('div', { class: 'hp-plot', 'data-testid': 'hp-parallel-host' });
const parallelNote = el('p', { class: 'hp-note' });
const hparamsNote = el('p', { class: 'empty-note' });

const tabs = el('vscode-tabs', { 'data-testid': 'tabs', 'selected-index': persisted.tab === 'hparams' ? '1' : '0' },
  el('vscode-tab-header', { slot: 'header', 'data-testid': 'tab-table' }, 'Table'),
  el('vscode-tab-panel', {}, el('div', { class: 'table-scroll' }, table), emptyNote),
  el('vscode-tab-header', { slot: 'header', 'data-testid': 'tab-hparams' }, 'HParams'),
  el('vscode-tab-panel', {},
    el('div', { class: 'hparams' },
      hparamsNote,
      el('div', { class: 'hp-controls' },
        el('label', { for: 'hp-metric' }, 'Metric'), metricSelect,
        el('label', { for: 'hp-param' }, 'against'), paramSelect, logScaleBox),
      hoverReadout,
      el('h2', {}, 'Metric against one hyperparameter'), scatterHost, scatterNote,
      el('h2', {}, 'Parallel coordinates'), axesChooser, parallelHost, parallelNote)));

app.append(
  el('header', { class: 'toolbar' }, el('h1', {}, 'Runs'), summary,
    el('div', { class: 'toolbar-controls' }, columnsButton, overlayButton)),
  el('div', { class: 'filter-row' }, filterField),
  filterError,
  columnChooser,
  tabs,
);

function filterHelp(): string {
  return [
    'All terms must hold (spaces or commas between them):',
    '  word or "quoted text": name, lab, status or experiment contains it',
    '  column > 0.9 (also >=, <, <=): numbers; duration in seconds or with ms, s, m, h',
    '  column = value, column != value: number or text; column ~ text: contains',
    'A column is a run field (name, lab, status, experiment, step, duration, created), a metric (eval/test/accuracy) or a hyperparameter (training.learningRate).',
  ].join('\n');
}

// ------------------------------------------------------------------ state and messages

function validSort(value: unknown): SortOrder | undefined {
  const s = value as Partial<SortOrder> | undefined;
  return s && typeof s.column === 'string' && typeof s.descending === 'boolean' ? { column: s.column, descending: s.descending } : undefined;
}

function persist(): void {
  saveState<RunsTableState>({
    ...(chosenColumns ? { columns: chosenColumns } : {}),
    sort,
    filter: filterField.value ?? '',
    tab: selectedTab(),
    hparams,
  });
}

function selectedTab(): 'table' | 'hparams' {
  return (tabs as HTMLElement & { selectedIndex?: number }).selectedIndex === 1 ? 'hparams' : 'table';
}

host.onNotification('rows', ({ rows: incoming }) => {
  received = true;
  rows = incoming.map(toTableRow);
  columns = availableColumns(rows);
  for (const id of [...selected]) if (!rows.some((row) => row.id === id)) selected.delete(id);
  applyFilter();
});
host.onNotification('changedRows', ({ rows: changed }) => {
  const byId = new Map(changed.map((row) => [row.id, toTableRow(row)]));
  rows = rows.map((row) => byId.get(row.id) ?? row);
  columns = availableColumns(rows);
  applyFilter();
});
host.notify('ready', {});

filterField.addEventListener('input', () => {
  applyFilter();
  persist();
});
columnsButton.addEventListener('click', () => {
  columnChooser.hidden = !columnChooser.hidden;
  renderColumnChooser();
});
overlayButton.addEventListener('click', () => {
  const ids = shownRows().filter((row) => selected.has(row.id)).map((row) => row.id);
  if (ids.length > 0 && ids.length <= MAX_OVERLAY_RUNS) host.notify('overlay', { runIds: ids });
});
tabs.addEventListener('vsc-tabs-select', () => {
  persist();
  renderHparams();
});
metricSelect.addEventListener('change', () => {
  hparams = { ...hparams, metric: metricSelect.value };
  persist();
  renderHparams();
});
logScaleBox.addEventListener('change', () => {
  hparams = { ...hparams, log: logScaleBox.checked };
  persist();
  renderHparams();
});
paramSelect.addEventListener('change', () => {
  hparams = { ...hparams, param: paramSelect.value };
  persist();
  renderHparams();
});
onThemeChange(() => {
  theme = readThemeColors();
  renderHparams();
});
new ResizeObserver(() => renderPlots()).observe(scatterHost);

// ------------------------------------------------------------------ filter

/** Parses the filter; a bad one is shown located and leaves every run shown (never half applied). */
function applyFilter(): void {
  const text = filterField.value ?? '';
  const parsed = parseFilter(text, columns);
  if ('error' in parsed) {
    const { message, start, end } = parsed.error;
    filterError.hidden = false;
    filterError.replaceChildren(
      el('span', { class: 'codicon codicon-error', 'aria-hidden': 'true' }),
      el('span', {}, `Filter, characters ${start + 1}-${end}: ${message}. `),
      el('code', {}, text.slice(0, start), el('mark', {}, text.slice(start, end) || ' '), text.slice(end)),
    );
    filterField.setAttribute('invalid', '');
    filterTerms = [];
  } else {
    filterError.hidden = true;
    filterError.replaceChildren();
    filterField.removeAttribute('invalid');
    filterTerms = parsed.terms;
  }
  render();
}

function shownRows(): TableRow[] {
  return rows.filter((row) => matchesFilter(row, filterTerms));
}

// ------------------------------------------------------------------ table

function shownColumns(): Column[] {
  const ids = chosenColumns ?? defaultColumns(rows);
  return ids.flatMap((id) => columns.find((c) => c.id === id) ?? []);
}

function render(): void {
  renderTable();
  renderColumnChooser();
  renderHparams();
}

function renderTable(): void {
  const shown = sortRows(shownRows(), sort);
  const visible = shownColumns();
  const allTicked = shown.length > 0 && shown.every((row) => selected.has(row.id));
  const selectAll = <FormControl>el('vscode-checkbox', { 'aria-label': 'Select every shown run', 'data-testid': 'select-all' });
  if (allTicked) selectAll.setAttribute('checked', '');
  selectAll.addEventListener('change', () => {
    for (const row of shown) {
      if (selectAll.checked) selected.add(row.id);
      else selected.delete(row.id);
    }
    render();
  });
  const head = el('tr', {}, el('th', { class: 'select' }, selectAll), ...visible.map((column) => headerCell(column)));
  const body = shown.map((row) => {
    const box = <FormControl>el('vscode-checkbox', { 'aria-label': `Select ${String(row.cells.name)}`, 'data-testid': `select-${row.id}` });
    if (selected.has(row.id)) box.setAttribute('checked', '');
    box.addEventListener('change', () => {
      if (box.checked) selected.add(row.id);
      else selected.delete(row.id);
      render();
    });
    return el('tr', { 'data-testid': `row-${row.id}`, ...(selected.has(row.id) ? { class: 'selected' } : {}) },
      el('td', { class: 'select' }, box),
      ...visible.map((column) => bodyCell(column, row)));
  });
  table.replaceChildren(el('thead', {}, head), el('tbody', {}, ...body));
  const ticked = shown.filter((row) => selected.has(row.id)).length;
  overlayButton.toggleAttribute('disabled', ticked === 0 || ticked > MAX_OVERLAY_RUNS);
  overlayButton.textContent = ticked > 0 ? `Overlay ${ticked} in Dashboard` : 'Overlay in Dashboard';
  overlayButton.title = ticked > MAX_OVERLAY_RUNS ? `At most ${MAX_OVERLAY_RUNS} runs in one dashboard` : 'Open the dashboard with the ticked runs overlaid';
  summary.textContent = received ? `${shown.length} of ${rows.length} runs${ticked ? `, ${ticked} ticked` : ''}` : '';
  emptyNote.textContent = !received ? 'Loading…' : rows.length === 0 ? 'No runs yet: train an experiment, or open a folder that has runs.' : shown.length === 0 ? 'No run matches the filter.' : '';
  emptyNote.hidden = emptyNote.textContent === '';
}

function headerCell(column: Column): HTMLElement {
  const sorted = sort.column === column.id;
  const button = el('button', { class: 'sort', type: 'button', title: `Sort by ${column.label}${column.kind === 'metric' ? ' (last value)' : ''}` },
    column.label,
    sorted ? el('span', { class: `codicon codicon-arrow-${sort.descending ? 'down' : 'up'}`, 'aria-hidden': 'true' }) : '');
  button.addEventListener('click', () => {
    // A new column starts with its most useful direction: highest metric values and newest runs first.
    sort = sorted ? { column: column.id, descending: !sort.descending } : { column: column.id, descending: column.kind === 'metric' || column.id === 'created' };
    persist();
    renderTable();
  });
  return el('th', {
    scope: 'col', class: `col-${column.kind}`, 'data-testid': `header-${column.id}`,
    'aria-sort': sorted ? (sort.descending ? 'descending' : 'ascending') : 'none',
  }, button);
}

function bodyCell(column: Column, row: TableRow): HTMLElement {
  const value = row.cells[column.id];
  const attributes = { 'data-column': column.id, class: `col-${column.kind}${typeof value === 'number' ? ' number' : ''}` };
  if (column.id === 'name') return el('td', { ...attributes, title: row.id }, String(value ?? row.id));
  if (column.id === 'status' && typeof value === 'string') return el('td', attributes, stateBadge(value as RunState));
  return el('td', attributes, formatCell(column, value));
}

function formatCell(column: Column, value: CellValue): string {
  if (value === undefined) return '—';
  if (column.id === 'duration' && typeof value === 'number') return formatDuration(value);
  if (column.id === 'created' && typeof value === 'string') return value.replace('T', ' ').replace(/\.\d+Z?$|Z$/, '');
  // A hyperparameter reads as written in the spec (0.0003, not 3.000e-4); measured values are rounded.
  if (column.kind === 'param') return String(value);
  return typeof value === 'number' ? formatValue(value) : value;
}

/** `42.1 s`, `3 min 05 s`, `1 h 02 min`. */
function formatDuration(seconds: number): string {
  if (seconds < 60) return `${formatValue(Number(seconds.toFixed(1)))} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${String(Math.floor(seconds % 60)).padStart(2, '0')} s`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} min`;
}

function renderColumnChooser(): void {
  if (columnChooser.hidden) return;
  const shown = new Set(shownColumns().map((c) => c.id));
  const group = (title: string, kind: Column['kind']) => {
    const boxes = columns.filter((c) => c.kind === kind).map((column) => {
      const box = <FormControl>el('vscode-checkbox', { label: column.label, 'data-testid': `column-toggle-${column.id}` });
      if (shown.has(column.id)) box.setAttribute('checked', '');
      box.addEventListener('change', () => {
        const current = shownColumns().map((c) => c.id);
        chosenColumns = box.checked ? [...current.filter((id) => id !== column.id), column.id] : current.filter((id) => id !== column.id);
        persist();
        renderTable();
      });
      return box;
    });
    return boxes.length ? el('fieldset', {}, el('legend', {}, title), ...boxes) : '';
  };
  const reset = el('vscode-button', { secondary: '', 'data-testid': 'columns-default', title: 'The run, loss and held-out metrics, and the hyperparameters that differ' }, 'Default columns');
  reset.addEventListener('click', () => {
    chosenColumns = undefined;
    persist();
    render();
  });
  columnChooser.replaceChildren(group('Run', 'run'), group('Metrics (last value)', 'metric'), group('Hyperparameters', 'param'), reset);
}

// ------------------------------------------------------------------ HParams

/** Hyperparameters whose value differs between the shown runs: the ones worth an axis. */
function differingParams(shown: readonly TableRow[]): Column[] {
  return columns.filter((c) => c.kind === 'param' && new Set(shown.map((row) => String(row.cells[c.id]))).size > 1);
}

function renderHparams(): void {
  if (selectedTab() !== 'hparams') return;
  const shown = shownRows();
  const metrics = columns.filter((c) => c.kind === 'metric');
  const params = differingParams(shown);
  // A held-out metric first: the comparison the HParams view is for.
  const metric = metrics.find((c) => c.id === hparams.metric) ?? metrics.find((c) => c.id.startsWith('metric:eval/')) ?? metrics[0];
  const param = params.find((c) => c.id === hparams.param) ?? params[0];
  fillSelect(metricSelect, metrics, metric?.id);
  fillSelect(paramSelect, params, param?.id);
  hparamsNote.textContent = shown.length < 2
    ? 'The HParams view compares runs: show two or more (clear the filter, or train a sweep).'
    : params.length === 0 ? 'The shown runs have the same hyperparameters: nothing to plot against.' : metrics.length === 0 ? 'No metrics logged yet.' : '';
  hparamsNote.hidden = hparamsNote.textContent === '';
  const axes = (hparams.axes ?? params.slice(0, MAX_PARALLEL_AXES - 1).map((c) => c.id)).filter((id) => params.some((c) => c.id === id));
  axesChooser.replaceChildren(...params.map((column) => {
    const box = <FormControl>el('vscode-checkbox', { label: column.label, 'data-testid': `axis-toggle-${column.id}` });
    if (axes.includes(column.id)) box.setAttribute('checked', '');
    box.addEventListener('change', () => {
      const current = axes.filter((id) => id !== column.id);
      hparams = { ...hparams, axes: box.checked ? [...current, column.id].slice(-(MAX_PARALLEL_AXES - 1)) : current };
      persist();
      renderHparams();
    });
    return box;
  }));
  plotChoice = metric && param && shown.length > 0 ? { shown, metric, param, axes: axes.flatMap((id) => params.find((c) => c.id === id) ?? []) } : undefined;
  renderPlots();
}

let plotChoice: { shown: TableRow[]; metric: Column; param: Column; axes: Column[] } | undefined;

function renderPlots(): void {
  if (!plotChoice || selectedTab() !== 'hparams') {
    scatterHost.replaceChildren();
    parallelHost.replaceChildren();
    scatterNote.textContent = parallelNote.textContent = '';
    return;
  }
  const { shown, metric, param, axes } = plotChoice;
  const width = Math.max(320, Math.floor(scatterHost.clientWidth || app.clientWidth || 640));
  const context: PlotContext = {
    theme, width, height: PLOT_HEIGHT, selected,
    describe: (row) => describeRun(row, [param, ...axes, metric]),
    onHover: (row) => (hoverReadout.textContent = row ? describeRun(row, [param, ...axes, metric]) : '\u00a0'),
  };
  const metricAxis = buildAxis(metric, shown, { log: false });
  // Log scales are for hyperparameters; the metric keeps a linear axis.
  const log = { log: hparams.log !== false };
  const scatter = drawScatter(shown, buildAxis(param, shown, log), metricAxis, context);
  scatterHost.replaceChildren(scatter.svg);
  scatterNote.textContent = omittedNote(scatter.omitted, `${metric.label} or ${param.label}`);
  const parallel = drawParallel(shown, [...axes.map((column) => buildAxis(column, shown, log)), metricAxis], context);
  parallelHost.replaceChildren(parallel.svg);
  parallelNote.textContent = omittedNote(parallel.omitted, 'a value on every axis');
}

function omittedNote(omitted: number, what: string): string {
  return omitted === 0 ? '' : `${omitted} shown run${omitted === 1 ? '' : 's'} without ${what} ${omitted === 1 ? 'is' : 'are'} left out.`;
}

/** `lr 0.01 · 2025-... : eval/test/accuracy 0.93, training.learningRate 0.001`. */
function describeRun(row: TableRow, shownColumns: readonly Column[]): string {
  const values = [...new Set(shownColumns)].map((column) => `${column.label} ${formatCell(column, row.cells[column.id])}`);
  return `${String(row.cells.name)}: ${values.join(', ')}`;
}

function fillSelect(select: FormControl, options: readonly Column[], value: string | undefined): void {
  const key = options.map((c) => c.id).join('\n');
  if (select.dataset.options !== key) {
    select.dataset.options = key;
    select.replaceChildren(...options.map((column) => el('vscode-option', { value: column.id }, column.label)));
  }
  if (value !== undefined && select.value !== value) select.value = value;
}
