/**
 * The "Live" side bar view: one run at a glance (the active or selected run): name, state,
 * progress, backend, the main loss curve, the latest evaluation metrics, and the actions that
 * fit its state. The host sends a 'state' with zero or one run, then streams 'metrics'; for runs
 * of a lab with a panel, a 'miniature' (see miniature.ts). Messages: src/protocol/live.ts.
 */
import type { FromLivePage, ToLivePage } from '../../src/protocol/live';
import type { BackendInfo } from '../../src/shared/backend';
import { runDisplayName, type RunSummary } from '../../src/shared/runs';
import { pageChannel } from '../common/channel';
import { MetricChart, type ChartView } from '../common/charts';
import { el, stateBadge } from '../common/dom';
import { MiniatureView } from './miniature';
import { mainLossMetric, MetricStore } from '../../src/shared/series';
import { progressLine, ProgressSampler, progressSamples } from '../../src/shared/progress';
import { formatValue, onThemeChange, readThemeColors } from '../common/theme';
import './main.css';

const CHART_HEIGHT = 130;
const host = pageChannel<FromLivePage, ToLivePage>();

let run: RunSummary | undefined;
let backend: BackendInfo | undefined;
let received = false;
const store = new MetricStore();
/** Recent (step, training time) samples of the shown run: its speed and time left. */
let sampler = new ProgressSampler();
let view: ChartView = { theme: readThemeColors(), smoothing: 0, logScale: false };
let chart: MetricChart | undefined;

// ------------------------------------------------------------------ layout

const app = document.getElementById('app')!;
const messages = el('div', { id: 'messages', role: 'status', 'aria-live': 'polite' });
const empty = el('p', { class: 'empty-note' }, 'Loading…');
const title = el('h2', { class: 'run-name', 'data-testid': 'live-run-name' });
const badge = el('span', { 'data-testid': 'live-run-state' });
const progressBar = el('vscode-progress-bar', { 'aria-label': 'Training progress', max: '1' });
const progressText = el('div', { class: 'progress-text', 'data-testid': 'live-progress' });
const backendText = el('div', { class: 'meta' });
const chartTitle = el('div', { class: 'chart-title' });
const chartSlot = el('div', { class: 'chart-slot' });
const evalTable = el('table', { class: 'eval-table', 'aria-label': 'Latest evaluation metrics' });
const evalSection = el('section', { 'aria-label': 'Latest evaluation metrics' },
  el('div', { class: 'section-title' }, 'Latest evaluation'), evalTable);
// Slot for the lab miniature: a key picture of the run's lab (e.g. its attention selection),
// hidden for runs of other labs and before the first checkpoint.
const labMiniature = el('section', { id: 'lab-miniature', 'data-slot': 'lab-miniature', hidden: '' });
const openButton = el('vscode-button', { 'data-testid': 'live-open-dashboard', icon: 'graph-line', 'aria-label': 'Open the training dashboard of this run' }, 'Open Dashboard');
const stopButton = el('vscode-button', { icon: 'debug-stop', secondary: '', 'aria-label': 'Stop this run' }, 'Stop');
const resumeButton = el('vscode-button', { icon: 'debug-continue', secondary: '', 'aria-label': 'Resume this run from its last checkpoint' }, 'Resume');
const details = el('div', { class: 'run-details', 'data-testid': 'live-run' },
  el('header', { class: 'run-header' }, title, badge),
  el('div', { class: 'progress' }, progressBar, progressText),
  backendText,
  chartTitle,
  chartSlot,
  evalSection,
  labMiniature,
  el('div', { class: 'actions' }, openButton, stopButton, resumeButton));
details.hidden = true; // until the host's state arrives
app.append(messages, empty, details);

openButton.addEventListener('click', () => host.notify('openDashboard', { runId: run?.id }));
stopButton.addEventListener('click', () => run && host.notify('stopRun', { runId: run.id }));
resumeButton.addEventListener('click', () => run && host.notify('resumeRun', { runId: run.id }));
const openLab = (runId: string) => host.notify('openLab', { runId });
const miniature = new MiniatureView(labMiniature, view.theme, openLab);

onThemeChange(() => {
  view = { ...view, theme: readThemeColors() };
  renderChart();
  miniature.setTheme(view.theme);
});

// ------------------------------------------------------------------ messages

host.onNotification('state', (message) => {
  received = true;
  run = message.runs[0];
  backend = run ? message.backends?.[run.id] : undefined;
  store.clear();
  sampler = new ProgressSampler();
  if (run) store.append(run.id, message.metrics[run.id] ?? []);
  if (run) sampler.add(progressSamples(message.metrics[run.id] ?? []));
  miniature.keepFor(run?.id);
  messages.replaceChildren();
  renderRun();
  renderChart();
  renderEval();
});
host.onNotification('metrics', (message) => {
  if (run && message.runId === run.id) {
    store.append(run.id, message.records);
    sampler.add(progressSamples(message.records));
    scheduleRedraw();
  }
});
host.onNotification('runStatus', (message) => {
  if (run && message.run.id === run.id) {
    run = message.run;
    renderRun();
  }
});
host.onNotification('miniature', (message) => {
  // Only the shown run's; a run change hides the old one until the new run's arrives.
  miniature.show(run && message.runId === run.id ? message.miniature : undefined);
});
host.onNotification('error', (message) => {
  messages.append(el('div', { class: 'message error' }, el('span', { class: 'codicon codicon-error', 'aria-hidden': 'true' }), el('span', {}, message.message)));
});
host.notify('ready', {});

let frame = 0;
function scheduleRedraw(): void {
  if (frame) return;
  frame = requestAnimationFrame(() => {
    frame = 0;
    renderChart();
    renderEval();
  });
}

// ------------------------------------------------------------------ rendering

function renderRun(): void {
  details.hidden = !run;
  empty.hidden = Boolean(run);
  empty.textContent = received ? 'No run yet. Start training from an experiment file (*.lab.json) to follow it here.' : 'Loading…';
  if (!run) return;
  details.dataset.runId = run.id;
  title.textContent = runDisplayName(run);
  title.title = run.id;
  badge.dataset.state = run.state;
  badge.replaceChildren(stateBadge(run.state));
  const fraction = run.totalSteps > 0 ? Math.min(1, run.step / run.totalSteps) : 0;
  (progressBar as unknown as { value: number }).value = fraction;
  progressBar.setAttribute('aria-valuetext', `step ${run.step} of ${run.totalSteps}`);
  const active = run.state === 'running' || run.state === 'queued';
  // `1,200 / 3,000 steps · 410 steps/s · 4.4 s left · 3.0 s elapsed`; a stopped run has no time left.
  const { remainingMs, ...estimate } = sampler.estimate(run);
  progressText.textContent = progressLine(active ? { ...estimate, remainingMs } : estimate);
  backendText.replaceChildren(...backendLine(backend));
  stopButton.hidden = !active;
  resumeButton.hidden = !(run.state === 'cancelled' || run.state === 'interrupted' || run.state === 'failed');
  if (run.error) messages.replaceChildren(el('div', { class: 'message error' }, el('span', { class: 'codicon codicon-error', 'aria-hidden': 'true' }), el('span', {}, run.error)));
}

function backendLine(info: BackendInfo | undefined): (Node | string)[] {
  if (!info) return [];
  const parts: (Node | string)[] = [`Backend: ${info.name} (tfjs ${info.version})`];
  if (info.fallbackReason) {
    parts.push(el('div', { class: 'fallback' }, `Asked for ${info.requested}: ${info.fallbackReason}`));
  }
  return parts;
}

function renderChart(): void {
  if (!run) {
    chart?.destroy();
    chart = undefined;
    return;
  }
  const metric = mainLossMetric(store.metricNames().filter((m) => !m.startsWith('eval/')));
  chartTitle.textContent = metric ?? 'No loss logged yet';
  chartSlot.hidden = !metric;
  if (!metric) return;
  if (chart?.metric !== metric) {
    chart?.destroy();
    chart = new MetricChart(metric, view, CHART_HEIGHT);
    chartSlot.replaceChildren(chart.root);
  }
  const series = store.series(run.id, metric)!;
  chart.update(view, [{ runId: run.id, label: runDisplayName(run), colorIndex: 0, steps: series.steps, values: series.values }], run.id);
  const n = series.values.length;
  chartTitle.textContent = n ? `${metric}: ${formatValue(series.values[n - 1])} at step ${series.steps[n - 1]}` : metric;
}

function renderEval(): void {
  const latest = run ? store.latest(run.id, 'eval/') : [];
  evalSection.hidden = latest.length === 0;
  evalTable.replaceChildren(
    ...latest.map((m) =>
      el('tr', {}, el('th', { scope: 'row' }, m.metric.slice('eval/'.length)), el('td', { title: `step ${m.step}` }, formatValue(m.value)))),
  );
}
