/**
 * The Sampler panel's main picture: the target's log-density over two coordinates (shaded, with
 * contour lines), the sampler's samples on it, the replay buffer's samples when local search is
 * on, the mixture's modes, and the trajectories from the start point x_0 up to time index `time`
 * (the animation moves `time` from 0 to T).
 *
 * The modes drawn are the target's, or the edited ones (TargetEditor), the selected one circled.
 *
 * Test hooks on the canvas: data-samples, data-buffer, data-trajectories, data-time, data-steps,
 * and where the plot is: data-frame (left, top, width, height in CSS pixels), data-x-range, data-y-range.
 */
import type { SampleMatrix, SamplerLandscape, SamplerSamples, SamplerTargetInfo } from '../../src/protocol/sampler';
import { clipTo, drawAxes, drawCross, prepareCanvas, toPx, type Frame } from '../posterior/canvas';
import { rgbOf, withAlpha, type ThemeColors } from '../common/theme';
import { contourLevels, contourSegments } from './contours';

export interface LandscapeInput {
  target: SamplerTargetInfo;
  landscape?: SamplerLandscape;
  result?: SamplerSamples;
  /** The plotted coordinates. */
  dims: [number, number];
  /** Trajectory time index shown (0..T); T shows the finished paths. */
  time: number;
  /** While the animation plays, the final samples give way to the moving trajectory heads. */
  playing: boolean;
  showBuffer: boolean;
  /** The modes to draw instead of the target's (an edit); the selected one is circled. */
  modes?: number[][];
  selectedMode?: number;
}

export interface LandscapeColors {
  density: string;
  samples: string;
  buffer: string;
  trajectories: string;
  modes: string;
}

export const landscapeColors = (theme: ThemeColors): LandscapeColors => ({
  density: theme.series[1],
  samples: theme.series[0],
  buffer: theme.series[2],
  trajectories: theme.series[3],
  modes: theme.foreground,
});

const CONTOUR_LEVELS = 5;
/** log R drops by this much over the drawn levels: the top of a mixture's landscape, not its tails. */
const CONTOUR_DEPTH = 8;

/** The box shown: the landscape's, else the target's range over the two coordinates. */
export function plotRange(input: Pick<LandscapeInput, 'target' | 'landscape' | 'dims'>): [[number, number], [number, number]] {
  if (input.landscape) return input.landscape.range;
  return [input.target.range[input.dims[0]], input.target.range[input.dims[1]]];
}

/** Draws the picture; returns where the plot is (for the target editor's hit tests). */
export function drawLandscape(canvas: HTMLCanvasElement, input: LandscapeInput, theme: ThemeColors, colors: LandscapeColors): Frame {
  const width = Math.max(240, canvas.clientWidth);
  const height = Math.min(640, Math.max(240, Math.round(width * 0.8)));
  const { ctx } = prepareCanvas(canvas, height);
  const [xRange, yRange] = plotRange(input);
  // Equal units on both axes (distances between modes look like distances), centred.
  const room = { left: 46, top: 8, width: width - 46 - 10, height: height - 8 - 38 };
  const scale = Math.min(room.width / (xRange[1] - xRange[0]), room.height / (yRange[1] - yRange[0]));
  const frame: Frame = {
    left: room.left + (room.width - (xRange[1] - xRange[0]) * scale) / 2,
    top: room.top + (room.height - (yRange[1] - yRange[0]) * scale) / 2,
    width: (xRange[1] - xRange[0]) * scale,
    height: (yRange[1] - yRange[0]) * scale,
    x: xRange,
    y: yRange,
  };
  const names = input.target.coordinates;
  drawAxes(ctx, frame, theme, { xLabel: names[input.dims[0]], yLabel: names[input.dims[1]] });
  clipTo(ctx, frame);
  if (input.landscape) drawDensity(ctx, frame, input.landscape, theme, colors);
  const { result } = input;
  let trajectories = 0;
  if (result) {
    const finished = !input.playing && input.time >= result.steps;
    // While the paths move, everything that is not a path steps back.
    if (input.showBuffer && result.buffer) dots(ctx, frame, result.buffer, input.dims, withAlpha(colors.buffer, finished ? 0.6 : 0.12), 2.4);
    dots(ctx, frame, result.samples, input.dims, withAlpha(colors.samples, finished ? 0.55 : 0.12), 2.4);
    if (result.trajectories) trajectories = drawTrajectories(ctx, frame, result.trajectories, result.steps, input, colors, finished);
  }
  ctx.strokeStyle = colors.modes;
  ctx.lineWidth = 1.2;
  (input.modes ?? input.target.mixture?.means ?? []).forEach((mean, k) => {
    const [px, py] = toPx(frame, mean[input.dims[0]], mean[input.dims[1]]);
    drawCross(ctx, px, py, 3.5);
    if (k === input.selectedMode) {
      ctx.beginPath();
      ctx.arc(px, py, 8, 0, 2 * Math.PI);
      ctx.stroke();
    }
  });
  ctx.restore();
  canvas.dataset.samples = String(result?.samples.count ?? 0);
  canvas.dataset.buffer = String(input.showBuffer ? (result?.buffer?.count ?? 0) : 0);
  canvas.dataset.trajectories = String(trajectories);
  canvas.dataset.time = String(input.time);
  canvas.dataset.steps = String(result?.steps ?? 0);
  canvas.dataset.frame = [frame.left, frame.top, frame.width, frame.height].join(',');
  canvas.dataset.xRange = frame.x.join(',');
  canvas.dataset.yRange = frame.y.join(',');
  return frame;
}

/** exp(log R - max) as an image in the density colour (alpha by density), then contour lines of log R. */
function drawDensity(ctx: CanvasRenderingContext2D, frame: Frame, landscape: SamplerLandscape, theme: ThemeColors, colors: LandscapeColors): void {
  const { grid, logDensity } = landscape;
  let top = -Infinity;
  for (const v of logDensity) if (Number.isFinite(v) && v > top) top = v;
  if (top === -Infinity) return;
  const image = new ImageData(grid, grid);
  const [r, g, b] = rgbOf(colors.density);
  for (let row = 0; row < grid; row++) {
    for (let a = 0; a < grid; a++) {
      const density = Math.exp(logDensity[row * grid + a] - top);
      // Image rows run top-down; grid rows bottom-up. sqrt: faint modes stay visible beside strong ones.
      const at = ((grid - 1 - row) * grid + a) * 4;
      image.data[at] = r;
      image.data[at + 1] = g;
      image.data[at + 2] = b;
      image.data[at + 3] = Number.isFinite(density) ? Math.round(150 * Math.sqrt(density)) : 0;
    }
  }
  const scratch = document.createElement('canvas');
  scratch.width = grid;
  scratch.height = grid;
  scratch.getContext('2d')!.putImageData(image, 0, 0);
  ctx.imageSmoothingEnabled = true;
  // Grid points are cell centres of the image: the image spans half a cell beyond the outer points.
  const cellW = frame.width / (grid - 1);
  const cellH = frame.height / (grid - 1);
  ctx.drawImage(scratch, frame.left - cellW / 2, frame.top - cellH / 2, frame.width + cellW, frame.height + cellH);
  ctx.strokeStyle = withAlpha(theme.foreground, theme.highContrast ? 0.8 : 0.35);
  ctx.lineWidth = 0.8;
  ctx.beginPath();
  for (const level of contourLevels(logDensity, CONTOUR_LEVELS, CONTOUR_DEPTH)) {
    for (const [a1, b1, a2, b2] of contourSegments(logDensity, grid, level)) {
      ctx.moveTo(frame.left + a1 * cellW, frame.top + frame.height - b1 * cellH);
      ctx.lineTo(frame.left + a2 * cellW, frame.top + frame.height - b2 * cellH);
    }
  }
  ctx.stroke();
}

function dots(ctx: CanvasRenderingContext2D, frame: Frame, samples: SampleMatrix, dims: [number, number], color: string, size: number): void {
  ctx.fillStyle = color;
  const { values, dim, count } = samples;
  for (let i = 0; i < count; i++) {
    const [px, py] = toPx(frame, values[i * dim + dims[0]], values[i * dim + dims[1]]);
    ctx.fillRect(px - size / 2, py - size / 2, size, size);
  }
}

/** Each path from x_0 to x_time as a line, its head as a dot; returns how many paths were drawn. */
function drawTrajectories(
  ctx: CanvasRenderingContext2D,
  frame: Frame,
  paths: SampleMatrix,
  steps: number,
  input: LandscapeInput,
  colors: LandscapeColors,
  finished: boolean,
): number {
  const points = steps + 1;
  const count = Math.floor(paths.count / points);
  const time = Math.max(0, Math.min(steps, input.time));
  const { values, dim } = paths;
  const [d0, d1] = input.dims;
  ctx.lineWidth = 1;
  ctx.strokeStyle = withAlpha(colors.trajectories, finished ? 0.35 : 0.6);
  ctx.beginPath();
  for (let k = 0; k < count; k++) {
    for (let i = 0; i <= time; i++) {
      const row = (k * points + i) * dim;
      const [px, py] = toPx(frame, values[row + d0], values[row + d1]);
      if (i === 0) ctx.moveTo(px, py);
      else ctx.lineTo(px, py);
    }
  }
  ctx.stroke();
  ctx.fillStyle = colors.trajectories;
  for (let k = 0; k < count; k++) {
    const row = (k * points + time) * dim;
    const [px, py] = toPx(frame, values[row + d0], values[row + d1]);
    ctx.beginPath();
    ctx.arc(px, py, 2.6, 0, 2 * Math.PI);
    ctx.fill();
  }
  return count;
}
