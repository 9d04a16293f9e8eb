/**
 * Posterior panel: the data set on the left (edit it: click, drag, right-click, arrow keys,
 * Delete), the posterior of theta on the right: the trained network's samples beside the exact
 * posterior where one exists. Every edit asks the worker for one forward pass (coalesced to one
 * request per animation frame, at most one in flight) and the plots follow as you drag.
 */
import type {
  FromPosteriorPage,
  PanelReference,
  PanelView,
  PosteriorExample,
  PosteriorPanelResult,
  PosteriorTaskInfo,
  PosteriorViewState,
  ToPosteriorPage,
} from '../../src/protocol/posterior';
import { pageChannel, saveState, savedState } from '../common/channel';
import { el, learnedLine } from '../common/dom';
import { formatValue, onThemeChange, readThemeColors } from '../common/theme';
import type { Range } from './canvas';
import { panelColors } from './colors';
import { CalibrationCard } from './calibration';
import { DataPlot } from './dataPlot';
import { MAX_PAIR_DIMS, drawPairPlot, pairRanges } from './pairPlot';
import './main.css';

// ------------------------------------------------------------------ host channel

const host = pageChannel<FromPosteriorPage, ToPosteriorPage>();
const saved = savedState<PosteriorViewState>();

// ------------------------------------------------------------------ state

const SAMPLE_CHOICES = [100, 300, 1000, 3000];
let runId = saved?.runId ?? '';
let exampleIndex = saved?.exampleIndex ?? 0;
let samples = SAMPLE_CHOICES.includes(saved?.samples ?? 0) ? saved!.samples! : 300;
/** Edited data restored from a previous load of this page (used once). */
let restoredData = saved?.data;
let edited = restoredData !== undefined;
let task: PosteriorTaskInfo | undefined;
let example: PosteriorExample | undefined;
let step = -1;
let steps: number[] = [];
let result: PosteriorPanelResult | undefined;
let pairRangesShown: Range[] | undefined;
let theme = readThemeColors();
let colors = panelColors(theme);

// Request pipeline: edits mark the data dirty; one request per frame, one in flight.
let dirty = false;
let frameQueued = false;
/** The posterior request in flight (its answer is shown only while it is this one). */
let inFlight: { sentAt: number; editAt: number } | undefined;
let firstEditAt: number | undefined;
/** The HMC reference of the data set as it was when asked for; cleared by the next edit. */
let reference: PanelReference | undefined;
/** The reference request in flight, while its answer is still wanted (an edit drops it). */
let referencePending: object | undefined;
let resultsShown = 0;

// ------------------------------------------------------------------ layout

const app = document.getElementById('app')!;
const title = el('h1', {}, 'Posterior');
const subtitle = el('span', { class: 'subtitle', 'data-testid': 'task-description' });
const learned = el('div', { class: 'learned' });
const stepRange = <HTMLInputElement>el('input', { type: 'range', id: 'step-range', min: '0', max: '0', step: '1', 'aria-label': 'Checkpoint step', 'data-testid': 'step-scrubber' });
const stepLabel = el('span', { class: 'step-label', 'data-testid': 'step' }, 'step –');
const sampleSelect = <HTMLSelectElement>el('select', { id: 'samples', 'aria-label': 'Number of posterior samples', 'data-testid': 'samples-select' },
  ...SAMPLE_CHOICES.map((n) => el('option', { value: String(n) }, String(n))));
sampleSelect.value = String(samples);
const newDataButton = el('vscode-button', { secondary: '', icon: 'refresh', title: 'Simulate another data set from the task', 'data-testid': 'new-data' }, 'New data set');
const resetButton = el('vscode-button', { secondary: '', icon: 'discard', title: 'Undo every edit: back to the simulated data set', 'data-testid': 'reset-data' }, 'Reset edits');
const classPicker = el('span', { class: 'class-picker', hidden: '' });
const messages = el('div', { class: 'messages', role: 'status', 'aria-live': 'polite', 'data-testid': 'messages' });

const dataCanvas = <HTMLCanvasElement>el('canvas', { 'data-testid': 'data-plot', 'aria-label': 'Data set: click to add a point, drag to move, right-click or Delete to remove, arrow keys to nudge the selected point' });
const latency = el('div', { class: 'latency', 'data-testid': 'latency', title: 'Edit to redraw: network = one forward pass + sampling in the worker; worker = host to worker and back; update = from your edit to the redrawn plots' }, '');
const dataLegend = el('div', { class: 'legend', 'data-testid': 'data-legend' });
const dataHelp = el('p', { class: 'help' }, 'Click to add a point · drag to move · right-click or select + Delete to remove · arrow keys nudge the selected point (Shift: more)');
const pairCanvas = <HTMLCanvasElement>el('canvas', { 'data-testid': 'posterior-plot', 'aria-label': 'Posterior of theta: marginals and pairwise scatter' });
const pairLegend = el('div', { class: 'legend', 'data-testid': 'posterior-legend' });
const pairNote = el('p', { class: 'help' });
const referenceButton = el('vscode-button', { secondary: '', icon: 'beaker', hidden: '', title: 'Run HMC chains on this data set (in the worker, a few seconds) and compare them with the network\'s samples', 'data-testid': 'reference-run' }, 'Compare with HMC');
const referenceNote = el('p', { class: 'help', 'data-testid': 'reference-summary' });
const summary = el('table', { class: 'summary', 'data-testid': 'posterior-summary', 'aria-label': 'Posterior means and standard deviations' });
const counts = el('div', { class: 'counts' },
  el('span', {}, 'points ', el('strong', { 'data-testid': 'point-count' }, '0')),
  el('span', {}, 'samples ', el('strong', { 'data-testid': 'sample-count' }, '0')),
  el('span', {}, 'step ', el('strong', { 'data-testid': 'result-step' }, '–')));

const dataPlot = new DataPlot(dataCanvas, () => onEdit(), () => renderDataPlot());
const calibration = new CalibrationCard(() => host.request('calibration', {}), (error) => {
  if (error === undefined) calibration.draw(theme, colors);
  else showMessage(error, 'error');
});

app.append(
  el('header', { class: 'toolbar' },
    el('div', { class: 'titles' }, title, subtitle),
    el('div', { class: 'controls' },
      el('label', { for: 'step-range' }, 'Checkpoint'), stepRange, stepLabel,
      el('label', { for: 'samples' }, 'Samples'), sampleSelect,
      newDataButton, resetButton)),
  learned,
  el('div', { class: 'plots' },
    el('section', { class: 'card', 'aria-label': 'Data' },
      el('div', { class: 'card-head' }, el('h2', {}, 'Data'), classPicker, latency),
      dataLegend,
      el('div', { class: 'canvas-box' }, dataCanvas),
      dataHelp),
    el('section', { class: 'card', 'aria-label': 'Posterior' },
      el('div', { class: 'card-head' }, el('h2', {}, 'Posterior of θ'), referenceButton),
      pairLegend,
      el('div', { class: 'canvas-box' }, pairCanvas),
      pairNote,
      referenceNote)),
  // Below the plots: warnings come and go with each edit, and above they would move the canvas under a drag.
  messages,
  el('section', { class: 'card summary-card' }, el('div', { class: 'card-head' }, el('h2', {}, 'Summary'), counts), summary),
  calibration.element,
);

// ------------------------------------------------------------------ messages

host.onNotification('session', (session) => onSession(session));
host.onNotification('example', ({ example }) => onExample(example));
host.onNotification('error', ({ message }) => showMessage(message, 'error'));

function onSession(message: ToPosteriorPage['notifications']['session']['params']): void {
  const changedRun = runId !== message.runId;
  runId = message.runId;
  subtitle.textContent = message.runName;
  learned.replaceChildren(learnedLine(message.learned));
  steps = message.steps;
  stepRange.max = String(Math.max(0, steps.length - 1));
  stepRange.value = String(Math.max(0, steps.indexOf(message.step)));
  stepRange.disabled = steps.length < 2;
  const stepChanged = step !== message.step;
  step = message.step;
  stepLabel.textContent = `step ${step}${steps.length ? ` (${steps.indexOf(step) + 1} of ${steps.length})` : ''}`;
  if (changedRun) restoredData = undefined;
  if (!example || changedRun) host.notify('example', { index: exampleIndex });
  else if (stepChanged) {
    dropReference(); // it was compared with the other network's samples
    calibration.drop();
    pairRangesShown = undefined; // another network: fit the axes again
    markDirty();
  }
  persist();
}

function onExample(next: PosteriorExample): void {
  example = next;
  dropReference();
  task = next.task;
  exampleIndex = next.index;
  dataPlot.task = task;
  dataPlot.trueTheta = next.theta;
  dataPlot.setData(restoredData ?? next.data);
  edited = restoredData !== undefined;
  restoredData = undefined;
  dataPlot.view = viewFor(next);
  pairRangesShown = undefined;
  result = undefined;
  describeTask(task);
  renderLegends();
  renderReferenceState();
  renderDataPlot();
  markDirty();
  persist();
}

function onPosterior(sent: { sentAt: number; editAt: number }, next: PosteriorPanelResult, workerMs: number): void {
  if (inFlight !== sent) return;
  inFlight = undefined;
  result = next;
  dataPlot.result = next;
  resultsShown++;
  clearMessages();
  for (const warning of next.warnings) showMessage(warning, 'warning');
  renderDataPlot();
  renderPosterior();
  renderSummary();
  const now = performance.now();
  const updateMs = now - sent.editAt;
  latency.textContent = `update ${updateMs.toFixed(0)} ms · network ${next.timing.networkMs.toFixed(1)} ms · worker ${workerMs.toFixed(0)} ms`;
  latency.dataset.networkMs = next.timing.networkMs.toFixed(2);
  latency.dataset.sessionMs = next.timing.totalMs.toFixed(2);
  latency.dataset.workerMs = workerMs.toFixed(2);
  latency.dataset.roundtripMs = (now - sent.sentAt).toFixed(2);
  latency.dataset.updateMs = updateMs.toFixed(2);
  if (dirty) scheduleRequest();
}

function onReference(asked: object, next: PanelReference, workerMs: number): void {
  if (asked !== referencePending) return; // the data changed since it was asked for
  referencePending = undefined;
  reference = next;
  renderReferenceState();
  renderPosterior();
  renderSummary();
  referenceNote.dataset.workerMs = workerMs.toFixed(0);
}

/** Drops the reference: it belongs to the data set before the edit. */
function dropReference(): void {
  if (!reference && referencePending === undefined) return;
  reference = undefined;
  referencePending = undefined;
  renderReferenceState();
}

function renderReferenceState(): void {
  referenceButton.hidden = !task || task.hasExact;
  referenceButton.toggleAttribute('disabled', referencePending !== undefined);
  if (referencePending !== undefined) {
    referenceNote.textContent = 'Running HMC on this data set in the worker…';
  } else if (reference) {
    const { settings: s, distance, acceptance, ms } = reference;
    const w2 = `${distance.distance.toFixed(3)}${distance.method === 'gaussian' ? ' (from means and covariances: blind to multimodality)' : ''}`;
    referenceNote.textContent = `HMC reference (orange): ${s.chains} chains × ${s.samples} samples after ${s.warmup} warm-up, ${s.leapfrogSteps} leapfrog steps of ${s.stepSize.toPrecision(2)}, ` +
      `started at the MAP; acceptance ${(acceptance * 100).toFixed(0)}%; ${(ms / 1000).toFixed(1)} s, against one forward pass for the network. W2(network, HMC) = ${w2}.`;
  } else {
    referenceNote.textContent = task && !task.hasExact ? 'No closed-form posterior for this model: compare the network with HMC on this data set.' : '';
  }
  referenceNote.dataset.state = referencePending !== undefined ? 'running' : reference ? 'done' : 'none';
}

referenceButton.addEventListener('click', () => {
  if (!task || referencePending !== undefined) return;
  const asked = {};
  referencePending = asked;
  reference = undefined;
  renderReferenceState();
  host.request('reference', { data: dataPlot.data(), samples }).then(
    (answer) => onReference(asked, answer.reference, answer.workerMs),
    (error: Error) => {
      if (asked === referencePending) {
        referencePending = undefined;
        renderReferenceState();
      }
      showMessage(error.message, 'error');
    },
  );
});

// ------------------------------------------------------------------ requests

function onEdit(): void {
  edited = true;
  dropReference();
  renderDataPlot(); // the points move at once; the posterior follows when the answer comes
  markDirty();
  persist();
}

function markDirty(): void {
  dirty = true;
  firstEditAt ??= performance.now();
  scheduleRequest();
}

function scheduleRequest(): void {
  if (frameQueued) return;
  frameQueued = true;
  requestAnimationFrame(() => {
    frameQueued = false;
    sendRequest();
  });
}

function sendRequest(): void {
  if (!dirty || inFlight || !task) return;
  dirty = false;
  const now = performance.now();
  const sent = { sentAt: now, editAt: firstEditAt ?? now };
  inFlight = sent;
  firstEditAt = undefined;
  host.request('posterior', { data: dataPlot.data(), samples, view: dataPlot.view }).then(
    (answer) => onPosterior(sent, answer.result, answer.workerMs),
    (error: Error) => {
      if (inFlight === sent) {
        inFlight = undefined;
        if (dirty) scheduleRequest();
      }
      showMessage(error.message, 'error');
    },
  );
}

// ------------------------------------------------------------------ controls

stepRange.addEventListener('change', () => {
  const chosen = steps[Number(stepRange.value)];
  if (chosen !== undefined && chosen !== step) host.notify('loadStep', { step: chosen });
});
stepRange.addEventListener('focus', () => host.notify('refreshSteps', {}));
sampleSelect.addEventListener('change', () => {
  samples = Number(sampleSelect.value);
  persist();
  markDirty();
});
newDataButton.addEventListener('click', () => {
  restoredData = undefined;
  host.notify('example', { index: exampleIndex + 1 });
});
resetButton.addEventListener('click', () => {
  if (!example) return;
  dataPlot.setData(example.data);
  edited = false;
  onEdit();
  edited = false;
  persist();
});

function persist(): void {
  const state: PosteriorViewState = { runId, exampleIndex, samples, ...(edited ? { data: dataPlot.data() } : {}) };
  saveState(state);
}

// ------------------------------------------------------------------ rendering

function viewFor(next: PosteriorExample): PanelView {
  const span = (values: number[]): Range => {
    const lo = Math.min(-3, ...values);
    const hi = Math.max(3, ...values);
    const pad = 0.1 * (hi - lo);
    return [lo - pad, hi + pad];
  };
  const xs = next.data.x;
  const first = span(xs.map((r) => r[0]));
  if (next.task.target === 'real') return { x: first, y: span(next.data.y ?? []) };
  if (next.task.xDim >= 2) {
    // Same scale on both axes for points in a plane (distances look like distances).
    const second = span(xs.map((r) => r[1]));
    const both: Range = [Math.min(first[0], second[0]), Math.max(first[1], second[1])];
    return { x: both, y: both };
  }
  return { x: first, y: [-1, 1] };
}

function describeTask(info: PosteriorTaskInfo): void {
  title.textContent = `Posterior · ${info.task}`;
  subtitle.textContent = `${subtitle.textContent?.split(' · ')[0] ?? ''} · ${info.encoder} encoder, ${info.family} family, ${info.objective}; trained on ${info.trainedSizes[0]}–${info.trainedSizes[1]} points`;
  classPicker.replaceChildren();
  classPicker.hidden = info.target !== 'class';
  if (info.target === 'class') {
    classPicker.append(el('span', {}, 'New points:'));
    for (let c = 0; c < info.classes; c++) {
      const button = el('button', { class: 'class-button', 'data-class': String(c), title: `New points get class ${c} (key ${c}; on a selected point: change its class)` }, `class ${c}`);
      button.addEventListener('click', () => {
        dataPlot.newClass = c;
        renderDataPlot();
      });
      classPicker.append(button);
    }
  }
}

function swatch(color: string, kind: 'fill' | 'line' | 'dash' | 'cross' | 'dot'): HTMLElement {
  const s = el('span', { class: `legend-swatch ${kind}`, 'aria-hidden': 'true' });
  s.style.setProperty('--swatch', color);
  return s;
}

function legendItem(color: string, kind: Parameters<typeof swatch>[1], text: string): HTMLElement {
  return el('span', { class: 'legend-item' }, swatch(color, kind), text);
}

function renderLegends(): void {
  if (!task) return;
  const network = `network q(θ | D), ${samples} samples`;
  const items: HTMLElement[] = [];
  if (task.plot === 'regression') {
    items.push(legendItem(colors.point, 'dot', 'data'), legendItem(colors.network, 'fill', 'network: mean and 90% band of f(x; θ)'));
    if (task.hasExact) items.push(legendItem(colors.exact, 'dash', 'exact posterior: mean and 90% band'));
  } else if (task.plot === 'classification') {
    for (let c = 0; c < task.classes; c++) items.push(legendItem(colors.classes[c % colors.classes.length], 'dot', `class ${c}`));
    items.push(el('span', { class: 'legend-item' }, 'background: network predictive p(class | x), averaged over samples'));
  } else {
    items.push(legendItem(colors.point, 'dot', 'data'));
    if (task.model === 'gaussian-mean' || task.model === 'gaussian-mixture') {
      items.push(legendItem(colors.network, 'dot', network));
      if (task.hasExact) items.push(legendItem(colors.exact, 'line', 'exact posterior (1σ, 2σ dashed)'));
      items.push(legendItem(colors.truth, 'cross', 'θ that simulated the data'));
    }
  }
  dataLegend.replaceChildren(...items);
  const posteriorItems = [legendItem(colors.network, 'fill', network)];
  if (task.hasExact) posteriorItems.push(legendItem(colors.exact, 'line', 'exact posterior: density, 1σ and 2σ (dashed) contours'));
  else posteriorItems.push(legendItem(colors.exact, 'dot', 'HMC reference samples (after "Compare with HMC")'));
  posteriorItems.push(legendItem(colors.truth, 'cross', 'θ that simulated the data'));
  pairLegend.replaceChildren(...posteriorItems);
  const shown = Math.min(MAX_PAIR_DIMS, task.thetaDim);
  const lines = `Vertical lines on the diagonal: network mean (solid)${task.hasExact ? ', exact mean (dashed)' : ''}, θ that simulated the data (dotted).`;
  const scope = task.thetaDim > shown
    ? ` Showing ${task.thetaNames.slice(0, shown).join(', ')}: the first ${shown} of ${task.thetaDim} parameters.`
    : '';
  pairNote.textContent = lines + scope;
}

function renderDataPlot(): void {
  dataPlot.draw(theme, colors);
  for (const button of classPicker.querySelectorAll<HTMLElement>('.class-button')) {
    button.classList.toggle('active', Number(button.dataset.class) === dataPlot.newClass);
  }
  document.querySelector('[data-testid="point-count"]')!.textContent = String(dataPlot.points.length);
}

function renderPosterior(): void {
  if (!result || !task) return;
  const input = { result, names: task.thetaNames, trueTheta: example?.theta, reference: reference?.samples };
  const fitted = pairRanges(input);
  // Axes only grow while editing (a jumping scale hides the motion), and refit on new data or step.
  pairRangesShown = pairRangesShown
    ? pairRangesShown.map(([lo, hi], i) => [Math.min(lo, fitted[i][0]), Math.max(hi, fitted[i][1])] as Range)
    : fitted;
  drawPairPlot(pairCanvas, { ...input, ranges: pairRangesShown }, theme, colors);
}

function renderSummary(): void {
  if (!result || !task) return;
  const r = result;
  document.querySelector('[data-testid="sample-count"]')!.textContent = String(r.samples.count);
  document.querySelector('[data-testid="result-step"]')!.textContent = String(r.step);
  summary.dataset.networkMean = JSON.stringify(r.network.mean);
  summary.dataset.exactMean = r.exact ? JSON.stringify(r.exact.mean) : '';
  summary.dataset.results = String(resultsShown);
  summary.dataset.points = String(r.points);
  const head = el('tr', {}, el('th', { scope: 'col' }, 'θ'),
    el('th', { scope: 'col', class: 'network' }, 'network mean ± sd'),
    ...(r.exact ? [el('th', { scope: 'col', class: 'exact' }, 'exact mean ± sd')] : []),
    ...(reference ? [el('th', { scope: 'col', class: 'exact' }, 'HMC mean ± sd')] : []),
    el('th', { scope: 'col' }, 'simulated from'));
  const rows = task.thetaNames.slice(0, 12).map((name, i) => el('tr', {},
    el('th', { scope: 'row' }, name),
    el('td', { 'data-testid': `network-mean-${i}` }, `${fmt(r.network.mean[i])} ± ${fmt(r.network.std[i])}`),
    ...(r.exact ? [el('td', { 'data-testid': `exact-mean-${i}` }, `${fmt(r.exact.mean[i])} ± ${fmt(r.exact.std[i])}`)] : []),
    ...(reference ? [el('td', { 'data-testid': `reference-mean-${i}` }, `${fmt(reference.mean[i])} ± ${fmt(reference.std[i])}`)] : []),
    el('td', {}, example ? fmt(example.theta[i]) : '–')));
  const foot: HTMLElement[] = [];
  if (r.exact?.symmetricKlPerDim !== undefined) {
    foot.push(el('tr', {}, el('th', { scope: 'row', title: 'Symmetric KL between the network\'s Gaussian and the exact posterior, divided by dim θ (0 = identical)' }, 'sym. KL / dim'),
      el('td', { colspan: '3', 'data-testid': 'symmetric-kl' }, formatValue(r.exact.symmetricKlPerDim))));
  }
  if (reference) {
    foot.push(el('tr', {}, el('th', { scope: 'row', title: '2-Wasserstein distance between the network\'s samples and the HMC samples (0 = identical)' }, 'W2 to HMC'),
      el('td', { colspan: '3', 'data-testid': 'reference-w2' }, formatValue(reference.distance.distance))));
  }
  if (r.predictiveCheck) {
    const { pValue, replicates } = r.predictiveCheck;
    foot.push(el('tr', {}, el('th', { scope: 'row', title: `Posterior predictive check against the training simulator: the fraction of ${replicates} data sets simulated from the network's posterior that are as unlikely as this one (small: the data look unlike the simulator)` }, 'predictive check p'),
      el('td', { colspan: '3', 'data-testid': 'predictive-p' }, pValue < 0.01 ? `${pValue.toPrecision(2)} (unlike the simulator)` : pValue.toPrecision(2))));
  }
  if (task.thetaDim > 12) foot.push(el('tr', {}, el('td', { colspan: '4', class: 'muted' }, `… ${task.thetaDim - 12} more parameters`)));
  summary.replaceChildren(el('thead', {}, head), el('tbody', {}, ...rows, ...foot));
}

const fmt = (v: number) => (Number.isFinite(v) ? v.toFixed(3) : String(v));

function showMessage(text: string, kind: 'error' | 'warning'): void {
  messages.append(el('div', { class: `message ${kind}` },
    el('span', { class: `codicon codicon-${kind}`, 'aria-hidden': 'true' }), el('span', {}, text)));
}

function clearMessages(): void {
  messages.replaceChildren();
}

function renderAll(): void {
  renderLegends();
  renderDataPlot();
  renderPosterior();
  calibration.draw(theme, colors);
}

onThemeChange(() => {
  theme = readThemeColors();
  colors = panelColors(theme);
  renderAll();
});
let resizeFrame = 0;
new ResizeObserver(() => {
  cancelAnimationFrame(resizeFrame);
  resizeFrame = requestAnimationFrame(renderAll);
}).observe(app);

host.notify('ready', {});
