/**
 * Sampler panel: what a diffusion sampler draws at one checkpoint of its run, over the target's
 * energy landscape. The samples over the contours of log R (two coordinates, chosen for targets
 * of more dimensions), the trajectories from the start point x_0 to the samples (animated), the
 * replay buffer beside the policy's samples when local search is on, samples per mode as bars
 * for mixtures, this checkpoint's log Z estimates, and log Z and modes covered over training from
 * the run's metrics. The checkpoint slider loads another step in the worker's session. The target
 * editor (targetEditor.ts) moves a mixture's modes or rewrites an expression, and fine-tunes the
 * sampler under the edited target from the shown checkpoint (a new run, its panel beside this one).
 */
import type {
  FromSamplerPage,
  SamplerLandscape,
  SamplerRunInfo,
  SamplerSamples,
  SamplerTargetInfo,
  SamplerViewState,
  StepSeries,
  TargetEdit,
  ToSamplerPage,
} from '../../src/protocol/sampler';
import { appendPoint } from '../../src/shared/series';
import { MetricChart, type ChartLine } from '../common/charts';
import { pageChannel, saveState, savedState } from '../common/channel';
import { CheckpointSlider } from '../common/checkpointSlider';
import { el, learnedLine } from '../common/dom';
import { formatValue, onThemeChange, readThemeColors, runStyle } from '../common/theme';
import { drawLandscape, landscapeColors } from './landscapePlot';
import { drawModeBars } from './modeBars';
import { TargetEditor } from './targetEditor';
import { trainingNote } from './trainingNote';
import './main.css';

const host = pageChannel<FromSamplerPage, ToSamplerPage>();
const saved = savedState<SamplerViewState>();

// ------------------------------------------------------------------ state

const SAMPLE_CHOICES = [300, 1000, 3000];
const TRAJECTORIES = 48;
const LANDSCAPE_GRID = 96;
/** The animation runs x_0 -> x_T in about this long, whatever T is. */
const ANIMATION_MS = 2400;

let runId = saved?.runId ?? '';
let samples = SAMPLE_CHOICES.includes(saved?.samples ?? 0) ? saved!.samples! : 1000;
let dims: [number, number] = Array.isArray(saved?.pair) && saved.pair.length === 2 ? [Number(saved.pair[0]), Number(saved.pair[1])] : [0, 1];
let run: SamplerRunInfo | undefined;
let step = -1;
let steps: number[] = [];
let target: SamplerTargetInfo | undefined;
let landscape: SamplerLandscape | undefined;
let result: SamplerSamples | undefined;
const metrics: Record<string, StepSeries> = {};
let time = 0;
let playing = false;
let showBuffer = true;
let theme = readThemeColors();
let colors = landscapeColors(theme);
/** The latest request of each kind: an older answer arriving late is dropped. */
let samplesAsked: object | undefined;
let landscapeAsked: object | undefined;
let samplesShown = 0;
let landscapesShown = 0;
/** The shown samples were counted per mode at the edited modes. */
let countedEdited = false;
/** A landscape request is in flight; `landscapeWanted`: another was asked meanwhile (dragging), sent when it answers. */
let landscapeInFlight = false;
let landscapeWanted = false;

// ------------------------------------------------------------------ layout

const app = document.getElementById('app')!;
const title = el('h1', {}, 'Sampler');
const subtitle = el('span', { class: 'subtitle', 'data-testid': 'run-description' });
const learned = el('div', { class: 'learned' });
const checkpoints = new CheckpointSlider({
  load: (chosen) => host.notify('loadStep', { step: chosen }),
  refresh: () => host.notify('refreshSteps', {}),
});
const sampleSelect = <HTMLSelectElement>el('select', { id: 'samples', 'aria-label': 'Number of samples', 'data-testid': 'samples-select' },
  ...SAMPLE_CHOICES.map((n) => el('option', { value: String(n) }, String(n))));
sampleSelect.value = String(samples);
const xSelect = <HTMLSelectElement>el('select', { id: 'x-coordinate', 'aria-label': 'Horizontal coordinate', 'data-testid': 'x-select' });
const ySelect = <HTMLSelectElement>el('select', { id: 'y-coordinate', 'aria-label': 'Vertical coordinate', 'data-testid': 'y-select' });
const pairControls = el('span', { class: 'pair', hidden: '' }, el('label', { for: 'x-coordinate' }, 'Coordinates'), xSelect, ySelect);
const note = el('div', { class: 'training-note', role: 'status', 'data-testid': 'training-note' });
const messages = el('div', { class: 'messages', role: 'status', 'aria-live': 'polite', 'data-testid': 'messages' });

const landscapeCanvas = <HTMLCanvasElement>el('canvas', { 'data-testid': 'landscape', role: 'img', 'aria-label': 'Samples over the target\'s log-density' });
const playButton = el('vscode-button', { icon: 'play', 'data-testid': 'play', title: 'Animate the trajectories from the start point x₀ to the samples', disabled: '' }, 'Play trajectories');
const timeRange = <HTMLInputElement>el('input', { type: 'range', id: 'time-range', min: '0', max: '0', step: '1', 'aria-label': 'Trajectory time step', 'data-testid': 'time-scrubber' });
const timeLabel = el('span', { class: 'step-label', 'data-testid': 'time' }, 't –');
const bufferToggle = el('vscode-checkbox', { checked: '', hidden: '', 'data-testid': 'buffer-toggle', label: 'Local search' });
const landscapeLegend = el('div', { class: 'legend', 'data-testid': 'landscape-legend' });
const landscapeNote = el('p', { class: 'help', 'data-testid': 'landscape-note' });
const estimates = el('table', { class: 'summary', 'data-testid': 'estimates', 'aria-label': 'log Z estimates at this checkpoint' });
const modeCard = el('section', { class: 'card', 'aria-label': 'Samples per mode', hidden: '' });
const modeCanvas = <HTMLCanvasElement>el('canvas', { 'data-testid': 'mode-bars', role: 'img' });
const modeNote = el('p', { class: 'help', 'data-testid': 'mode-note' });
const logZBox = el('div', { 'data-testid': 'logz-over-training' });
const logZLegend = el('div', { class: 'legend' });
const modesBox = el('div', { 'data-testid': 'modes-over-training' });
const modesLegend = el('div', { class: 'legend' });
const historyNote = el('p', { class: 'help', 'data-testid': 'history-note' });

app.append(
  el('header', { class: 'toolbar' },
    el('div', { class: 'titles' }, title, subtitle),
    el('div', { class: 'controls' }, ...checkpoints.elements, el('label', { for: 'samples' }, 'Samples'), sampleSelect, pairControls)),
  learned,
  note,
  messages,
  el('div', { class: 'plots' },
    el('section', { class: 'card wide', 'aria-label': 'Samples over the target' },
      el('div', { class: 'card-head' }, el('h2', {}, 'Samples over the target'), bufferToggle),
      landscapeLegend,
      el('div', { class: 'canvas-box' }, landscapeCanvas),
      el('div', { class: 'animation' }, playButton, el('label', { for: 'time-range' }, 'Time'), timeRange, timeLabel),
      landscapeNote),
    el('div', { class: 'side' },
      el('section', { class: 'card', 'aria-label': 'This checkpoint' }, el('div', { class: 'card-head' }, el('h2', {}, 'This checkpoint')), estimates),
      modeCard)),
  el('section', { class: 'card', 'aria-label': 'Over training' },
    el('div', { class: 'card-head' }, el('h2', {}, 'Over training (the run\'s metrics)')),
    el('div', { class: 'history' }, logZBox, modesBox),
    historyNote),
);
modeCard.append(el('div', { class: 'card-head' }, el('h2', {}, 'Samples per mode')), el('div', { class: 'canvas-box' }, modeCanvas), modeNote);
const editor = new TargetEditor(landscapeCanvas, {
  changed: () => requestLandscape(),
  redraw: () => renderLandscape(),
  settled: () => requestSamples(),
  fineTune: (edit) => fineTune(edit),
});
modeCard.before(editor.card);

const chartView = () => ({ theme, smoothing: 0, logScale: false });
const logZChart = new MetricChart('log-z', chartView(), 180);
const modesChart = new MetricChart('modes-covered', chartView(), 180);
logZBox.append(el('h3', {}, 'log Z estimates'), logZLegend, logZChart.root);
modesBox.append(el('h3', {}, 'Modes covered'), modesLegend, modesChart.root);

// ------------------------------------------------------------------ messages

host.onNotification('session', (message) => onSession(message));
host.onNotification('metrics', ({ series, replace }) => onMetrics(series, replace));
host.onNotification('error', ({ message }) => showMessage(message));

function onSession(message: ToSamplerPage['notifications']['session']['params']): void {
  const changedRun = runId !== message.run.runId || !target;
  runId = message.run.runId;
  run = message.run;
  const from = run.init ? ` · fine-tuned from ${run.init.run}${run.init.step !== undefined ? ` at step ${run.init.step}` : ''}` : '';
  subtitle.textContent = `${run.runName} · ${run.objective}${run.exploration ? ' + exploration' : ''}${run.localSearch ? ' + local search' : ''} · ${run.model}${from}`;
  learned.replaceChildren(learnedLine(run.learned));
  steps = message.steps;
  const stepChanged = step !== message.step;
  step = message.step;
  checkpoints.show(step, steps);
  bufferToggle.hidden = !run.localSearch;
  renderNote();
  if (changedRun) void loadTarget();
  else if (stepChanged) requestSamples();
  persist();
}

async function loadTarget(): Promise<void> {
  try {
    const answer = await host.request('target', {});
    target = answer.target;
    if (dims.some((d) => d >= target!.dimension) || dims[0] === dims[1]) dims = [0, Math.min(1, target.dimension - 1)];
    fillPairControls(target);
    editor.setTarget(target, run?.logDensity);
    title.textContent = `Sampler · ${target.name}`;
    renderLegend();
    renderHistory(); // the true log Z line needs the target
    requestLandscape();
    requestSamples();
  } catch (error) {
    showMessage((error as Error).message);
  }
}

function requestLandscape(): void {
  if (!target) return;
  if (landscapeInFlight) {
    landscapeWanted = true;
    return;
  }
  const asked = {};
  landscapeAsked = asked;
  landscapeInFlight = true;
  const edit = editor.edit();
  host
    .request('landscape', { dims, grid: LANDSCAPE_GRID, range: [target.range[dims[0]], target.range[dims[1]]], ...(edit ? { edit } : {}) })
    .then(
      (answer) => {
        if (asked !== landscapeAsked) return;
        landscape = answer.landscape;
        landscapesShown++;
        landscapeCanvas.dataset.landscapeEdited = String(edit !== undefined);
        renderLandscape();
      },
      (error: Error) => showMessage(error.message),
    )
    .finally(() => {
      landscapeInFlight = false;
      if (landscapeWanted) {
        landscapeWanted = false;
        requestLandscape();
      }
    });
}

/** Asks the host to fine-tune this run under the edit from the shown checkpoint. */
async function fineTune(edit: TargetEdit): Promise<string> {
  const shownStep = step;
  const { runId: started, file } = await host.request('fineTune', { step: shownStep, edit });
  landscapeCanvas.dataset.fineTuned = started;
  return `Run ${started} fine-tunes this sampler from step ${shownStep} under the edited target (${file}); its Sampler panel opens beside this one.`;
}

function requestSamples(): void {
  if (!target) return;
  const asked = {};
  samplesAsked = asked;
  stopAnimation();
  const edit = editor.edit();
  host.request('samples', { n: samples, seed: 0, trajectories: TRAJECTORIES, ...(edit?.kind === 'mixture' ? { edit } : {}) }).then(
    (answer) => {
      if (asked !== samplesAsked) return;
      result = answer.result;
      countedEdited = edit?.kind === 'mixture';
      samplesShown++;
      clearMessages();
      time = result.steps;
      timeRange.max = String(result.steps);
      timeRange.value = String(time);
      playButton.toggleAttribute('disabled', !result.trajectories);
      renderAll();
    },
    (error: Error) => showMessage(error.message),
  );
}

function onMetrics(series: Record<string, StepSeries>, replace: boolean): void {
  if (replace) for (const name of Object.keys(metrics)) delete metrics[name];
  for (const [name, next] of Object.entries(series)) {
    metrics[name] ??= { steps: [], values: [] };
    next.steps.forEach((s, i) => appendPoint(metrics[name], s, next.values[i]));
  }
  renderHistory();
  renderNote();
}

// ------------------------------------------------------------------ controls

sampleSelect.addEventListener('change', () => {
  samples = Number(sampleSelect.value);
  persist();
  requestSamples();
});
for (const select of [xSelect, ySelect]) {
  select.addEventListener('change', () => {
    const next: [number, number] = [Number(xSelect.value), Number(ySelect.value)];
    if (next[0] === next[1]) {
      showMessage('Pick two different coordinates.');
      return;
    }
    dims = next;
    landscape = undefined;
    persist();
    renderLandscape();
    requestLandscape();
  });
}
bufferToggle.addEventListener('change', () => {
  showBuffer = (bufferToggle as HTMLElement & { checked: boolean }).checked;
  renderLandscape();
});
timeRange.addEventListener('input', () => {
  stopAnimation();
  time = Number(timeRange.value);
  renderLandscape();
});

let animationStart = 0;
let animationFrame = 0;
let framesDrawn = 0;
playButton.addEventListener('click', () => (playing ? stopAnimation() : startAnimation()));

function startAnimation(): void {
  if (!result?.trajectories) return;
  playing = true;
  framesDrawn = 0;
  animationStart = performance.now();
  playButton.setAttribute('icon', 'debug-pause');
  playButton.textContent = 'Pause';
  landscapeCanvas.dataset.playing = 'true';
  animationFrame = requestAnimationFrame(tick);
}

function tick(now: number): void {
  if (!result || !playing) return;
  const progress = Math.min(1, (now - animationStart) / ANIMATION_MS);
  time = Math.round(progress * result.steps);
  timeRange.value = String(time);
  framesDrawn++;
  if (progress >= 1) {
    stopAnimation();
    landscapeCanvas.dataset.played = String(Number(landscapeCanvas.dataset.played ?? 0) + 1);
    return;
  }
  renderLandscape();
  animationFrame = requestAnimationFrame(tick);
}

function stopAnimation(): void {
  cancelAnimationFrame(animationFrame);
  const wasPlaying = playing;
  playing = false;
  playButton.setAttribute('icon', 'play');
  playButton.textContent = 'Play trajectories';
  landscapeCanvas.dataset.playing = 'false';
  landscapeCanvas.dataset.frames = String(framesDrawn);
  if (wasPlaying) renderLandscape();
}

function fillPairControls(info: SamplerTargetInfo): void {
  pairControls.hidden = info.dimension <= 2;
  for (const [select, value] of [[xSelect, dims[0]], [ySelect, dims[1]]] as const) {
    select.replaceChildren(...info.coordinates.map((name, i) => el('option', { value: String(i) }, name)));
    select.value = String(value);
  }
}

function persist(): void {
  const state: SamplerViewState = { runId, samples, pair: dims };
  saveState(state);
}

// ------------------------------------------------------------------ rendering

function renderNote(): void {
  const text = run ? trainingNote({ run, step, steps, result, metrics }) : '';
  note.textContent = text;
  note.hidden = text === '';
}

function legendItem(color: string, kind: 'fill' | 'line' | 'dot' | 'cross', text: string): HTMLElement {
  const swatch = el('span', { class: `legend-swatch ${kind}`, 'aria-hidden': 'true' });
  swatch.style.setProperty('--swatch', color); // CSSOM, allowed by the page's policy
  return el('span', { class: 'legend-item' }, swatch, text);
}

function renderLegend(): void {
  const items = [
    legendItem(colors.density, 'fill', 'target density exp(−E), with contours of log R'),
    legendItem(colors.samples, 'dot', 'samples of the sampler'),
    legendItem(colors.trajectories, 'line', 'trajectories from x₀'),
  ];
  if (run?.localSearch) items.push(legendItem(colors.buffer, 'dot', 'local search: states MALA accepts from the samples'));
  if (target?.mixture) items.push(legendItem(colors.modes, 'cross', 'mode means (drag one to move it)'));
  landscapeLegend.replaceChildren(...items);
}

function renderLandscape(): void {
  if (!target) return;
  const { means: modes, selected: selectedMode } = editor.modes();
  const frame = drawLandscape(landscapeCanvas, { target, landscape, result, dims, time, playing, showBuffer, modes, selectedMode }, theme, colors);
  editor.setView(frame, dims);
  landscapeCanvas.dataset.results = String(samplesShown);
  landscapeCanvas.dataset.landscapes = String(landscapesShown);
  landscapeCanvas.dataset.step = String(result?.step ?? -1);
  timeLabel.textContent = result ? `t ${time} of ${result.steps}` : 't –';
  const names = target.coordinates;
  const slice = target.dimension > 2
    ? ` The contours are a slice through the other ${target.dimension - 2} coordinates at 0; the samples are projected.`
    : '';
  // The run's replay buffers are not saved in checkpoints: the search is run again here, with the run's settings.
  const buffer = run?.localSearch
    ? result?.buffer
      ? ` Local search: ${result.buffer.count} states MALA accepted after burn-in, started from the first 100 samples with the run's settings: what the run's replay buffer receives from them.`
      : ' Local search is on, but MALA accepted no state from these samples.'
    : '';
  landscapeNote.textContent = `${names[dims[0]]} against ${names[dims[1]]}.${slice}${buffer}`;
}

function renderEstimates(): void {
  if (!result || !target) return;
  const z = result.logZ;
  const truth = target.logZ.known ? target.logZ.value : undefined;
  const row = (name: string, value: string, testid: string, hint: string) =>
    el('tr', {}, el('th', { scope: 'row', title: hint }, name), el('td', { 'data-testid': testid }, value));
  const delta = (v: number) => (truth === undefined ? formatValue(v) : `${formatValue(v)} (Δ ${formatValue(truth - v)})`);
  const rows = [
    row('true log Z', truth === undefined ? (target.logZ.known ? '' : `unknown: ${target.logZ.why}`) : formatValue(truth), 'true-logz', 'The target\'s normaliser where it is known'),
    row('ELBO', delta(z.elbo), 'elbo', 'Mean log-weight: a lower bound on log Z in expectation'),
    row('importance-weighted', delta(z.importanceWeighted), 'iw-logz', 'log mean exp of the log-weights'),
    row('learned log Z', delta(z.learned), 'learned-logz', 'The sampler\'s scalar log Z parameter'),
    row('ESS', `${(z.ess * 100).toFixed(1)}% of ${result.samples.count}`, 'ess', 'Effective sample size of the importance weights'),
  ];
  if (result.perMode) rows.push(row('modes covered', `${result.perMode.covered} of ${result.perMode.counts.length}`, 'modes-covered', 'Modes with at least the rule\'s share of samples within its radius'));
  rows.push(row('steps T', String(result.steps), 'sampler-steps', 'Steps of the sampler from x₀ to the sample'));
  estimates.replaceChildren(el('tbody', {}, ...rows));
  estimates.dataset.step = String(result.step);
}

function renderModes(): void {
  const perMode = result?.perMode;
  modeCard.hidden = !perMode;
  if (!perMode || !result) return;
  drawModeBars(modeCanvas, perMode, result.samples.count, theme, colors.samples);
  modeNote.textContent = `${perMode.covered} of ${perMode.counts.length} modes covered: a mode counts when at least ${(perMode.rule.share * 100).toFixed(1)}% of the samples lie within ${perMode.rule.radius} of its mean (dashed line). Modes numbered in the target's order.${countedEdited ? ' Counted at the edited modes: how this sampler covers the edited target before fine-tuning.' : ''}`;
  modeCanvas.dataset.edited = String(countedEdited);
}

/** log Z and modes covered over training: the metrics whose names say so (eval and train alike). */
function renderHistory(): void {
  const names = Object.keys(metrics).sort();
  const logZNames = names.filter((name) => /log-?z|elbo|eubo/i.test(name) && !/delta|error|std/i.test(name));
  const modeNames = names.filter((name) => /modes?-covered|modes$/i.test(name));
  const lines = (chosen: string[]): ChartLine[] =>
    chosen.map((name, colorIndex) => ({ runId: name, label: name, colorIndex, ...metrics[name] }));
  const logZLines = lines(logZNames);
  const logged = logZLines.flatMap((line) => line.steps);
  if (target?.logZ.known && logged.length > 0) {
    // The true value as a flat line over the logged steps: the estimates should approach it from below.
    const span = [Math.min(...logged), Math.max(...logged)];
    logZLines.push({ runId: 'true log Z', label: 'true log Z', colorIndex: logZLines.length, steps: span, values: span.map(() => (target!.logZ as { value: number }).value) });
  }
  logZChart.update(chartView(), logZLines, logZNames[0]);
  modesChart.update(chartView(), lines(modeNames), modeNames[0]);
  const legend = (chartLines: ChartLine[]) => chartLines.map((line) => legendItem(runStyle(theme, line.colorIndex).color, 'line', line.label));
  logZLegend.replaceChildren(...legend(logZLines));
  modesLegend.replaceChildren(...legend(lines(modeNames)));
  const truth = target?.logZ.known ? ` True log Z: ${formatValue(target.logZ.value)}.` : '';
  historyNote.textContent = names.length === 0
    ? 'No metrics logged yet.'
    : `${logZNames.length ? logZNames.join(', ') : 'No log Z metrics'}; ${modeNames.length ? modeNames.join(', ') : 'no modes-covered metric (not a mixture target)'}.${truth}`;
}

function renderAll(): void {
  renderLegend();
  renderLandscape();
  renderEstimates();
  renderModes();
  renderNote();
}

function showMessage(text: string): void {
  messages.append(el('div', { class: 'message error' }, el('span', { class: 'codicon codicon-error', 'aria-hidden': 'true' }), el('span', {}, text)));
}

function clearMessages(): void {
  messages.replaceChildren();
}

onThemeChange(() => {
  theme = readThemeColors();
  colors = landscapeColors(theme);
  logZChart.setView(chartView());
  modesChart.setView(chartView());
  renderAll();
});
let resizeFrame = 0;
new ResizeObserver(() => {
  cancelAnimationFrame(resizeFrame);
  resizeFrame = requestAnimationFrame(() => {
    renderLandscape();
    renderModes();
  });
}).observe(app);

host.notify('ready', {});
