/**
 * The posterior of theta as a corner plot: marginal histograms on the diagonal, pairwise scatter of
 * the network's samples below it, the exact posterior (where known) as density curves and 1σ / 2σ
 * contours, and the theta that simulated the data as a cross.
 */
import type { PosteriorPanelResult } from '../../src/protocol/posterior';
import type { ThemeColors } from '../common/theme';
import { withAlpha } from '../common/theme';
import {
  clipTo,
  densityHistogram,
  drawAxes,
  drawCross,
  normalDensity,
  prepareCanvas,
  rangeOf,
  strokeEllipse,
  toPx,
  type Frame,
  type Range,
} from './canvas';
import type { PanelColors } from './colors';
import { columnsOf } from './columns';
import { drawScatter } from './scatter';

/** Dimensions shown at most (a corner plot of more is unreadable at panel size). */
export const MAX_PAIR_DIMS = 4;
const BINS = 30;

export interface PairPlotInput {
  result: PosteriorPanelResult;
  names: string[];
  /** The theta the example was simulated from (undefined: not shown). */
  trueTheta?: number[];
  /** Reference samples (HMC) [n][P] drawn beside the network's, when computed. */
  reference?: number[][];
  /** Per shown dimension; computed from the result when missing. */
  ranges?: Range[];
}

/** Ranges that fit the network's samples, the exact posterior (±4 sd) and the true theta. */
export function pairRanges(input: PairPlotInput): Range[] {
  const { result, trueTheta } = input;
  const dims = Math.min(MAX_PAIR_DIMS, result.network.mean.length);
  return Array.from({ length: dims }, (_, i) => {
    const extra: number[] = [];
    if (result.exact) extra.push(result.exact.mean[i] - 4 * result.exact.std[i], result.exact.mean[i] + 4 * result.exact.std[i]);
    if (trueTheta) extra.push(trueTheta[i]);
    if (input.reference) extra.push(...input.reference.map((s) => s[i]));
    return rangeOf(columnsOf(result.samples)[i], extra);
  });
}

export function drawPairPlot(canvas: HTMLCanvasElement, input: PairPlotInput, theme: ThemeColors, colors: PanelColors): void {
  const { result, names } = input;
  const dims = Math.min(MAX_PAIR_DIMS, result.network.mean.length);
  const ranges = input.ranges ?? pairRanges(input);
  const width = Math.max(120, canvas.clientWidth);
  const margin = { left: 52, bottom: 40, top: 8, right: 8 };
  const gap = 10;
  const cell = Math.max(40, (width - margin.left - margin.right - gap * (dims - 1)) / dims);
  const height = margin.top + margin.bottom + dims * cell + gap * (dims - 1);
  const { ctx } = prepareCanvas(canvas, height);
  const frameOf = (row: number, col: number, y: Range): Frame => ({
    left: margin.left + col * (cell + gap),
    top: margin.top + row * (cell + gap),
    width: cell,
    height: cell,
    x: ranges[col],
    y,
  });

  for (let row = 0; row < dims; row++) {
    for (let col = 0; col <= row; col++) {
      const axes = {
        xLabel: row === dims - 1 ? names[col] : undefined,
        yLabel: col === 0 ? (row === col ? 'density' : names[row]) : undefined,
        xTicks: row === dims - 1,
        yTicks: col === 0 && row !== col,
        tickCount: dims > 2 ? 3 : 5,
      };
      if (row === col) drawMarginal(ctx, frameOf(row, col, [0, 1]), row, input, theme, colors, axes);
      else drawPair(ctx, frameOf(row, col, ranges[row]), row, col, input, theme, colors, axes);
    }
  }
}

type AxesOptions = Parameters<typeof drawAxes>[3];

function drawMarginal(
  ctx: CanvasRenderingContext2D, frame: Frame, i: number, input: PairPlotInput,
  theme: ThemeColors, colors: PanelColors, axes: AxesOptions,
): void {
  const { result, trueTheta } = input;
  const density = densityHistogram(columnsOf(result.samples)[i], frame.x, BINS);
  const exact = result.exact ? { mean: result.exact.mean[i], sd: result.exact.std[i] } : undefined;
  const exactPeak = exact ? normalDensity(exact.mean, exact.mean, exact.sd) : 0;
  const referenceDensity = input.reference ? densityHistogram(columnsOf(input.reference)[i], frame.x, BINS) : [];
  const f: Frame = { ...frame, y: [0, 1.1 * Math.max(...density, ...referenceDensity, exactPeak, 1e-9)] };
  drawAxes(ctx, f, theme, { ...axes, yTicks: false });
  clipTo(ctx, f);
  const binWidth = (f.x[1] - f.x[0]) / BINS;
  ctx.fillStyle = withAlpha(colors.network, 0.35);
  ctx.strokeStyle = colors.network;
  ctx.lineWidth = 1;
  density.forEach((d, b) => {
    const [x0, y0] = toPx(f, f.x[0] + b * binWidth, d);
    const [x1, y1] = toPx(f, f.x[0] + (b + 1) * binWidth, 0);
    ctx.fillRect(x0, y0, x1 - x0, y1 - y0);
  });
  if (referenceDensity.length) {
    // The reference histogram as a step outline over the network's filled one.
    ctx.strokeStyle = colors.exact;
    ctx.lineWidth = 2;
    ctx.beginPath();
    referenceDensity.forEach((d, b) => {
      const [x0, y] = toPx(f, f.x[0] + b * binWidth, d);
      const [x1] = toPx(f, f.x[0] + (b + 1) * binWidth, d);
      if (b === 0) ctx.moveTo(x0, toPx(f, f.x[0], 0)[1]);
      ctx.lineTo(x0, y);
      ctx.lineTo(x1, y);
    });
    ctx.lineTo(toPx(f, f.x[1], 0)[0], toPx(f, f.x[1], 0)[1]);
    ctx.stroke();
  }
  if (exact) {
    ctx.strokeStyle = colors.exact;
    ctx.lineWidth = 2;
    ctx.beginPath();
    for (let k = 0; k <= 120; k++) {
      const x = f.x[0] + ((f.x[1] - f.x[0]) * k) / 120;
      const [px, py] = toPx(f, x, normalDensity(x, exact.mean, exact.sd));
      if (k === 0) ctx.moveTo(px, py);
      else ctx.lineTo(px, py);
    }
    ctx.stroke();
  }
  const vertical = (x: number, color: string, dash: number[]) => {
    const [px] = toPx(f, x, 0);
    ctx.strokeStyle = color;
    ctx.lineWidth = 1.5;
    ctx.setLineDash(dash);
    ctx.beginPath();
    ctx.moveTo(px, f.top);
    ctx.lineTo(px, f.top + f.height);
    ctx.stroke();
    ctx.setLineDash([]);
  };
  if (trueTheta) vertical(trueTheta[i], colors.truth, [2, 3]);
  vertical(result.network.mean[i], colors.network, []);
  if (exact) vertical(exact.mean, colors.exact, [6, 3]);
  ctx.restore();
}

function drawPair(
  ctx: CanvasRenderingContext2D, f: Frame, row: number, col: number, input: PairPlotInput,
  theme: ThemeColors, colors: PanelColors, axes: AxesOptions,
): void {
  const { result, trueTheta } = input;
  drawAxes(ctx, f, theme, axes);
  clipTo(ctx, f);
  const network = columnsOf(result.samples);
  drawScatter(ctx, f, network[col], network[row], { color: colors.network, alpha: 0.45, size: 2.5 });
  if (input.reference) {
    const reference = columnsOf(input.reference);
    drawScatter(ctx, f, reference[col], reference[row], { color: colors.exact, alpha: 0.6, size: 2 });
  }
  if (result.exact) {
    const { mean, covariance } = result.exact;
    ctx.strokeStyle = colors.exact;
    ctx.lineWidth = 2;
    const cov: [number, number, number] = [covariance[col][col], covariance[col][row], covariance[row][row]];
    strokeEllipse(ctx, f, [mean[col], mean[row]], cov, 1);
    ctx.setLineDash([6, 3]);
    strokeEllipse(ctx, f, [mean[col], mean[row]], cov, 2);
    ctx.setLineDash([]);
  }
  if (trueTheta) {
    ctx.strokeStyle = colors.truth;
    ctx.lineWidth = 2;
    const [px, py] = toPx(f, trueTheta[col], trueTheta[row]);
    drawCross(ctx, px, py, 5);
  }
  ctx.restore();
}
