/**
 * Draws the HParams view's two plots as SVG (a few hundred runs at most: one element per run
 * keeps hover, a tooltip naming the run and test hooks simple; uPlot draws series over a shared
 * x, not one point per run): the metric against one hyperparameter, and parallel coordinates
 * over several hyperparameters and the metric. Colour follows the metric (low: the theme's
 * first chart colour, high: its second); selected runs are drawn thicker. Geometry comes from
 * ./hparams.ts.
 */
import { parallelLines, scatterPoints, type Axis } from './hparams';
import type { TableRow } from './tableModel';
import { rgbOf, type ThemeColors } from '../common/theme';

const SVG = 'http://www.w3.org/2000/svg';
const MARGIN = { top: 16, right: 24, bottom: 44, left: 64 };
/** Axis ends sit this fraction of the plot inside its edges: points at an extreme stay whole. */
const INSET = 0.05;
const inset = (t: number): number => INSET + t * (1 - 2 * INSET);

export interface PlotContext {
  theme: ThemeColors;
  width: number;
  height: number;
  /** The run's display name and its values, for the tooltip and the readout. */
  describe(row: TableRow): string;
  selected: ReadonlySet<string>;
  /** Hover: the run under the pointer (undefined when it leaves). */
  onHover(row: TableRow | undefined): void;
}

function svgEl(tag: string, attributes: Record<string, string | number> = {}, ...children: (SVGElement | string)[]): SVGElement {
  const element = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  element.append(...children);
  return element;
}

/** A colour between the theme's first and second chart colours, by `t` in [0, 1]. */
function metricColor(theme: ThemeColors, t: number): string {
  const low = rgbOf(theme.series[0]);
  const high = rgbOf(theme.series[1]);
  const mix = low.map((c, i) => Math.round(c + (high[i] - c) * t));
  return `rgb(${mix.join(', ')})`;
}

function hoverable(element: SVGElement, row: TableRow, context: PlotContext): SVGElement {
  element.append(svgEl('title', {}, context.describe(row)));
  element.addEventListener('mouseenter', () => context.onHover(row));
  element.addEventListener('mouseleave', () => context.onHover(undefined));
  return element;
}

/** The metric (y) against one hyperparameter (x), one point per run. */
export function drawScatter(rows: readonly TableRow[], x: Axis, y: Axis, context: PlotContext): { svg: SVGElement; omitted: number } {
  const { theme, width, height } = context;
  const plotW = Math.max(40, width - MARGIN.left - MARGIN.right);
  const plotH = Math.max(40, height - MARGIN.top - MARGIN.bottom);
  const px = (t: number) => MARGIN.left + inset(t) * plotW;
  const py = (t: number) => MARGIN.top + (1 - inset(t)) * plotH;
  const svg = svgEl('svg', { width, height, role: 'img', 'aria-label': `${y.label} against ${x.label}, one point per run`, 'data-testid': 'hparams-scatter' });
  const grid = svgEl('g', { stroke: theme.grid });
  const labels = svgEl('g', { fill: theme.muted, 'font-size': theme.fontSize - 2, 'font-family': theme.fontFamily });
  for (const tick of x.ticks) {
    grid.append(svgEl('line', { x1: px(tick.at), x2: px(tick.at), y1: MARGIN.top, y2: MARGIN.top + plotH }));
    labels.append(svgEl('text', { x: px(tick.at), y: MARGIN.top + plotH + 14, 'text-anchor': 'middle' }, tick.label));
  }
  for (const tick of y.ticks) {
    grid.append(svgEl('line', { x1: MARGIN.left, x2: MARGIN.left + plotW, y1: py(tick.at), y2: py(tick.at) }));
    labels.append(svgEl('text', { x: MARGIN.left - 6, y: py(tick.at) + 4, 'text-anchor': 'end' }, tick.label));
  }
  labels.append(
    svgEl('text', { x: MARGIN.left + plotW / 2, y: height - 6, 'text-anchor': 'middle', fill: theme.foreground, 'data-testid': 'scatter-x-title' }, `${x.label}${x.kind === 'log' ? ' (log)' : ''}`),
    svgEl('text', { x: 12, y: MARGIN.top + plotH / 2, 'text-anchor': 'middle', fill: theme.foreground, transform: `rotate(-90 12 ${MARGIN.top + plotH / 2})`, 'data-testid': 'scatter-y-title' }, y.label),
  );
  const { points, omitted } = scatterPoints(rows, x, y);
  const byId = new Map(rows.map((row) => [row.id, row]));
  const dots = svgEl('g');
  for (const point of points) {
    const selected = context.selected.has(point.runId);
    const dot = svgEl('circle', {
      cx: px(point.x), cy: py(point.y), r: selected ? 6 : 4.5,
      fill: metricColor(theme, point.y), stroke: selected ? theme.foreground : theme.background, 'stroke-width': selected ? 2 : 1,
      class: 'hp-point', 'data-testid': `scatter-point-${point.runId}`, tabindex: 0,
    });
    dots.append(hoverable(dot, byId.get(point.runId)!, context));
  }
  svg.append(grid, labels, dots);
  return { svg, omitted };
}

/** One vertical axis per column (the metric last), one polyline per run. */
export function drawParallel(rows: readonly TableRow[], axes: readonly Axis[], context: PlotContext): { svg: SVGElement; omitted: number } {
  const { theme, width, height } = context;
  const plotW = Math.max(40, width - MARGIN.left - MARGIN.right);
  const plotH = Math.max(40, height - MARGIN.top - MARGIN.bottom);
  const ax = (i: number) => MARGIN.left + (axes.length === 1 ? plotW / 2 : (i / (axes.length - 1)) * plotW);
  const py = (t: number) => MARGIN.top + (1 - inset(t)) * plotH;
  const svg = svgEl('svg', { width, height, role: 'img', 'aria-label': `Parallel coordinates over ${axes.map((a) => a.label).join(', ')}`, 'data-testid': 'hparams-parallel' });
  const { lines, omitted } = parallelLines(rows, axes);
  const byId = new Map(rows.map((row) => [row.id, row]));
  const paths = svgEl('g', { fill: 'none' });
  // Selected runs last: drawn on top.
  const ordered = [...lines].sort((a, b) => Number(context.selected.has(a.runId)) - Number(context.selected.has(b.runId)));
  for (const line of ordered) {
    const selected = context.selected.has(line.runId);
    const d = line.positions.map((t, i) => `${i === 0 ? 'M' : 'L'}${ax(i).toFixed(1)},${py(t).toFixed(1)}`).join(' ');
    const path = svgEl('path', {
      d, stroke: metricColor(theme, line.positions[line.positions.length - 1]), 'stroke-width': selected ? 3.5 : 1.8,
      'stroke-opacity': selected ? 1 : 0.8, class: 'hp-line', 'data-testid': `parallel-line-${line.runId}`,
    });
    paths.append(hoverable(path, byId.get(line.runId)!, context));
  }
  const axisGroup = svgEl('g', { 'font-size': theme.fontSize - 2, 'font-family': theme.fontFamily });
  axes.forEach((axis, i) => {
    const x = ax(i);
    // Tick labels right of each axis, left of the last one (the plot's right edge).
    const last = i === axes.length - 1 && axes.length > 1;
    axisGroup.append(svgEl('line', { x1: x, x2: x, y1: MARGIN.top, y2: MARGIN.top + plotH, stroke: theme.muted }));
    for (const tick of axis.ticks) {
      axisGroup.append(
        svgEl('line', { x1: x - 3, x2: x + 3, y1: py(tick.at), y2: py(tick.at), stroke: theme.muted }),
        svgEl('text', { x: last ? x - 5 : x + 5, y: py(tick.at) + 4, fill: theme.muted, 'text-anchor': last ? 'end' : 'start' }, tick.label),
      );
    }
    const anchor = i === 0 ? 'start' : i === axes.length - 1 ? 'end' : 'middle';
    axisGroup.append(svgEl('text', { x, y: height - 20, 'text-anchor': anchor, fill: theme.foreground, 'data-testid': `parallel-axis-${axis.column}` },
      `${axis.label}${axis.kind === 'log' ? ' (log)' : ''}`));
  });
  svg.append(paths, axisGroup);
  return { svg, omitted };
}
