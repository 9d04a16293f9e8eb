/**
 * Attention composition panel: for one example, each search's attention map, the retrieval
 * selection per token beside the ground-truth retrieval the context asks for, and a summary over
 * many examples of how consistently each search picks a retrieval per context. One column per
 * run (a compositional and a multi-head attention run side by side), the same example in both.
 * The host computes everything (in the worker); this page only draws and sends intents.
 */
import {
  DEFAULT_SUMMARY_EXAMPLES,
  type AttentionColumn,
  type AttentionExample,
  type AttentionPanelState,
  type AttentionSelection,
  type FromAttentionPage,
  type SelectionSummary,
  type ToAttentionPage,
} from '../../src/protocol/attention';
import { errorMessage } from '../../src/shared/errors';
import { pageChannel, saveState, savedState } from '../common/channel';
import { el, learnedLine, stateBadge } from '../common/dom';
import { onThemeChange, readThemeColors, type ThemeColors } from '../common/theme';
import { cellAt, drawHeatmap, type HeatmapLayout, type HeatmapSpec, type Marker } from './heatmap';
import './main.css';

const MAP_CELL = 18;
const SELECTION_CELL = 24;
const SUMMARY_CELL = 34;

const host = pageChannel<FromAttentionPage, ToAttentionPage>();
const persisted = loadPanelState();
let theme: ThemeColors = readThemeColors();
let columns: AttentionColumn[] = [];
let splits: string[] = [];
let selection: AttentionSelection = persisted.selection ?? { split: '', index: 0, summaryExamples: DEFAULT_SUMMARY_EXAMPLES };
const examples = new Map<string, AttentionExample>();
const summaries = new Map<string, SelectionSummary>();
const busy = new Map<string, Set<string>>();
const problems = new Map<string, string>();
/** The token under the mouse (or keyboard focus), shared by every column: same example index. */
let hoverToken: number | undefined;

type FormControl = HTMLElement & { value: string };

// ------------------------------------------------------------------ layout

/** What the panel shows when a model composes, and when it does not; measured results are in bench/README.md. */
const WHAT_TO_EXPECT =
  'What to look for: split \'ood\' holds the retrieval combinations training never showed; a model that composes keeps a selection that follows the context there too '
  + '(in the summary, a different column lit in each row) and its held-out loss in the dashboard stays close to its training loss. '
  + 'Multi-head attention\'s selection is the fixed pairing (one column in every row); its held-out loss can rise while its training loss falls. '
  + 'Both models need thousands of steps before their maps sharpen: each run\'s "Learned" or "Not learned yet" line says which it is. Not every seed composes.';

const app = document.getElementById('app')!;
const splitSelect = <FormControl>el('vscode-single-select', { id: 'split', 'aria-label': 'Split to draw examples from', 'data-testid': 'split' });
const indexField = <FormControl>el('vscode-textfield', {
  id: 'example-index', type: 'number', min: '0', step: '1', class: 'number-field',
  'aria-label': 'Example index within the split', 'data-testid': 'example-index',
});
const prevButton = iconButton('chevron-left', 'Previous example', () => selectIndex(selection.index - 1));
const nextButton = iconButton('chevron-right', 'Next example', () => selectIndex(selection.index + 1));
const summaryField = <FormControl>el('vscode-textfield', {
  id: 'summary-examples', type: 'number', min: '1', max: '1024', step: '1', class: 'number-field',
  'aria-label': 'Examples in the summary', title: 'Examples 0 .. n-1 of the split, summarised in the worker',
});
const addRunButton = el('vscode-button', { icon: 'split-horizontal', secondary: '', 'data-testid': 'add-run', title: 'Show another run beside this one (e.g. multi-head attention next to compositional attention)' }, 'Compare with…');
addRunButton.addEventListener('click', () => host.notify('addRun', {}));
const messages = el('div', { id: 'messages', role: 'status', 'aria-live': 'polite' });
const grid = el('section', { class: 'columns', 'aria-label': 'Runs' });

app.append(
  el('header', { class: 'toolbar' },
    el('h1', {}, 'Attention composition'),
    el('div', { class: 'toolbar-controls' },
      el('label', { for: 'split' }, 'Split'), splitSelect,
      el('label', { for: 'example-index' }, 'Example'), prevButton, indexField, nextButton,
      el('label', { for: 'summary-examples' }, 'Summary over'), summaryField, el('span', {}, 'examples'),
      addRunButton)),
  el('div', { class: 'legend' },
    el('span', { 'data-testid': 'color-scale-note' }, 'Colours span each map\'s own lowest to highest probability, zeros (masked) left out; the bar under it prints them.'),
    el('span', { class: 'legend-item' }, el('span', { class: 'mark ring', 'aria-hidden': 'true' }), 'what the model picked (argmax)'),
    el('span', { class: 'legend-item' }, el('span', { class: 'mark cross', 'aria-hidden': 'true' }, '✕'), 'ground truth'),
    el('span', { class: 'legend-note' },
      'Hover a token (a row of a search map, a column of the selection) to follow it. Ground-truth searches g0, g1, … are the task\'s; learned searches may play them in any order.'),
    el('span', { class: 'legend-note', 'data-testid': 'what-to-expect' }, WHAT_TO_EXPECT)),
  messages,
  grid,
);

function iconButton(icon: string, label: string, onClick: () => void): HTMLElement {
  const button = el('vscode-button', { icon, secondary: '', 'aria-label': label, title: label });
  button.addEventListener('click', onClick);
  return button;
}

splitSelect.addEventListener('change', () => {
  if (splitSelect.value && splitSelect.value !== selection.split) select({ ...selection, split: splitSelect.value });
});
indexField.addEventListener('change', () => {
  const value = Number(indexField.value);
  const valid = Number.isInteger(value) && value >= 0;
  indexField.toggleAttribute('invalid', !valid);
  indexField.title = valid ? '' : 'The example index is a whole number from 0';
  if (valid) selectIndex(value);
});
summaryField.addEventListener('change', () => {
  const value = Number(summaryField.value);
  const valid = Number.isInteger(value) && value >= 1 && value <= 1024;
  summaryField.toggleAttribute('invalid', !valid);
  summaryField.title = valid ? 'Examples 0 .. n-1 of the split, summarised in the worker' : 'Between 1 and 1024 examples';
  if (valid) select({ ...selection, summaryExamples: value });
});

function selectIndex(index: number): void {
  if (index < 0) return;
  select({ ...selection, index });
}

function select(next: AttentionSelection): void {
  const summaryChanged = next.split !== selection.split || next.summaryExamples !== selection.summaryExamples;
  selection = next;
  if (summaryChanged) summaries.clear();
  persist();
  syncControls();
  host.notify('select', { selection });
}

function persist(): void {
  saveState<AttentionPanelState>({ runIds: columns.length > 0 ? columns.map((c) => c.runId) : persisted.runIds, selection });
}

function syncControls(): void {
  splitSelect.replaceChildren(...splits.map((split) => {
    const option = el('vscode-option', { value: split }, split);
    if (split === selection.split) option.setAttribute('selected', '');
    return option;
  }));
  splitSelect.value = selection.split;
  indexField.value = String(selection.index);
  summaryField.value = String(selection.summaryExamples);
  prevButton.toggleAttribute('disabled', selection.index <= 0);
  addRunButton.hidden = columns.length !== 1;
}

// ------------------------------------------------------------------ columns

interface ColumnView {
  runId: string;
  root: HTMLElement;
  paint(): void;
}

let views: ColumnView[] = [];
/** The canvases of the current render, by column and role; the next render reuses them. */
let canvases = new Map<string, HTMLCanvasElement>();
let previousCanvases = new Map<string, HTMLCanvasElement>();
/** Aborted on each render: removes the listeners of the canvases the previous render set up. */
let renderListeners = new AbortController();

function render(): void {
  previousCanvases = canvases;
  canvases = new Map();
  renderListeners.abort();
  renderListeners = new AbortController();
  views = columns.map(buildColumn);
  previousCanvases = new Map();
  grid.classList.toggle('two', views.length > 1);
  grid.replaceChildren(...views.map((v) => v.root));
  paintAll();
}

function paintAll(): void {
  for (const view of views) view.paint();
}

function setHover(token: number | undefined): void {
  if (token === hoverToken) return;
  hoverToken = token;
  paintAll();
}

function isMultiHead(column: AttentionColumn): boolean {
  return column.model === 'multi-head-attention';
}

function buildColumn(column: AttentionColumn): ColumnView {
  const example = examples.get(column.runId);
  const summary = summaries.get(column.runId);
  const pending = busy.get(column.runId) ?? new Set<string>();
  const root = el('article', { class: 'column', 'data-testid': `column-${column.runId}`, 'data-model': column.model, 'data-step': String(column.step ?? '') });
  const painters: Array<() => void> = [];

  // Header: run, model, checkpoint scrubber.
  const remove = columns.length > 1 ? iconButton('close', `Remove ${column.runName} from the panel`, () => host.notify('removeRun', { runId: column.runId })) : '';
  root.append(
    el('div', { class: 'column-head' },
      el('h2', { title: column.runId }, column.runName),
      stateBadge(column.state),
      remove),
    el('div', { class: 'model-detail' }, `${column.model}: ${column.modelDetail}`),
    learnedLine(column.learned),
    scrubber(column),
  );
  const problem = column.problem ?? problems.get(column.runId);
  if (problem) {
    root.append(el('div', { class: 'message error' }, el('span', { class: 'codicon codicon-error', 'aria-hidden': 'true' }), el('span', {}, problem)));
  }
  if (!example) {
    if (!column.problem) root.append(el('p', { class: 'muted' }, pending.size > 0 || column.step !== undefined ? 'Computing…' : 'Loading the checkpoint…'));
    return { runId: column.runId, root, paint: () => {} };
  }

  // Search maps.
  const what = isMultiHead(column) ? 'head' : 'search';
  root.append(sectionTitle(`Search maps: which key token each query token attends to (${isMultiHead(column) ? 'one per head' : 'one per search'})`));
  const maps = el('div', { class: 'maps' });
  example.searchMaps.forEach((map, s) => {
    const canvas = canvasFor(`${column.runId}:searchmap:${s}`, {
      class: 'heatmap', tabindex: '0', 'data-testid': `searchmap-${column.runId}-${s}`,
      'data-argmax': JSON.stringify(example.keyArgmax.map((keys) => keys[s])),
      'aria-label': `${what} ${s}: attention map of ${example.tokens} query tokens over ${example.tokens} key tokens`,
    });
    maps.append(el('figure', {}, el('figcaption', {}, `${what} ${s}`), canvas));
    painters.push(interactive(canvas, example.tokens, (hover) => ({
      rows: example.tokens, cols: example.tokens, cell: MAP_CELL,
      value: (r, c) => map[r][c],
      rowLabels: range(example.tokens).map(String), colLabels: range(example.tokens).map(String),
      rowTitle: 'query token', colTitle: 'key token',
      highlightRow: hover,
      markers: hover === undefined ? [] : [
        { row: hover, col: example.keyArgmax[hover][s], kind: 'ring' },
        ...(example.truth?.searched[hover] ?? []).map((col): Marker => ({ row: hover, col, kind: 'cross' })),
      ],
    }), (cell) => cell.row));
  });
  root.append(maps);

  // Retrieval selection per token, above the ground truth.
  root.append(sectionTitle(isMultiHead(column)
    ? 'Retrieval selection per token: fixed pairing (head h always retrieves with value block h)'
    : 'Retrieval selection per token: probability that search s uses retrieval r'));
  const selectionCanvas = canvasFor(`${column.runId}:selection`, {
    class: 'heatmap', tabindex: '0',
    'aria-label': `retrieval selection: ${example.searches} searches x ${example.retrievals} retrievals for each of ${example.tokens} tokens`,
  });
  const selectionBlock = el('div', {
    class: 'selection',
    'data-testid': `selection-${column.runId}`,
    'data-tokens': String(example.tokens),
    'data-searches': String(example.searches),
    'data-retrievals': String(example.retrievals),
    'data-argmax': JSON.stringify(example.retrievalArgmax),
    'data-truth-retrieved': JSON.stringify(example.truth?.retrieved ?? null),
    'data-example': String(example.index),
    'data-split': example.split,
    'data-step': String(example.step),
  }, selectionCanvas);
  painters.push(interactive(selectionCanvas, example.tokens, (hover) => ({
    rows: example.searches * example.retrievals, cols: example.tokens, cell: SELECTION_CELL,
    value: (row, token) => example.selection[token][Math.floor(row / example.retrievals)][row % example.retrievals],
    rowLabels: range(example.searches * example.retrievals).map((row) => `${what[0]}${Math.floor(row / example.retrievals)} · r${row % example.retrievals}`),
    colLabels: range(example.tokens).map(String),
    rowTitle: `${what} · retrieval`, colTitle: 'token',
    groupEvery: example.retrievals,
    highlightCol: hover,
    markers: hover === undefined ? [] : example.retrievalArgmax[hover].map((r, s): Marker => ({ row: s * example.retrievals + r, col: hover, kind: 'ring' })),
  }), (cell) => cell.col));
  if (example.truth) {
    const truth = example.truth;
    const truthCanvas = canvasFor(`${column.runId}:truth`, {
      class: 'heatmap', tabindex: '0', 'data-testid': `truth-${column.runId}`,
      'aria-label': `ground truth: the retrieval the context asks each of ${example.truthSearches} ground-truth searches for`,
    });
    selectionBlock.append(
      el('div', { class: 'caption' }, 'Ground truth: the retrieval the context asks each ground-truth search for (the task\'s order, not the model\'s)'),
      truthCanvas);
    painters.push(interactive(truthCanvas, example.tokens, (hover) => ({
      rows: example.truthSearches * example.truthRetrievals, cols: example.tokens, cell: SELECTION_CELL,
      value: (row, token) => (truth.retrieved[token][Math.floor(row / example.truthRetrievals)] === row % example.truthRetrievals ? 1 : 0),
      rowLabels: range(example.truthSearches * example.truthRetrievals).map((row) => `g${Math.floor(row / example.truthRetrievals)} · r*${row % example.truthRetrievals}`),
      colLabels: range(example.tokens).map(String),
      rowTitle: 'truth · retrieval', colTitle: 'token',
      groupEvery: example.truthRetrievals,
      highlightCol: hover,
    }), (cell) => cell.col));
  }
  root.append(selectionBlock);

  // What the hovered token searched and retrieved, in words.
  const readout = el('div', { class: 'readout', 'data-testid': `readout-${column.runId}`, 'aria-live': 'polite' });
  painters.push(() => readout.replaceChildren(...describeToken(example, hoverToken, what)));
  root.append(readout);

  // Summary over many examples.
  root.append(sectionTitle(`Summary over ${selection.summaryExamples} examples of split '${selection.split}': mean selection per context`));
  if (!summary) {
    root.append(el('p', { class: 'muted' }, pending.has('summary') ? 'Computing the summary in the worker…' : 'No summary yet.'));
  } else {
    root.append(buildSummary(column, summary, example, what, painters));
  }

  return { runId: column.runId, root, paint: () => paintEach(column.runId, painters) };
}

/** One drawing that fails must not blank the rest of the panel; it says what went wrong. */
function paintEach(runId: string, painters: Array<() => void>): void {
  for (const paint of painters) {
    try {
      paint();
    } catch (error) {
      console.error(error);
      if (!problems.has(runId)) {
        problems.set(runId, `Could not draw part of this column: ${errorMessage(error)}`);
        queueMicrotask(render);
      }
    }
  }
}

function buildSummary(column: AttentionColumn, summary: SelectionSummary, example: AttentionExample, what: string, painters: Array<() => void>): HTMLElement {
  const block = el('div', {
    class: 'summary', 'data-testid': `summary-${column.runId}`,
    'data-examples': String(summary.examples), 'data-tokens': String(summary.tokens),
    'data-information': JSON.stringify(summary.information), 'data-matched': JSON.stringify(summary.matchedTruthSearch),
  });
  block.append(el('p', { class: 'caption' },
    `Rows: the retrieval r* the context asks of the ground-truth search this ${what} matches best; columns: the model's retrieval r; `
    + `cells: mean probability over the ${summary.tokens} tokens. A selection that follows the context lights a different column in each row; `
    + `a fixed pairing lights one column in every row. Hatched rows: contexts this split never asks for (the held-out split keeps only some combinations); (n): tokens per row.`));
  const figures = el('div', { class: 'maps' });
  for (let s = 0; s < summary.searches; s++) {
    const g = summary.matchedTruthSearch[s];
    const canvas = canvasFor(`${column.runId}:summary:${s}`, { class: 'heatmap', 'aria-label': `${what} ${s}: mean selection per ground-truth retrieval of g${g}` });
    const agreement = summary.searchAgreement[s].map((a, gi) => `g${gi}: ${Math.round(100 * a)}%`).join(', ');
    figures.append(el('figure', {},
      el('figcaption', { title: `Share of tokens where ${what} ${s} attends most to the token each ground-truth search finds: ${agreement}` },
        `${what} ${s} ≈ g${g} (finds its token for ${Math.round(100 * summary.searchAgreement[s][g])}% of tokens)`),
      canvas,
      el('div', { class: 'caption' },
        `I(context; chosen retrieval) = ${summary.information[s][g].toFixed(2)} of ${bits(summary.maxInformation)}`)));
    painters.push(() => {
      const hoverWanted = hoverToken !== undefined ? example.truth?.retrieved[hoverToken]?.[g] : undefined;
      drawHeatmap(canvas, {
        rows: summary.truthRetrievals, cols: summary.retrievals, cell: SUMMARY_CELL, cellText: true,
        value: (r, c) => summary.meanSelection[s][g][r][c] ?? Number.NaN, // null: no token had this context
        rowLabels: range(summary.truthRetrievals).map((r) => `r*${r} (${summary.counts[g][r]})`),
        colLabels: range(summary.retrievals).map((r) => `r${r}`),
        rowTitle: `context asks g${g}`, colTitle: 'model retrieval',
        highlightRow: hoverWanted,
      }, theme);
    });
  }
  block.append(figures);
  return block;
}

/** "2 bits", "1 bit", "1.58 bits". */
function bits(value: number): string {
  const text = Number.isInteger(value) ? String(value) : value.toFixed(2);
  return `${text} bit${value === 1 ? '' : 's'}`;
}

function describeToken(example: AttentionExample, token: number | undefined, what: string): Node[] {
  if (token === undefined || token >= example.tokens) {
    return [el('span', { class: 'muted' }, `Hover a token to read what it searched and retrieved (example ${example.index} of '${example.split}', checkpoint step ${example.step}).`)];
  }
  const target = example.targets ? ` · target ${example.targets[token].toFixed(3)}` : '';
  const lines: Node[] = [el('div', { class: 'readout-title' }, `token ${token}${target} · output ${example.output[token].toFixed(3)}`)];
  for (let s = 0; s < example.searches; s++) {
    const key = example.keyArgmax[token][s];
    const r = example.retrievalArgmax[token][s];
    lines.push(el('div', {}, `${what} ${s} attends most to token ${key} (p ${example.searchMaps[s][token][key].toFixed(2)}), retrieves with r${r} (p ${example.selection[token][s][r].toFixed(2)})`));
  }
  if (example.truth) {
    const { searched, retrieved } = example.truth;
    lines.push(el('div', { class: 'truth-line' }, 'truth: ' + searched[token].map((j, g) => `g${g} finds token ${j}, context asks r*${retrieved[token][g]}`).join(' · ')));
  }
  return lines;
}

/**
 * The canvas `key` (run and role) of the previous render with these attributes, or a new one.
 * A new canvas allocates its backing store when first drawn (about 40 ms for a 64x64 search map
 * in headless Chromium), on every example; one redrawn at the same size keeps it. Each key is
 * always given the same attribute names, so setting them replaces every old value.
 */
function canvasFor(key: string, attributes: Record<string, string>): HTMLCanvasElement {
  const canvas = previousCanvases.get(key) ?? <HTMLCanvasElement>el('canvas');
  for (const [name, value] of Object.entries(attributes)) canvas.setAttribute(name, value);
  canvases.set(key, canvas);
  return canvas;
}

/** A canvas drawn by `spec(hoverToken)`, whose cells set the hovered token through `tokenOf`. */
function interactive(
  canvas: HTMLCanvasElement,
  tokens: number,
  spec: (hover: number | undefined) => HeatmapSpec,
  tokenOf: (cell: { row: number; col: number }) => number,
): () => void {
  let layout: HeatmapLayout | undefined;
  const { signal } = renderListeners;
  canvas.addEventListener('mousemove', (event) => {
    const cell = layout && cellAt(layout, canvas, event);
    setHover(cell ? tokenOf(cell) : undefined);
  }, { signal });
  canvas.addEventListener('mouseleave', () => setHover(undefined), { signal });
  canvas.addEventListener('keydown', (event) => {
    if (event.key !== 'ArrowLeft' && event.key !== 'ArrowRight' && event.key !== 'ArrowUp' && event.key !== 'ArrowDown') return;
    event.preventDefault();
    const step = event.key === 'ArrowLeft' || event.key === 'ArrowUp' ? -1 : 1;
    setHover(hoverToken === undefined ? 0 : (hoverToken + step + tokens) % tokens);
  }, { signal });
  return () => {
    layout = drawHeatmap(canvas, spec(hoverToken), theme);
  };
}

function scrubber(column: AttentionColumn): HTMLElement {
  const row = el('div', { class: 'scrubber' });
  if (column.steps.length === 0) {
    row.append(el('span', { class: 'muted' }, 'No checkpoint saved yet.'));
    return row;
  }
  const at = Math.max(0, column.steps.indexOf(column.step ?? column.steps[column.steps.length - 1]));
  const range = <HTMLInputElement>el('input', {
    type: 'range', min: '0', max: String(column.steps.length - 1), step: '1',
    'aria-label': `Checkpoint of ${column.runName}`, 'data-testid': `scrubber-${column.runId}`,
  });
  range.value = String(at);
  range.disabled = column.steps.length < 2;
  const label = el('span', { class: 'step-label' }, stepText(column, at));
  range.addEventListener('input', () => (label.textContent = stepText(column, Number(range.value))));
  range.addEventListener('change', () => host.notify('loadStep', { runId: column.runId, step: column.steps[Number(range.value)] }));
  row.append(el('span', {}, 'Checkpoint'), range, label);
  return row;
}

function stepText(column: AttentionColumn, at: number): string {
  const shown = column.steps[at];
  const loaded = column.step === shown ? '' : ' (release to load)';
  return `step ${shown}${loaded} · ${at + 1} of ${column.steps.length} saved (${column.steps[0]}–${column.steps[column.steps.length - 1]})`;
}

function sectionTitle(text: string): HTMLElement {
  return el('h3', {}, text);
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

// ------------------------------------------------------------------ messages

onThemeChange(() => {
  theme = readThemeColors();
  paintAll();
});

host.onNotification('state', (message) => {
  columns = message.columns;
  splits = message.splits;
  selection = message.selection;
  for (const id of [...examples.keys()]) if (!columns.some((c) => c.runId === id)) examples.delete(id);
  for (const id of [...summaries.keys()]) if (!columns.some((c) => c.runId === id)) summaries.delete(id);
  messages.replaceChildren();
  persist();
  syncControls();
  render();
});
host.onNotification('column', (message) => {
  const at = columns.findIndex((c) => c.runId === message.column.runId);
  if (at < 0) return;
  const stepChanged = columns[at].step !== message.column.step;
  columns[at] = message.column;
  if (stepChanged) summaries.delete(message.column.runId);
  if (!message.column.problem) problems.delete(message.column.runId);
  render();
});
host.onNotification('busy', (message) => {
  (busy.get(message.runId) ?? busy.set(message.runId, new Set()).get(message.runId)!).add(message.what);
});
host.onNotification('example', (message) => {
  busy.get(message.runId)?.delete('example');
  problems.delete(message.runId);
  examples.set(message.runId, message.example);
  render();
});
host.onNotification('summary', (message) => {
  busy.get(message.runId)?.delete('summary');
  summaries.set(message.runId, message.summary);
  render();
});
host.onNotification('error', (message) => {
  if (message.runId) {
    busy.get(message.runId)?.clear();
    problems.set(message.runId, message.message);
    render();
  } else {
    messages.append(el('div', { class: 'message error' }, el('span', { class: 'codicon codicon-error', 'aria-hidden': 'true' }), el('span', {}, message.message)));
  }
});
host.notify('ready', {});

/** The saved run ids and selection; anything else (old or broken state) is left out. */
function loadPanelState(): AttentionPanelState {
  const saved = savedState<AttentionPanelState>();
  return { runIds: Array.isArray(saved?.runIds) ? saved.runIds : [], ...(saved?.selection ? { selection: saved.selection } : {}) };
}
