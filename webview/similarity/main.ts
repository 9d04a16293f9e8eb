/**
 * Similarity panel (messages: src/protocol/similarity.ts). On a run: the objects of one trial in
 * a row, the matrix CoRelNet's decoder reads as a heatmap with its numbers, the prediction against
 * the truth, and the class-average matrices. On a sweep: held-out accuracy over m per model and
 * task, mean ± sd over seeds (min-max on hover), as a table and as a chart. Renders only.
 */
import type {
  ClassAverage,
  FromSimilarityPage,
  SimilarityRunInfo,
  SimilarityTarget,
  SimilarityViewState,
  SweepGrid,
  SweepMemberState,
  ToSimilarityPage,
  TrialView,
} from '../../src/protocol/similarity';
import { autoScale, onScale, scaleText } from '../common/colorScale';
import { pageChannel, saveState } from '../common/channel';
import { el, learnedLine } from '../common/dom';
import { onThemeChange, readThemeColors } from '../common/theme';
import './main.css';

const host = pageChannel<FromSimilarityPage, ToSimilarityPage>();

let theme = readThemeColors();
let run: SimilarityRunInfo | undefined;
let trial: TrialView | undefined;
let averages: { split: string; averages: ClassAverage[] } | undefined;
let sweep: { name: string; grid: SweepGrid; members: SweepMemberState[] } | undefined;

const app = document.getElementById('app')!;
const heading = el('h1', {}, 'Similarity');
const subtitle = el('p', { class: 'subtitle' });
const learned = el('div', { class: 'learned' });
const status = el('p', { class: 'status', role: 'status', 'aria-live': 'polite', 'data-testid': 'similarity-status' });
const errors = el('div', { class: 'errors', role: 'alert' });
const runSection = el('section', { class: 'run hidden', 'data-testid': 'similarity-run' });
const sweepSection = el('section', { class: 'sweep hidden', 'data-testid': 'sweep-section' });
app.append(el('header', {}, heading, subtitle, learned), status, errors, runSection, sweepSection);

// ------------------------------------------------------------------ run: controls

const splitSelect = el('select', { 'aria-label': 'Split', 'data-testid': 'similarity-split' }) as HTMLSelectElement;
const indexInput = el('input', { type: 'number', min: '0', step: '1', value: '0', 'aria-label': 'Trial index', 'data-testid': 'similarity-index' }) as HTMLInputElement;
const prevButton = el('vscode-button', { secondary: '', icon: 'chevron-left', 'aria-label': 'Previous trial', 'data-testid': 'similarity-prev' }, 'Prev');
const nextButton = el('vscode-button', { secondary: '', icon: 'chevron-right', 'aria-label': 'Next trial', 'data-testid': 'similarity-next' }, 'Next');
const objectsRow = el('div', { class: 'objects', 'data-testid': 'similarity-objects', 'aria-label': 'The objects of the trial, in sequence order' });
const matrixCanvas = el('canvas', { 'data-testid': 'similarity-matrix', role: 'img' }) as HTMLCanvasElement;
const matrixNote = el('p', { class: 'note' });
const prediction = el('div', { class: 'prediction', 'data-testid': 'similarity-prediction' });
const averagesGrid = el('div', { class: 'averages', 'data-testid': 'similarity-averages' });
const averagesNote = el('p', { class: 'note' });
const matrixHeading = el('h2', { 'data-testid': 'similarity-matrix-heading' }, 'Similarity matrix (what the decoder reads)');

runSection.append(
  el('div', { class: 'controls' },
    el('label', {}, 'Split ', splitSelect),
    el('label', {}, 'Trial ', indexInput),
    prevButton, nextButton),
  el('h2', {}, 'Input objects'),
  objectsRow,
  el('div', { class: 'trial-body' },
    el('div', { class: 'matrix-card' }, matrixHeading, matrixCanvas, matrixNote),
    el('div', { class: 'prediction-card' }, el('h2', {}, 'Prediction vs truth'), prediction)),
  el('h2', {}, 'Class-average matrices'),
  averagesNote,
  averagesGrid,
);

const requestTrial = (index: number) => {
  const value = Math.max(0, Math.floor(index));
  indexInput.value = String(value);
  host.notify('showTrial', { split: splitSelect.value, index: value });
};
splitSelect.addEventListener('change', () => requestTrial(0));
indexInput.addEventListener('change', () => requestTrial(Number(indexInput.value) || 0));
prevButton.addEventListener('click', () => requestTrial((Number(indexInput.value) || 0) - 1));
nextButton.addEventListener('click', () => requestTrial((Number(indexInput.value) || 0) + 1));

// ------------------------------------------------------------------ sweep

const sweepTable = el('table', { class: 'sweep-grid', 'data-testid': 'sweep-grid' });
const sweepChart = el('canvas', { 'data-testid': 'sweep-chart', role: 'img' }) as HTMLCanvasElement;
const sweepNote = el('p', { class: 'note' });
const memberList = el('p', { class: 'note members' });
sweepSection.append(
  el('h2', {}, 'Held-out accuracy over m'),
  sweepNote,
  sweepTable,
  sweepChart,
  memberList,
);

// ------------------------------------------------------------------ messages

host.onNotification('run', (message) => {
  run = message.run;
  saveTarget({ kind: 'run', runId: run.runId });
  renderRunHeader();
  renderAverages();
});
host.onNotification('trial', (message) => {
  trial = message.trial;
  errors.replaceChildren();
  renderTrial();
});
host.onNotification('averages', (message) => {
  averages = message;
  renderAverages();
});
host.onNotification('sweep', (message) => {
  sweep = message;
  saveTarget({ kind: 'sweep', sweepId: message.sweepId });
  renderSweep();
});
host.onNotification('status', (message) => {
  status.textContent = message.message;
});
host.onNotification('error', (message) => {
  errors.replaceChildren(el('div', { class: 'message error' }, el('span', { class: 'codicon codicon-error', 'aria-hidden': 'true' }), message.message));
});
onThemeChange(() => {
  theme = readThemeColors();
  renderTrial();
  renderAverages();
  renderSweep();
});
host.notify('ready', {});

function saveTarget(target: SimilarityTarget): void {
  saveState<SimilarityViewState>({ target });
}

// ------------------------------------------------------------------ rendering: a run

function renderRunHeader(): void {
  if (!run) return;
  runSection.classList.remove('hidden');
  heading.textContent = `Similarity: ${run.name}`;
  subtitle.textContent = `${run.model} on ${run.task}${run.m !== undefined ? `, m = ${run.m} held out` : ''} · checkpoint at step ${run.step}`;
  learned.replaceChildren(learnedLine(run.learned));
  const current = splitSelect.value;
  splitSelect.replaceChildren(...run.splits.map((split) => el('option', { value: split }, split === 'test' && run!.m ? `test (${run!.m} unseen objects)` : split)));
  splitSelect.value = run.splits.includes(current) ? current : run.splits.includes('test') ? 'test' : run.splits[0];
}

function renderTrial(): void {
  if (!trial || !run) return;
  if (splitSelect.value !== trial.split) splitSelect.value = trial.split;
  indexInput.value = String(trial.index);
  objectsRow.replaceChildren(...trial.objects.map((pixels, t) => objectTile(pixels, t, trial!.objectIds?.[t])));
  matrixHeading.textContent = trial.similarity || !trial.attention ? 'Similarity matrix (what the decoder reads)' : 'Self-attention (mean over heads)';
  if (trial.similarity) {
    drawMatrix(matrixCanvas, trial.similarity, { cell: Math.min(56, Math.floor(420 / trial.similarity.length)), numbers: true, unseen: run.unseen });
    matrixCanvas.setAttribute('aria-label', `Similarity matrix ${trial.similarity.length} by ${trial.similarity.length}`);
    matrixCanvas.classList.remove('hidden');
    matrixNote.textContent = run.unseen === 'upper'
      ? 'Row i: softmax over objects j ≤ i of z_i · z_j. Entries above the diagonal are masked (the decoder never sees them).'
      : 'Row i: normalised z_i · z_j over every object j.';
  } else if (trial.attention) {
    drawMatrix(matrixCanvas, trial.attention, { cell: Math.min(56, Math.floor(420 / trial.attention.length)), numbers: true, unseen: 'none' });
    matrixCanvas.setAttribute('aria-label', `Self-attention ${trial.attention.length} by ${trial.attention.length}, mean over heads`);
    matrixCanvas.classList.remove('hidden');
    matrixNote.textContent = `${run.model} has no similarity matrix. Shown instead: its self-attention, mean over heads (row i: how much object i reads object j). Its decoder reads the attended objects themselves, not these weights (compare with a corelnet run).`;
  } else {
    matrixCanvas.classList.add('hidden');
    matrixNote.textContent = `${run.model} has no similarity matrix: its decoder reads the objects themselves (compare with a corelnet run).`;
  }
  renderPrediction();
}

function objectTile(pixels: number[], t: number, objectId: number | undefined): HTMLElement {
  const canvas = document.createElement('canvas');
  canvas.width = 32;
  canvas.height = 32;
  const ctx = canvas.getContext('2d')!;
  const image = ctx.createImageData(32, 32);
  pixels.forEach((value, k) => {
    const grey = Math.round(Math.max(0, Math.min(1, value)) * 255);
    image.data.set([grey, grey, grey, 255], k * 4);
  });
  ctx.putImageData(image, 0, 0);
  canvas.className = 'object';
  canvas.setAttribute('role', 'img');
  canvas.setAttribute('aria-label', `object ${t + 1}${objectId !== undefined ? ` (glyph ${objectId})` : ''}`);
  return el('figure', {}, canvas, el('figcaption', {}, `${t + 1}${objectId !== undefined ? ` · #${objectId}` : ''}`));
}

function renderPrediction(): void {
  if (!trial || !run) return;
  const names = run.classNames;
  const correct = trial.label !== undefined ? trial.predicted === trial.label : undefined;
  const verdict = correct === undefined
    ? el('p', {}, `Predicted: ${names[trial.predicted] ?? trial.predicted}`)
    : el('p', { class: `verdict ${correct ? 'right' : 'wrong'}` },
      el('span', { class: `codicon codicon-${correct ? 'pass' : 'error'}`, 'aria-hidden': 'true' }),
      correct ? ' Correct' : ' Wrong',
      `: predicted ${names[trial.predicted] ?? trial.predicted}, truth ${names[trial.label!] ?? trial.label}`);
  const rows = trial.probabilities.map((p, k) => {
    const bar = el('span', { class: 'bar' });
    bar.style.width = `${Math.round(p * 100)}%`;
    const marks = [k === trial!.predicted ? 'predicted' : '', k === trial!.label ? 'truth' : ''].filter(Boolean).join(', ');
    return el('tr', { class: k === trial!.label ? 'truth-row' : '' },
      el('td', {}, names[k] ?? `class ${k}`),
      el('td', { class: 'bar-cell' }, bar),
      el('td', { class: 'num' }, `${(p * 100).toFixed(1)}%`),
      el('td', { class: 'marks' }, marks));
  });
  prediction.replaceChildren(
    verdict,
    el('table', { class: 'probabilities', 'aria-label': 'Class probabilities' }, ...rows),
    el('p', { class: 'note' }, `Trial kind: ${trial.kind ?? 'unknown'} · ${trial.split} trial ${trial.index}`),
  );
}

function renderAverages(): void {
  if (!run) return;
  if (!run.hasSimilarity) {
    averagesNote.textContent = `Class averages need a similarity matrix: ${run.model} has none (open a corelnet run).`;
    averagesGrid.replaceChildren();
    return;
  }
  if (!averages) return;
  averagesNote.textContent = `Mean matrix over the ${averages.split} trials of each kind: the relation the model has learned.`;
  averagesGrid.replaceChildren(...averages.averages.map((average) => {
    const canvas = document.createElement('canvas');
    drawMatrix(canvas, average.mean, { cell: Math.min(40, Math.floor(240 / average.mean.length)), numbers: average.mean.length <= 6, unseen: run!.unseen });
    canvas.setAttribute('role', 'img');
    canvas.setAttribute('aria-label', `Average similarity matrix of ${average.kind} trials`);
    return el('figure', { class: 'average' }, canvas,
      el('figcaption', {}, el('strong', {}, average.kind), ` · ${average.trials} trials · ${(average.accuracy * 100).toFixed(0)}% correct`));
  }));
}

// ------------------------------------------------------------------ heatmaps

/** Viridis at a few stops: dark (0) to yellow (1), readable in light and dark themes. */
const VIRIDIS = [[68, 1, 84], [59, 82, 139], [33, 145, 140], [94, 201, 98], [253, 231, 37]];

function colour(value: number): string {
  const x = Math.max(0, Math.min(1, value)) * (VIRIDIS.length - 1);
  const i = Math.min(VIRIDIS.length - 2, Math.floor(x));
  const f = x - i;
  const [r, g, b] = VIRIDIS[i].map((c, k) => Math.round(c + f * (VIRIDIS[i + 1][k] - c)));
  return `rgb(${r}, ${g}, ${b})`;
}

function drawMatrix(canvas: HTMLCanvasElement, matrix: number[][], options: { cell: number; numbers: boolean; unseen: 'upper' | 'none' }): void {
  const n = matrix.length;
  const { cell } = options;
  const margin = 18;
  const legend = 14;
  const dpr = window.devicePixelRatio || 1;
  const width = margin + n * cell + 8;
  const height = margin + n * cell + legend + 22;
  const shown = (i: number, j: number) => !(options.unseen === 'upper' && j > i);
  // Auto-contrast over the cells the decoder sees: colours span their own min..max.
  const scale = autoScale(matrix.flatMap((row, i) => row.filter((_, j) => shown(i, j))));
  const [low, high] = scaleText(scale);
  canvas.dataset.scaleMin = low;
  canvas.dataset.scaleMax = high;
  canvas.width = width * dpr;
  canvas.height = height * dpr;
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  const ctx = canvas.getContext('2d')!;
  ctx.scale(dpr, dpr);
  ctx.clearRect(0, 0, width, height);
  ctx.font = `${Math.max(9, Math.min(12, cell / 3.5))}px ${theme.fontFamily}`;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  for (let i = 0; i < n; i++) {
    ctx.fillStyle = theme.muted;
    ctx.fillText(String(i + 1), margin / 2, margin + i * cell + cell / 2);
    ctx.fillText(String(i + 1), margin + i * cell + cell / 2, margin / 2);
    for (let j = 0; j < n; j++) {
      const x = margin + j * cell;
      const y = margin + i * cell;
      if (!shown(i, j)) {
        ctx.strokeStyle = theme.grid;
        ctx.strokeRect(x + 0.5, y + 0.5, cell - 1, cell - 1);
        continue;
      }
      const value = matrix[i][j];
      const shade = onScale(scale, value);
      ctx.fillStyle = colour(shade);
      ctx.fillRect(x, y, cell - 1, cell - 1);
      if (options.numbers && cell >= 26) {
        ctx.fillStyle = shade > 0.6 ? '#000' : '#fff';
        ctx.fillText(value.toFixed(2), x + cell / 2, y + cell / 2);
      }
    }
  }
  // The colour bar under the matrix, labelled with the values it spans.
  const top = margin + n * cell + 8;
  const span = n * cell;
  for (let k = 0; k < span; k++) {
    ctx.fillStyle = colour(k / (span - 1));
    ctx.fillRect(margin + k, top, 1, legend - 4);
  }
  ctx.fillStyle = theme.muted;
  ctx.textAlign = 'left';
  ctx.fillText(low, margin, top + legend + 4);
  ctx.textAlign = 'right';
  ctx.fillText(high, margin + span, top + legend + 4);
}

// ------------------------------------------------------------------ rendering: a sweep

function renderSweep(): void {
  if (!sweep) return;
  sweepSection.classList.remove('hidden');
  heading.textContent = `Sweep: ${sweep.name}`;
  learned.replaceChildren();
  const { grid } = sweep;
  const done = sweep.members.filter((m) => m.state === 'completed').length;
  subtitle.textContent = `${sweep.members.length} runs, ${done} completed · metric ${grid.metric} (its last value per run)`;
  sweepNote.textContent = `Mean ± sd over up to ${grid.seeds} seed${grid.seeds === 1 ? '' : 's'}; the range is min–max. m objects are held out of training and are the only ones tested. Click a cell to look inside its first run.`;
  const header = el('tr', {}, el('th', { scope: 'col' }, grid.columnKey === '/task/m' ? 'model · task \\ m' : 'run'),
    ...grid.columns.map((c) => el('th', { scope: 'col' }, grid.columnKey === '/task/m' ? `m = ${c}` : c)));
  const rows = grid.rows.map((row) => el('tr', {}, el('th', { scope: 'row' }, row.label), ...row.cells.map((cell, k) => {
    if (!cell) return el('td', { class: 'empty' }, '—');
    const td = el('td', { class: 'cell', tabindex: '0', 'data-testid': `sweep-cell-${row.label}-${grid.columns[k]}` });
    if (cell.mean === undefined) {
      td.append(el('span', { class: 'pending' }, `pending (${cell.missing})`));
    } else {
      td.style.background = colour(cell.mean);
      td.style.color = cell.mean > 0.6 ? '#000' : '#fff';
      td.append(
        el('span', { class: 'mean' }, `${(cell.mean * 100).toFixed(1)}%`),
        el('span', { class: 'spread' }, cell.values.length > 1 ? ` ± ${(cell.sd! * 100).toFixed(1)}` : ''),
        el('span', { class: 'range' }, `${cell.values.length > 1 ? `${(cell.min! * 100).toFixed(0)}–${(cell.max! * 100).toFixed(0)}% · ` : ''}${cell.values.length}/${cell.values.length + cell.missing} seeds`),
      );
    }
    td.title = cell.runIds.join('\n');
    const open = () => cell.runIds[0] && host.notify('openRun', { runId: cell.runIds[0] });
    td.addEventListener('click', open);
    td.addEventListener('keydown', (event) => event.key === 'Enter' && open());
    return td;
  })));
  sweepTable.replaceChildren(el('thead', {}, header), el('tbody', {}, ...rows));
  const unfinished = sweep.members.filter((m) => m.state !== 'completed');
  memberList.textContent = unfinished.length > 0 ? `Not completed: ${unfinished.map((m) => `${m.label} (${m.state})`).join(', ')}` : '';
  drawSweepChart();
}

/** Accuracy against m, one line per row, whiskers min-max: the paper's figure. */
function drawSweepChart(): void {
  if (!sweep || sweep.grid.columns.length < 2) {
    sweepChart.classList.add('hidden');
    return;
  }
  sweepChart.classList.remove('hidden');
  const { grid } = sweep;
  const width = Math.min(900, Math.max(480, app.clientWidth - 8));
  const height = 300;
  const dpr = window.devicePixelRatio || 1;
  sweepChart.width = width * dpr;
  sweepChart.height = height * dpr;
  sweepChart.style.width = `${width}px`;
  sweepChart.style.height = `${height}px`;
  sweepChart.setAttribute('aria-label', `Chart of ${grid.metric} over m for ${grid.rows.length} model and task combinations`);
  const ctx = sweepChart.getContext('2d')!;
  ctx.scale(dpr, dpr);
  ctx.clearRect(0, 0, width, height);
  const legendWidth = 210;
  const plot = { left: 48, top: 12, right: width - legendWidth, bottom: height - 36 };
  const xOf = (k: number) => plot.left + ((plot.right - plot.left) * (k + 0.5)) / grid.columns.length;
  const yOf = (v: number) => plot.bottom - (plot.bottom - plot.top) * v;
  ctx.font = `${theme.fontSize - 1}px ${theme.fontFamily}`;
  ctx.strokeStyle = theme.grid;
  ctx.fillStyle = theme.muted;
  ctx.textAlign = 'right';
  ctx.textBaseline = 'middle';
  for (const v of [0, 0.25, 0.5, 0.75, 1]) {
    ctx.beginPath();
    ctx.moveTo(plot.left, yOf(v));
    ctx.lineTo(plot.right, yOf(v));
    ctx.stroke();
    ctx.fillText(`${v * 100}%`, plot.left - 6, yOf(v));
  }
  ctx.textAlign = 'center';
  grid.columns.forEach((c, k) => ctx.fillText(grid.columnKey === '/task/m' ? `m = ${c}` : c, xOf(k), plot.bottom + 14));
  ctx.fillText(`held out objects (m) →  ${grid.metric}`, (plot.left + plot.right) / 2, plot.bottom + 30);
  grid.rows.forEach((row, r) => {
    const color = theme.series[r % theme.series.length];
    const dash = r >= theme.series.length ? [6, 3] : [];
    ctx.strokeStyle = color;
    ctx.fillStyle = color;
    ctx.lineWidth = 2;
    ctx.setLineDash(dash);
    ctx.beginPath();
    let started = false;
    row.cells.forEach((cell, k) => {
      if (cell?.mean === undefined) return;
      const [x, y] = [xOf(k) + (r - grid.rows.length / 2) * 3, yOf(cell.mean)];
      if (started) ctx.lineTo(x, y);
      else ctx.moveTo(x, y);
      started = true;
    });
    ctx.stroke();
    ctx.setLineDash([]);
    ctx.lineWidth = 1;
    row.cells.forEach((cell, k) => {
      if (cell?.mean === undefined) return;
      const x = xOf(k) + (r - grid.rows.length / 2) * 3;
      ctx.beginPath();
      ctx.moveTo(x, yOf(cell.min!));
      ctx.lineTo(x, yOf(cell.max!));
      ctx.stroke();
      ctx.beginPath();
      ctx.arc(x, yOf(cell.mean), 3.5, 0, 2 * Math.PI);
      ctx.fill();
    });
    ctx.textAlign = 'left';
    const ly = plot.top + 8 + r * 18;
    ctx.fillRect(plot.right + 16, ly - 2, 14, 4);
    ctx.fillStyle = theme.foreground;
    ctx.fillText(row.label, plot.right + 36, ly);
  });
}

