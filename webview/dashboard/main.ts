/**
 * Training dashboard: one chart per metric with the shown runs overlaid, an overlay chart of the
 * metrics the user ticks (training and held-out loss together), step or wall-clock x axes, a
 * smoothing control, the runs with their state, and the hyperparameters that tell them apart. The host owns the
 * data: it replays everything in a 'state' notification after 'ready' and streams 'metrics'
 * while a run trains (src/protocol/dashboard.ts). This page only renders and sends intents (export, save image, stop, resume).
 */
import type { DashboardState, FromDashboardPage, RunContinues, ToDashboardPage } from '../../src/protocol/dashboard';
import { runDisplayName, type RunSummary } from '../../src/shared/runs';
import { pageChannel, loadState, saveState } from '../common/channel';
import { MetricChart, type ChartLine, type ChartView } from '../common/charts';
import { buildParamTable } from '../common/params';
import { MetricStore, offsetSteps, onXAxis, overlayLines, X_AXIS_TITLES, type XAxis } from '../../src/shared/series';
import { progressLine, ProgressSampler, progressSamples } from '../../src/shared/progress';
import { formatValue, onThemeChange, readThemeColors, runStyle } from '../common/theme';
import { el, setRunSwatch, stateBadge } from '../common/dom';
import './main.css';

const MAX_SMOOTHING = 0.99;
const CHART_HEIGHT = 220;
const SVG_NOTE = 'Save as PNG. Charts are drawn on a canvas, so there is no SVG export.';

const host = pageChannel<FromDashboardPage, ToDashboardPage>();
const persisted = loadState<DashboardState>({ runIds: [], smoothing: 0.6, logScale: false, onlyDiffering: false, xAxis: 'step', overlay: [] });
let runs: RunSummary[] = [];
let specs: Record<string, unknown> = {};
/** Runs that continue another run: the link to it, and where their curve starts on the step axis. */
let continues: Record<string, RunContinues> = {};
let received = false;
const store = new MetricStore();
/** Recent (step, training time) samples per shown run: speed and time left in its row. */
const samplers = new Map<string, ProgressSampler>();
const charts = new Map<string, { card: HTMLElement; chart: MetricChart; note: HTMLElement }>();
let view: ChartView = { theme: readThemeColors(), smoothing: persisted.smoothing, logScale: persisted.logScale };
let xAxis: XAxis = persisted.xAxis === 'time' ? 'time' : 'step';
/** The metrics of the overlay chart, in the order they were ticked. */
let overlay: string[] = Array.isArray(persisted.overlay) ? persisted.overlay.filter((m) => typeof m === 'string') : [];
/** The overlay chart, present while two or more metrics are ticked. */
let overlayChart: { card: HTMLElement; chart: MetricChart; title: HTMLElement; legend: HTMLElement } | undefined;

// ------------------------------------------------------------------ layout

const app = document.getElementById('app')!;
const smoothingRange = <HTMLInputElement>el('input', { id: 'smoothing-range', type: 'range', min: '0', max: String(MAX_SMOOTHING), step: '0.01' });
smoothingRange.value = String(persisted.smoothing);
/** vscode-elements controls expose value/checked like native inputs. */
type FormControl = HTMLElement & { value: string; checked: boolean };
const smoothingField = <FormControl>el('vscode-textfield', {
  id: 'smoothing-value', type: 'number', min: '0', max: String(MAX_SMOOTHING), step: '0.01',
  'aria-label': 'Smoothing weight (0 to 0.99)', class: 'smoothing-value',
});
smoothingField.setAttribute('value', String(persisted.smoothing));
const logScaleBox = <FormControl>el('vscode-checkbox', { id: 'log-scale', label: 'Log scale (y)' });
if (persisted.logScale) logScaleBox.setAttribute('checked', '');
const wallClockBox = <FormControl>el('vscode-checkbox', { id: 'wall-clock', label: 'Wall-clock time (x)', title: 'Time since each run started on the x axes, instead of the step' });
if (xAxis === 'time') wallClockBox.setAttribute('checked', '');
const exportButton = el('vscode-button', {
  id: 'export-csv', icon: 'export', secondary: '', 'aria-label': 'Export the metrics of the shown runs as CSV',
  title: 'Export the metrics of the shown runs as CSV',
}, 'Export CSV');

const messages = el('div', { id: 'messages', role: 'status', 'aria-live': 'polite' });
const runList = el('ul', { id: 'runs', class: 'run-list', 'aria-label': 'Shown runs' });
const chartGrid = el('section', { id: 'charts', class: 'chart-grid', 'aria-label': 'Metric charts' });
const emptyNote = el('p', { class: 'empty-note' });
const onlyDifferingBox = <FormControl>el('vscode-checkbox', { id: 'only-differing', label: 'Only differing values' });
if (persisted.onlyDiffering) onlyDifferingBox.setAttribute('checked', '');
const paramTable = el('table', { class: 'param-table', 'aria-label': 'Hyperparameters of the shown runs' });
const params = el('vscode-collapsible', { id: 'params', heading: 'Hyperparameters', open: '' },
  el('div', { class: 'params-body' }, onlyDifferingBox, paramTable));

app.append(
  el('header', { class: 'toolbar' },
    el('h1', {}, 'Training dashboard'),
    el('div', { class: 'toolbar-controls' },
      el('div', { class: 'smoothing', title: 'Exponential moving average of each curve (TensorBoard-style, debiased). The raw curve stays visible, faint.' },
        el('label', { for: 'smoothing-range' }, 'Smoothing'), smoothingRange, smoothingField),
      logScaleBox,
      wallClockBox,
      exportButton)),
  messages,
  runList,
  emptyNote,
  chartGrid,
  params,
);

// ------------------------------------------------------------------ controls

/** The native range input stands in for a slider: @vscode-elements/elements 2.x has none. */
smoothingRange.addEventListener('input', () => applySmoothing(Number(smoothingRange.value)));
smoothingField.addEventListener('change', () => {
  const value = Number(smoothingField.value);
  const valid = Number.isFinite(value) && value >= 0 && value <= MAX_SMOOTHING;
  // An out-of-range entry is flagged, not clamped.
  smoothingField.toggleAttribute('invalid', !valid);
  smoothingField.title = valid ? '' : `Smoothing must be between 0 and ${MAX_SMOOTHING}`;
  if (valid) applySmoothing(value);
});
logScaleBox.addEventListener('change', () => {
  view = { ...view, logScale: logScaleBox.checked };
  persist();
  updateAllCharts();
});
wallClockBox.addEventListener('change', () => {
  xAxis = wallClockBox.checked ? 'time' : 'step';
  persist();
  updateAllCharts();
});
onlyDifferingBox.addEventListener('change', () => {
  persist();
  renderParams();
});
exportButton.addEventListener('click', () => host.notify('exportCsv', {}));

let smoothingFrame = 0;
function applySmoothing(value: number): void {
  smoothingRange.value = String(value);
  smoothingField.value = String(value);
  smoothingField.removeAttribute('invalid');
  view = { ...view, smoothing: value };
  persist();
  cancelAnimationFrame(smoothingFrame);
  smoothingFrame = requestAnimationFrame(updateAllCharts);
}

function persist(): void {
  saveState<DashboardState>({
    runIds: runs.length > 0 || received ? runs.map((r) => r.id) : persisted.runIds,
    smoothing: view.smoothing,
    logScale: view.logScale,
    onlyDiffering: onlyDifferingBox.checked === true,
    xAxis,
    overlay,
  });
}

onThemeChange(() => {
  view = { ...view, theme: readThemeColors() };
  renderRuns();
  updateAllCharts();
});

// ------------------------------------------------------------------ messages

host.onNotification('state', (message) => {
  received = true;
  // Oldest first: each run keeps its colour, and the newest is drawn on top.
  runs = [...message.runs].sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  specs = message.specs;
  continues = message.continues ?? {};
  store.clear();
  samplers.clear();
  for (const run of runs) store.append(run.id, offsetSteps(message.metrics[run.id] ?? [], stepOffsetOf(run.id), timeOffsetOf(run.id)));
  for (const run of runs) samplerOf(run.id).add(progressSamples(message.metrics[run.id] ?? []));
  messages.replaceChildren();
  persist();
  renderRuns();
  syncCharts();
  renderParams();
});
host.onNotification('metrics', (message) => {
  if (runs.some((r) => r.id === message.runId)) {
    for (const metric of store.append(message.runId, offsetSteps(message.records, stepOffsetOf(message.runId), timeOffsetOf(message.runId)))) dirty.add(metric);
    samplerOf(message.runId).add(progressSamples(message.records));
    scheduleChartUpdate();
  }
});
host.onNotification('runStatus', (message) => {
  const index = runs.findIndex((r) => r.id === message.run.id);
  if (index >= 0) {
    runs[index] = message.run;
    renderRuns();
  }
});
host.onNotification('error', (message) => {
  messages.append(el('div', { class: 'message error' }, el('span', { class: 'codicon codicon-error', 'aria-hidden': 'true' }), el('span', {}, message.message)));
});
host.notify('ready', {});

// ------------------------------------------------------------------ runs

function renderRuns(): void {
  runList.replaceChildren(
    ...runs.map((run, index) => {
      const swatch = el('span', { class: 'swatch', 'aria-hidden': 'true' });
      setRunSwatch(swatch, runStyle(view.theme, index));
      const actions = el('span', { class: 'run-actions' });
      if (run.state === 'running' || run.state === 'queued') {
        actions.append(runButton('debug-stop', `Stop run ${runDisplayName(run)}`, 'Stop', () => host.notify('stopRun', { runId: run.id })));
      } else if (run.state === 'cancelled' || run.state === 'interrupted' || run.state === 'failed') {
        actions.append(runButton('debug-continue', `Resume run ${runDisplayName(run)} from its last checkpoint`, 'Resume', () => host.notify('resumeRun', { runId: run.id })));
      }
      return el('li', { class: 'run', 'data-testid': `run-${run.id}` },
        swatch,
        el('span', { class: 'run-name', title: run.id }, runDisplayName(run)),
        stateBadge(run.state),
        el('span', { class: 'run-step', 'data-testid': `run-progress-${run.id}` }, runProgress(run)),
        continuesLink(run),
        run.error ? el('span', { class: 'run-error', title: run.error }, run.error) : '',
        actions);
    }),
  );
  emptyNote.textContent = !received
    ? 'Loading…'
    : runs.length === 0
      ? 'No runs to show. Open a run from the Model Lab runs view.'
      : store.metricNames().length === 0
        ? 'No metrics logged yet: curves appear as soon as training logs its first step.'
        : '';
  emptyNote.hidden = emptyNote.textContent === '';
}

/** A continued run's steps are drawn after its parent's: its own step s at offset + s. */
const stepOffsetOf = (runId: string): number => continues[runId]?.stepOffset ?? 0;
/** ...and on the wall-clock axis from the time its parent had trained by the step it continues. */
const timeOffsetOf = (runId: string): number => continues[runId]?.timeOffsetMs ?? 0;

/** `continues <run> at step N`, the run a link that opens it. */
function continuesLink(run: RunSummary): HTMLElement | '' {
  const parent = continues[run.id];
  if (!parent) return '';
  const link = el('a', { href: '#', 'data-testid': `run-continues-${run.id}`, title: `Open run ${parent.name}` }, parent.name);
  link.addEventListener('click', (event) => {
    event.preventDefault();
    host.notify('openParent', { runId: parent.runId });
  });
  return el('span', { class: 'run-continues' }, 'continues ', link, ` at step ${parent.step}`);
}

function samplerOf(runId: string): ProgressSampler {
  let sampler = samplers.get(runId);
  if (!sampler) samplers.set(runId, (sampler = new ProgressSampler()));
  return sampler;
}

/** `1,200 / 3,000 steps · 410 steps/s · 4.4 s left · 3.0 s elapsed`; a run not training has no time left. */
function runProgress(run: RunSummary): string {
  const { remainingMs, ...estimate } = samplerOf(run.id).estimate(run);
  const active = run.state === 'running' || run.state === 'queued';
  return progressLine(active ? { ...estimate, remainingMs } : estimate);
}

function runButton(icon: string, label: string, text: string, onClick: () => void): HTMLElement {
  const button = el('vscode-button', { icon, secondary: '', 'aria-label': label, title: label }, text);
  button.addEventListener('click', onClick);
  return button;
}

// ------------------------------------------------------------------ charts

const dirty = new Set<string>();
let chartFrame = 0;

/** Live records arrive in bursts: redraw at most once per frame. */
function scheduleChartUpdate(): void {
  if (chartFrame) return;
  chartFrame = requestAnimationFrame(() => {
    chartFrame = 0;
    const known = [...dirty].every((m) => charts.has(m));
    if (!known) syncCharts();
    else for (const metric of dirty) updateChart(metric);
    if ([...dirty].some((m) => overlay.includes(m))) updateOverlay();
    dirty.clear();
    if (emptyNote.textContent && store.metricNames().length > 0) renderRuns();
  });
}

/** Creates, orders and removes chart cards to match the metric names, then redraws all. */
function syncCharts(): void {
  const names = store.metricNames();
  for (const [metric, entry] of charts) {
    if (!names.includes(metric)) {
      entry.chart.destroy();
      entry.card.remove();
      charts.delete(metric);
    }
  }
  for (const metric of names) {
    let entry = charts.get(metric);
    if (!entry) entry = createChartCard(metric);
    chartGrid.append(entry.card); // append moves: keeps display order
  }
  syncOverlay();
  updateAllCharts();
  renderRuns();
}

function createChartCard(metric: string): { card: HTMLElement; chart: MetricChart; note: HTMLElement } {
  const chart = new MetricChart(metric, view, CHART_HEIGHT);
  const save = el('vscode-button', {
    icon: 'file-media', 'icon-only': '', secondary: '', 'aria-label': `Save the ${metric} chart as PNG`, title: SVG_NOTE,
  });
  save.addEventListener('click', () => {
    const data = chart.toPng(metric);
    if (data) host.notify('saveImage', { format: 'png', data, name: metric });
  });
  const note = el('span', { class: 'chart-note' });
  const overlayBox = <FormControl>el('vscode-checkbox', {
    label: 'Overlay', 'data-testid': `overlay-toggle-${metric}`, title: `Draw ${metric} in the overlay chart, with the other ticked metrics`,
  });
  if (overlay.includes(metric)) overlayBox.setAttribute('checked', '');
  overlayBox.addEventListener('change', () => {
    overlay = overlayBox.checked ? [...overlay.filter((m) => m !== metric), metric] : overlay.filter((m) => m !== metric);
    persist();
    syncOverlay();
  });
  const card = el('article', { class: 'chart-card', 'aria-label': metric },
    el('header', {}, el('h2', {}, metric), note, overlayBox, save),
    chart.root);
  const entry = { card, chart, note };
  charts.set(metric, entry);
  return entry;
}

function updateAllCharts(): void {
  for (const metric of charts.keys()) updateChart(metric);
  updateOverlay();
}

/** Shows the overlay chart first in the grid while two or more metrics are ticked; removes it otherwise. */
function syncOverlay(): void {
  if (shownOverlay().length < 2) {
    overlayChart?.chart.destroy();
    overlayChart?.card.remove();
    overlayChart = undefined;
    return;
  }
  if (!overlayChart) {
    const chart = new MetricChart('overlay', view, CHART_HEIGHT);
    const title = el('h2', {});
    const save = el('vscode-button', {
      icon: 'file-media', 'icon-only': '', secondary: '', 'aria-label': 'Save the overlay chart as PNG', title: SVG_NOTE,
    });
    save.addEventListener('click', () => {
      const data = chart.toPng(shownOverlay().join(' · '));
      if (data) host.notify('saveImage', { format: 'png', data, name: 'overlay' });
    });
    const legend = el('ul', { class: 'overlay-legend', 'data-testid': 'overlay-legend', 'aria-label': 'Curves of the overlay chart' });
    const card = el('article', { class: 'chart-card overlay-card', 'aria-label': 'Overlay of the ticked metrics', 'data-testid': 'overlay-card' },
      el('header', {}, title, save),
      legend,
      chart.root);
    overlayChart = { card, chart, title, legend };
  }
  chartGrid.prepend(overlayChart.card);
  updateOverlay();
}

/** The ticked metrics these runs have (a restored state may name metrics they lack). */
function shownOverlay(): string[] {
  return overlay.filter((metric) => charts.has(metric));
}

function updateOverlay(): void {
  if (!overlayChart) return;
  const { chart, title, legend } = overlayChart;
  const metrics = shownOverlay();
  title.textContent = metrics.join(' · ');
  chart.setAxisTitles({ x: X_AXIS_TITLES[xAxis], y: metrics.join(', ') });
  const shown = runs.map((run) => ({ id: run.id, displayName: runDisplayName(run) }));
  const lines: ChartLine[] = overlayLines(shown, metrics, (runId, metric) => store.series(runId, metric), xAxis);
  chart.update(view, lines, runs[runs.length - 1]?.id);
  // Colours here stand for metrics (and runs), not runs alone as elsewhere: say which is which.
  legend.replaceChildren(
    ...lines.map((line) => {
      const swatch = el('span', { class: 'swatch', 'aria-hidden': 'true' });
      setRunSwatch(swatch, runStyle(view.theme, line.colorIndex));
      return el('li', {}, swatch, line.label);
    }),
  );
}

function updateChart(metric: string): void {
  const entry = charts.get(metric);
  if (!entry) return;
  const lines: ChartLine[] = [];
  runs.forEach((run, colorIndex) => {
    const series = store.series(run.id, metric);
    if (series) lines.push({ runId: run.id, label: runDisplayName(run), colorIndex, ...onXAxis(series, xAxis) });
  });
  entry.chart.setAxisTitles({ x: X_AXIS_TITLES[xAxis], y: metric });
  entry.chart.update(view, lines, runs[runs.length - 1]?.id);
  entry.note.textContent = entry.chart.logUnavailable ? 'linear: values ≤ 0' : latestSummary(lines);
}

function latestSummary(lines: ChartLine[]): string {
  if (lines.length !== 1) return '';
  const { steps, values } = lines[0];
  return steps.length ? `${formatValue(values[values.length - 1])} @ ${steps[steps.length - 1]}` : '';
}

// ------------------------------------------------------------------ hyperparameters

function renderParams(): void {
  params.hidden = runs.length === 0;
  const table = buildParamTable(runs.map((r) => specs[r.id] ?? {}));
  const onlyDiffering = onlyDifferingBox.checked && runs.length > 1;
  onlyDifferingBox.hidden = runs.length < 2;
  const head = el('tr', {}, el('th', { scope: 'col' }, 'Parameter'),
    ...runs.map((run, index) => {
      const swatch = el('span', { class: 'swatch', 'aria-hidden': 'true' });
      setRunSwatch(swatch, runStyle(view.theme, index));
      return el('th', { scope: 'col' }, swatch, runDisplayName(run));
    }));
  const rows = table.keys
    .filter((key) => !onlyDiffering || table.differing.has(key))
    .map((key) => {
      const differs = runs.length > 1 && table.differing.has(key);
      return el('tr', differs ? { class: 'differs' } : {},
        el('th', { scope: 'row' }, differs ? el('span', { class: 'differs-mark', title: 'Differs between runs' }, '≠ ') : '', key),
        ...table.columns.map((column) => el('td', {}, column[key] ?? '—')));
    });
  const missing = runs.filter((r) => specs[r.id] === undefined).map((r) => runDisplayName(r));
  paramTable.replaceChildren(
    el('thead', {}, head),
    el('tbody', {}, ...rows),
    ...(missing.length ? [el('caption', {}, `Spec not readable for: ${missing.join(', ')}`)] : []),
  );
}
