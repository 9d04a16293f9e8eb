/** Small canvas helpers for the Posterior panel: high-DPI sizing, axes with ticks, Gaussian ellipses, histograms. */
import { quickselect } from 'd3-array';
import type { ThemeColors } from '../common/theme';

export type Range = [number, number];

/** A plotting rectangle in CSS pixels and the data ranges it shows. */
export interface Frame {
  left: number;
  top: number;
  width: number;
  height: number;
  x: Range;
  y: Range;
}

export const toPx = (f: Frame, x: number, y: number): [number, number] => [
  f.left + ((x - f.x[0]) / (f.x[1] - f.x[0])) * f.width,
  f.top + (1 - (y - f.y[0]) / (f.y[1] - f.y[0])) * f.height,
];

export const fromPx = (f: Frame, px: number, py: number): [number, number] => [
  f.x[0] + ((px - f.left) / f.width) * (f.x[1] - f.x[0]),
  f.y[0] + (1 - (py - f.top) / f.height) * (f.y[1] - f.y[0]),
];

/** Sizes the canvas backing store to its CSS size times devicePixelRatio; returns a context in CSS pixels. */
export function prepareCanvas(canvas: HTMLCanvasElement, cssHeight: number): { ctx: CanvasRenderingContext2D; width: number; height: number } {
  const ratio = window.devicePixelRatio || 1;
  const width = Math.max(120, canvas.clientWidth);
  canvas.style.height = `${cssHeight}px`;
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(cssHeight * ratio);
  const ctx = canvas.getContext('2d')!;
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, width, cssHeight);
  return { ctx, width, height: cssHeight };
}

/** About `count` round tick values in the range. */
export function ticks([lo, hi]: Range, count = 5): number[] {
  const raw = (hi - lo) / Math.max(1, count);
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return out;
}

const tickText = (v: number) => Number(v.toPrecision(3)).toString();

export function font(theme: ThemeColors, scale = 0.85): string {
  return `${Math.round(theme.fontSize * scale)}px ${theme.fontFamily}`;
}

/** Frame border, grid lines at the ticks, tick labels on the sides asked for, axis titles. */
export function drawAxes(
  ctx: CanvasRenderingContext2D,
  f: Frame,
  theme: ThemeColors,
  options: { xLabel?: string; yLabel?: string; xTicks?: boolean; yTicks?: boolean; tickCount?: number } = {},
): void {
  const { xTicks = true, yTicks = true, tickCount = 5 } = options;
  ctx.save();
  ctx.font = font(theme, 0.8);
  ctx.lineWidth = 1;
  ctx.strokeStyle = theme.grid;
  ctx.fillStyle = theme.muted;
  for (const v of ticks(f.x, tickCount)) {
    const [px] = toPx(f, v, 0);
    ctx.beginPath();
    ctx.moveTo(px, f.top);
    ctx.lineTo(px, f.top + f.height);
    ctx.stroke();
    if (xTicks) {
      ctx.textAlign = 'center';
      ctx.textBaseline = 'top';
      ctx.fillText(tickText(v), px, f.top + f.height + 3);
    }
  }
  for (const v of ticks(f.y, tickCount)) {
    const [, py] = toPx(f, 0, v);
    ctx.beginPath();
    ctx.moveTo(f.left, py);
    ctx.lineTo(f.left + f.width, py);
    ctx.stroke();
    if (yTicks) {
      ctx.textAlign = 'right';
      ctx.textBaseline = 'middle';
      ctx.fillText(tickText(v), f.left - 4, py);
    }
  }
  ctx.strokeStyle = theme.contrastBorder || theme.muted;
  ctx.globalAlpha = theme.highContrast ? 1 : 0.6;
  ctx.strokeRect(f.left + 0.5, f.top + 0.5, f.width - 1, f.height - 1);
  ctx.globalAlpha = 1;
  ctx.fillStyle = theme.foreground;
  ctx.font = font(theme, 0.9);
  if (options.xLabel) {
    ctx.textAlign = 'center';
    ctx.textBaseline = 'top';
    ctx.fillText(options.xLabel, f.left + f.width / 2, f.top + f.height + (xTicks ? 16 : 4));
  }
  if (options.yLabel) {
    ctx.save();
    ctx.translate(f.left - (yTicks ? 30 : 6), f.top + f.height / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.textAlign = 'center';
    ctx.textBaseline = 'bottom';
    ctx.fillText(options.yLabel, 0, 0);
    ctx.restore();
  }
  ctx.restore();
}

/** Clips drawing to the frame (restore with ctx.restore()). */
export function clipTo(ctx: CanvasRenderingContext2D, f: Frame): void {
  ctx.save();
  ctx.beginPath();
  ctx.rect(f.left, f.top, f.width, f.height);
  ctx.clip();
}

/**
 * The contour of a 2-D Gaussian at Mahalanobis radius r (r = 1, 2 hold 39% and 86% of the mass):
 * mean + r L [cos t, sin t] with L the Cholesky factor of the covariance.
 */
export function strokeEllipse(ctx: CanvasRenderingContext2D, f: Frame, mean: [number, number], cov: [number, number, number], r: number): void {
  const [sxx, sxy, syy] = cov;
  const l11 = Math.sqrt(Math.max(sxx, 0));
  const l21 = l11 > 0 ? sxy / l11 : 0;
  const l22 = Math.sqrt(Math.max(syy - l21 * l21, 0));
  ctx.beginPath();
  for (let k = 0; k <= 64; k++) {
    const t = (2 * Math.PI * k) / 64;
    const [c, s] = [Math.cos(t), Math.sin(t)];
    const [px, py] = toPx(f, mean[0] + r * l11 * c, mean[1] + r * (l21 * c + l22 * s));
    if (k === 0) ctx.moveTo(px, py);
    else ctx.lineTo(px, py);
  }
  ctx.stroke();
}

export function drawCross(ctx: CanvasRenderingContext2D, px: number, py: number, size: number): void {
  ctx.beginPath();
  ctx.moveTo(px - size, py - size);
  ctx.lineTo(px + size, py + size);
  ctx.moveTo(px - size, py + size);
  ctx.lineTo(px + size, py - size);
  ctx.stroke();
}

/** Density histogram of `values` over `range` in `bins` bins (integrates to the share of values inside). */
export function densityHistogram(values: ArrayLike<number>, [lo, hi]: Range, bins: number): number[] {
  const counts = new Array<number>(bins).fill(0);
  const width = (hi - lo) / bins;
  for (let i = 0; i < values.length; i++) {
    const b = Math.floor((values[i] - lo) / width);
    if (b >= 0 && b < bins) counts[b]++;
  }
  return counts.map((c) => c / (values.length * width));
}

export const normalDensity = (x: number, mean: number, sd: number) => Math.exp(-0.5 * ((x - mean) / sd) ** 2) / (sd * Math.sqrt(2 * Math.PI));

/** A range covering the values' 1-99% span and the extra points, with a margin. */
export function rangeOf(values: ArrayLike<number>, extra: number[] = []): Range {
  const all = [...innerQuantiles(values, 0.005, 0.995), ...extra].filter(Number.isFinite);
  if (all.length === 0) return [-1, 1];
  let lo = Math.min(...all);
  let hi = Math.max(...all);
  if (hi - lo < 1e-6) [lo, hi] = [lo - 0.5, hi + 0.5];
  const pad = 0.12 * (hi - lo);
  return [lo - pad, hi + pad];
}

/** Reused by innerQuantiles: a new copy per coordinate and redraw showed up as garbage collection. */
let quantileScratch = new Float64Array(0);

/**
 * The nearest-rank quantiles lower < upper of the finite values (none if there are none), by
 * selection in one copy, not a sort: this runs per coordinate on every redraw of up to 10k samples.
 */
export function innerQuantiles(values: ArrayLike<number>, lower: number, upper: number): number[] {
  if (quantileScratch.length < values.length) quantileScratch = new Float64Array(values.length);
  const copy = quantileScratch;
  let count = 0;
  for (let i = 0; i < values.length; i++) if (Number.isFinite(values[i])) copy[count++] = values[i];
  if (count === 0) return [];
  const finite = copy.subarray(0, count);
  const [low, high] = [lower, upper].map((q) => Math.round(q * (finite.length - 1)));
  quickselect(finite, low);
  // Everything right of the lower rank is no smaller: select there, leaving the lower one in place.
  if (high > low) quickselect(finite, high, low + 1);
  return [finite[low], finite[high]];
}
