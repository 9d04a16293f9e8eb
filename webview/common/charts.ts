/**
 * One metric, several runs overlaid: a thin wrapper around uPlot (canvas, fast with long live
 * series). It also keeps test hooks in the DOM: the root carries data-testid="chart-<metric>"
 * and data-points (points of the newest run), and one hidden child per run,
 * data-testid="series-<runId>-<metric>", carries data-points, data-last (last raw value) and
 * data-first-x / data-last-x (the x of its first and last point).
 *
 * uPlot draws on a canvas, so figures export as PNG only; there is no SVG to export.
 */
import uPlot from 'uplot';
import { alignSeries, emaSmooth, type StepSeries } from '../../src/shared/series';
import { formatValue, runStyle, withAlpha, type ThemeColors } from './theme';

/**
 * A series with at most this many points in view gets a marker on each point: uPlot draws only
 * lines, so a single point (an eval metric after its first evaluation) would show nothing, and a
 * few sparse evaluations read better as marked points. Long training curves stay plain lines.
 */
export const MARKED_POINTS_MAX = 20;

export interface ChartLine extends StepSeries {
  runId: string;
  label: string;
  /** The line's metric when the chart overlays several (its test hook names it); else the chart's. */
  metric?: string;
  /** Position of the run among the shown runs: picks its colour, the same in every chart. */
  colorIndex: number;
}

export interface ChartView {
  theme: ThemeColors;
  /** EMA weight in [0, 1); above 0 the raw curve is drawn faint behind the smoothed one. */
  smoothing: number;
  logScale: boolean;
}

export class MetricChart {
  readonly root: HTMLElement;
  private readonly plotHost: HTMLElement;
  private readonly readout: HTMLElement;
  private readonly testData: HTMLElement;
  private plot: uPlot | undefined;
  private shapeKey = '';
  private lines: ChartLine[] = [];
  private zoomed = false;
  private readonly resizeObserver: ResizeObserver;
  /** Set when log scale was asked for but the data has values <= 0. */
  logUnavailable = false;
  /** Axis titles (x: what the x values measure, y: the metric names); none when undefined. */
  private axisTitles: { x: string; y: string } | undefined;

  constructor(
    readonly metric: string,
    private view: ChartView,
    private readonly height: number,
  ) {
    this.root = document.createElement('div');
    this.root.className = 'metric-chart';
    this.root.dataset.testid = `chart-${metric}`;
    this.root.dataset.points = '0';
    this.plotHost = document.createElement('div');
    this.plotHost.className = 'metric-chart-plot';
    this.plotHost.setAttribute('role', 'img');
    this.readout = document.createElement('div');
    this.readout.className = 'metric-chart-readout';
    this.testData = document.createElement('div');
    this.testData.hidden = true;
    this.root.append(this.plotHost, this.readout, this.testData);
    this.resizeObserver = new ResizeObserver(() => this.fitWidth());
    this.resizeObserver.observe(this.root);
    // Double click resets uPlot's zoom; from then on live data may move the axes again.
    this.plotHost.addEventListener('dblclick', () => (this.zoomed = false));
  }

  /** Replaces data and view; `newestRunId` is the run whose point count goes to data-points. */
  update(view: ChartView, lines: ChartLine[], newestRunId: string | undefined): void {
    this.view = view;
    this.lines = lines;
    this.updateTestData(newestRunId);
    this.render();
  }

  /** Titles both axes (drawn by uPlot; also on the root as data-x-title / data-y-title for tests). */
  setAxisTitles(titles: { x: string; y: string }): void {
    this.axisTitles = titles;
    this.root.dataset.xTitle = titles.x;
    this.root.dataset.yTitle = titles.y;
  }

  setView(view: ChartView): void {
    this.view = view;
    this.render();
  }

  /** The figure as a PNG data URL: title, plot and a legend, on the theme background. */
  toPng(title: string): string | undefined {
    const source = this.plot?.ctx.canvas;
    if (!source || !this.plot) return undefined;
    const ratio = source.width / Math.max(1, this.plot.width);
    const { theme } = this.view;
    const pad = 12 * ratio;
    const titleHeight = 24 * ratio;
    const legendHeight = 22 * ratio;
    const canvas = document.createElement('canvas');
    canvas.width = source.width + 2 * pad;
    canvas.height = source.height + titleHeight + legendHeight + 2 * pad;
    const ctx = canvas.getContext('2d');
    if (!ctx) return undefined;
    ctx.fillStyle = theme.background;
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    ctx.fillStyle = theme.foreground;
    ctx.textBaseline = 'middle';
    ctx.font = `600 ${theme.fontSize * ratio}px ${theme.fontFamily}`;
    ctx.fillText(title, pad, pad + titleHeight / 2);
    ctx.drawImage(source, pad, pad + titleHeight);
    ctx.font = `${(theme.fontSize - 1) * ratio}px ${theme.fontFamily}`;
    let x = pad;
    const y = pad + titleHeight + source.height + legendHeight / 2;
    for (const line of this.lines) {
      ctx.fillStyle = runStyle(theme, line.colorIndex).color;
      ctx.fillRect(x, y - 2 * ratio, 14 * ratio, 4 * ratio);
      x += 18 * ratio;
      ctx.fillStyle = theme.foreground;
      ctx.fillText(line.label, x, y);
      x += ctx.measureText(line.label).width + 16 * ratio;
    }
    return canvas.toDataURL('image/png');
  }

  destroy(): void {
    this.resizeObserver.disconnect();
    this.plot?.destroy();
    this.plot = undefined;
    this.root.remove();
  }

  private render(): void {
    const { smoothing, logScale } = this.view;
    const values = this.lines.flatMap((l) => l.values).filter((v) => Number.isFinite(v));
    this.logUnavailable = logScale && values.some((v) => v <= 0);
    const useLog = logScale && !this.logUnavailable;
    const key = JSON.stringify([this.lines.map((l) => [l.runId, l.label, l.colorIndex]), smoothing > 0, useLog, this.view.theme, this.axisTitles]);
    const data = this.buildData(smoothing);
    if (this.plot && key === this.shapeKey) {
      this.plot.setData(data, !this.zoomed);
    } else {
      this.plot?.destroy();
      this.zoomed = false;
      this.shapeKey = key;
      this.plot = new uPlot(this.options(smoothing > 0, useLog), data, this.plotHost);
    }
    this.plotHost.setAttribute('aria-label', this.describe());
    if (this.plot.cursor.idx == null) this.readout.textContent = this.latestText();
  }

  /** uPlot columns: steps, then per run the raw series (and its smoothed twin when smoothing). */
  private buildData(smoothing: number): uPlot.AlignedData {
    const series: StepSeries[] = [];
    for (const line of this.lines) {
      series.push(line);
      if (smoothing > 0) series.push({ steps: line.steps, values: emaSmooth(line.values, smoothing) });
    }
    const { steps, columns } = alignSeries(series);
    // uPlot cannot draw NaN or Infinity: they become gaps in the line.
    const drawable = columns.map((c) => c.map((v) => (v !== null && Number.isFinite(v) ? v : null)));
    return [steps, ...drawable];
  }

  private options(smoothed: boolean, useLog: boolean): uPlot.Options {
    const { theme } = this.view;
    const font = `${Math.max(10, theme.fontSize - 2)}px ${theme.fontFamily}`;
    const axis = (): uPlot.Axis => ({
      stroke: theme.muted,
      font,
      grid: { stroke: theme.grid, width: 1 },
      ticks: { stroke: theme.grid, width: 1 },
    });
    const series: uPlot.Series[] = [{ label: this.axisTitles?.x ?? 'step' }];
    for (const line of this.lines) {
      const { color, dash } = runStyle(theme, line.colorIndex);
      const base = { label: line.label, spanGaps: true, dash, points: { show: false } };
      if (smoothed) series.push({ ...base, stroke: withAlpha(color, 0.3), width: 1 });
      const markers: uPlot.Series.Points = { show: fewPointsInView, size: 5, width: 1, stroke: color, fill: color };
      series.push({ ...base, stroke: color, width: theme.highContrast ? 2 : 1.5, points: markers });
    }
    return {
      width: this.currentWidth(),
      height: this.height,
      series,
      legend: { show: false },
      scales: { x: { time: false }, y: useLog ? { distr: 3 } : {} },
      axes: [
        { ...axis(), ...this.axisTitle('x', font) },
        { ...axis(), size: 56, values: (_u, splits) => splits.map((v) => (v == null ? '' : formatValue(v))), ...this.axisTitle('y', font) },
      ],
      cursor: { drag: { x: true, y: false }, points: { show: false } },
      hooks: {
        setCursor: [(u) => this.updateReadout(u)],
        setSelect: [(u) => { if (u.select.width > 0) this.zoomed = true; }],
      },
    };
  }

  private axisTitle(which: 'x' | 'y', font: string): Partial<uPlot.Axis> {
    const label = this.axisTitles?.[which];
    return label ? { label, labelFont: font, labelSize: 18, labelGap: 2 } : {};
  }

  private currentWidth(): number {
    return Math.max(120, Math.floor(this.root.clientWidth || this.root.parentElement?.clientWidth || 400));
  }

  private fitWidth(): void {
    const width = this.currentWidth();
    if (this.plot && Math.abs(this.plot.width - width) > 1) this.plot.setSize({ width, height: this.height });
  }

  /** Step under the cursor and each run's value there (raw; smoothed in brackets). */
  private updateReadout(u: uPlot): void {
    const idx = u.cursor.idx;
    if (idx == null) {
      this.readout.textContent = this.latestText();
      return;
    }
    const perRun = this.view.smoothing > 0 ? 2 : 1;
    const x = u.data[0][idx];
    const parts = [`${this.axisTitles?.x ?? 'step'} ${this.axisTitles && this.axisTitles.x !== 'step' ? formatValue(x) : x}`];
    this.lines.forEach((line, i) => {
      const raw = u.data[1 + i * perRun][idx];
      if (raw == null) return;
      const smooth = perRun === 2 ? u.data[2 + i * perRun][idx] : null;
      parts.push(`${line.label}: ${formatValue(raw)}${smooth != null ? ` (${formatValue(smooth)})` : ''}`);
    });
    this.readout.textContent = parts.join('  ·  ');
  }

  /** Without a cursor, several runs are compared by their last values. */
  private latestText(): string {
    if (this.lines.length < 2) return '\u00a0';
    const parts = this.lines.flatMap((l) => {
      const n = l.steps.length;
      return n ? [`${l.label}: ${formatValue(l.values[n - 1])} @ ${l.steps[n - 1]}`] : [];
    });
    return `last  ·  ${parts.join('  ·  ')}`;
  }

  private updateTestData(newestRunId: string | undefined): void {
    const newest = this.lines.find((l) => l.runId === newestRunId);
    this.root.dataset.points = String(newest?.steps.length ?? 0);
    this.testData.replaceChildren(
      ...this.lines.map((line) => {
        const el = document.createElement('span');
        el.dataset.testid = `series-${line.runId}-${line.metric ?? this.metric}`;
        el.dataset.points = String(line.steps.length);
        if (line.values.length > 0) el.dataset.last = String(line.values[line.values.length - 1]);
        if (line.steps.length > 0) Object.assign(el.dataset, { firstX: String(line.steps[0]), lastX: String(line.steps[line.steps.length - 1]) });
        return el;
      }),
    );
  }

  private describe(): string {
    const runs = this.lines.map((l) => {
      const n = l.steps.length;
      return n === 0 ? `${l.label}: no points` : `${l.label}: ${n} points, last ${formatValue(l.values[n - 1])} at step ${l.steps[n - 1]}`;
    });
    return `${this.metric}. ${runs.join('; ')}`;
  }
}

/** uPlot's `points.show`: true when the series has at most MARKED_POINTS_MAX values in view. */
function fewPointsInView(u: uPlot, seriesIdx: number, idx0: number, idx1: number): boolean {
  const column = u.data[seriesIdx];
  let count = 0;
  for (let i = idx0; i <= idx1; i++) {
    if (column[i] != null && ++count > MARKED_POINTS_MAX) return false;
  }
  return count > 0;
}
