/**
 * The data plot the user edits: click to add a point, drag to move it, right-click (or Delete on
 * the selected point) to remove it, arrow keys to nudge it. It draws what the posterior says
 * about the data: the predictive band (regression), the predictive probability field
 * (classification) or, for the Gaussian mean and mixture where theta lives in data space, the
 * network's samples and the exact posterior's contours right among the points.
 */
import type { PanelData, PanelView, PosteriorPanelResult, PosteriorTaskInfo } from '../../src/protocol/posterior';
import type { ThemeColors } from '../common/theme';
import { rgbOf, withAlpha } from '../common/theme';
import { clipTo, drawAxes, drawCross, fromPx, prepareCanvas, strokeEllipse, toPx, type Frame, type Range } from './canvas';
import type { PanelColors } from './colors';
import { columnsOf } from './columns';
import { drawScatter } from './scatter';

export interface EditablePoint {
  x: number[];
  /** Target (regression value or class index); 0 for density models. */
  y: number;
}

const HIT_RADIUS = 9;
const MARGIN = { left: 48, right: 12, top: 10, bottom: 40 };

export class DataPlot {
  points: EditablePoint[] = [];
  selected: number | undefined;
  /** Class given to new points (classification). */
  newClass = 0;
  task?: PosteriorTaskInfo;
  view: PanelView = { x: [-3, 3], y: [-3, 3] };
  result?: PosteriorPanelResult;
  trueTheta?: number[];
  private frame?: Frame;
  private dragging = false;

  constructor(
    readonly canvas: HTMLCanvasElement,
    /** Called after every change of the points (the panel schedules a posterior request). */
    private readonly onEdit: () => void,
    /** Called when the selection or the new-point class changes (no new request needed). */
    private readonly onSelection: () => void,
  ) {
    canvas.tabIndex = 0;
    canvas.addEventListener('pointerdown', (e) => this.pointerDown(e));
    canvas.addEventListener('pointermove', (e) => this.pointerMove(e));
    canvas.addEventListener('pointerup', (e) => this.pointerUp(e));
    canvas.addEventListener('pointercancel', (e) => this.pointerUp(e));
    canvas.addEventListener('contextmenu', (e) => this.contextMenu(e));
    canvas.addEventListener('keydown', (e) => this.keyDown(e));
  }

  setData(data: PanelData): void {
    this.points = data.x.map((x, i) => ({ x: [...x], y: data.y?.[i] ?? 0 }));
    this.selected = undefined;
  }

  data(): PanelData {
    const x = this.points.map((p) => [...p.x]);
    return this.task?.target === 'none' ? { x } : { x, y: this.points.map((p) => p.y) };
  }

  // ------------------------------------------------------------------ coordinates

  /** The plot's horizontal and vertical value of a point. */
  private coords(p: EditablePoint): [number, number] {
    const task = this.task;
    if (!task) return [0, 0];
    if (task.target === 'real') return [p.x[0], p.y];
    if (task.xDim >= 2) return [p.x[0], p.x[1]];
    return [p.x[0], task.target === 'class' ? p.y : 0];
  }

  private setCoords(p: EditablePoint, h: number, v: number): void {
    const task = this.task!;
    const clamp = (value: number, [lo, hi]: Range) => Math.min(hi, Math.max(lo, value));
    p.x[0] = clamp(h, this.view.x);
    if (task.target === 'real') p.y = clamp(v, this.view.y);
    else if (task.xDim >= 2) p.x[1] = clamp(v, this.view.y);
  }

  private newPoint(h: number, v: number): EditablePoint {
    const task = this.task!;
    const p: EditablePoint = { x: new Array<number>(task.xDim).fill(0), y: task.target === 'class' ? this.newClass : 0 };
    this.setCoords(p, h, v);
    return p;
  }

  private hit(px: number, py: number): number | undefined {
    if (!this.frame) return undefined;
    let best: number | undefined;
    let bestDistance = HIT_RADIUS;
    this.points.forEach((p, i) => {
      const [h, v] = this.coords(p);
      const [qx, qy] = toPx(this.frame!, h, v);
      const d = Math.hypot(qx - px, qy - py);
      if (d <= bestDistance) [best, bestDistance] = [i, d];
    });
    return best;
  }

  private local(e: MouseEvent): [number, number] {
    const rect = this.canvas.getBoundingClientRect();
    return [e.clientX - rect.left, e.clientY - rect.top];
  }

  // ------------------------------------------------------------------ interaction

  private pointerDown(e: PointerEvent): void {
    if (e.button !== 0 || !this.frame || !this.task) return;
    this.canvas.focus();
    const [px, py] = this.local(e);
    const hit = this.hit(px, py);
    if (hit !== undefined) {
      this.selected = hit;
      this.onSelection();
    } else {
      const f = this.frame;
      if (px < f.left || px > f.left + f.width || py < f.top || py > f.top + f.height) return;
      this.points.push(this.newPoint(...fromPx(f, px, py)));
      this.selected = this.points.length - 1;
      this.onEdit();
    }
    this.dragging = true;
    this.canvas.setPointerCapture(e.pointerId);
    e.preventDefault();
  }

  private pointerMove(e: PointerEvent): void {
    const [px, py] = this.local(e);
    if (!this.dragging || this.selected === undefined || !this.frame) {
      this.canvas.style.cursor = this.hit(px, py) !== undefined ? 'grab' : 'crosshair';
      return;
    }
    this.canvas.style.cursor = 'grabbing';
    this.setCoords(this.points[this.selected], ...fromPx(this.frame, px, py));
    this.onEdit();
  }

  private pointerUp(e: PointerEvent): void {
    if (!this.dragging) return;
    this.dragging = false;
    if (this.canvas.hasPointerCapture(e.pointerId)) this.canvas.releasePointerCapture(e.pointerId);
  }

  private contextMenu(e: MouseEvent): void {
    e.preventDefault();
    const hit = this.hit(...this.local(e));
    if (hit !== undefined) this.remove(hit);
  }

  private remove(index: number): void {
    this.points.splice(index, 1);
    this.selected = undefined;
    this.onEdit();
  }

  private keyDown(e: KeyboardEvent): void {
    const task = this.task;
    if (!task) return;
    if (/^[0-9]$/.test(e.key) && task.target === 'class') {
      const c = Number(e.key);
      if (c >= task.classes) return;
      this.newClass = c;
      if (this.selected !== undefined) {
        this.points[this.selected].y = c;
        this.onEdit();
      } else this.onSelection();
      e.preventDefault();
      return;
    }
    if (this.selected === undefined) return;
    const moves: Record<string, [number, number]> = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, 1], ArrowDown: [0, -1] };
    if (e.key in moves) {
      const [dh, dv] = moves[e.key];
      const step = e.shiftKey ? 0.1 : 0.02;
      const p = this.points[this.selected];
      const [h, v] = this.coords(p);
      this.setCoords(p, h + dh * step * (this.view.x[1] - this.view.x[0]), v + dv * step * (this.view.y[1] - this.view.y[0]));
      this.onEdit();
      e.preventDefault();
    } else if (e.key === 'Delete' || e.key === 'Backspace') {
      this.remove(this.selected);
      e.preventDefault();
    } else if (e.key === 'Escape') {
      this.selected = undefined;
      this.onSelection();
    }
  }

  // ------------------------------------------------------------------ drawing

  draw(theme: ThemeColors, colors: PanelColors): void {
    const width = Math.max(120, this.canvas.clientWidth);
    const height = Math.round(Math.min(520, Math.max(220, (width - MARGIN.left - MARGIN.right) * 0.82 + MARGIN.top + MARGIN.bottom)));
    const { ctx } = prepareCanvas(this.canvas, height);
    const task = this.task;
    if (!task) return;
    const vertical: Range = task.target === 'real' || task.xDim >= 2 ? this.view.y : task.target === 'class' ? [-0.5, task.classes - 0.5] : [-1, 1];
    const f: Frame = {
      left: MARGIN.left, top: MARGIN.top,
      width: width - MARGIN.left - MARGIN.right, height: height - MARGIN.top - MARGIN.bottom,
      x: this.view.x, y: vertical,
    };
    this.frame = f;
    this.canvas.dataset.frame = [f.left, f.top, f.width, f.height].map((v) => v.toFixed(1)).join(',');
    this.canvas.dataset.xRange = f.x.join(',');
    this.canvas.dataset.yRange = f.y.join(',');

    const labels = axisLabels(task);
    drawAxes(ctx, f, theme, { xLabel: labels[0], yLabel: labels[1] });
    clipTo(ctx, f);
    if (this.result?.field) drawField(ctx, f, this.result.field, colors);
    if (this.result?.band) drawBand(ctx, f, this.result.band, colors);
    if (this.result && (task.model === 'gaussian-mean' || task.model === 'gaussian-mixture') && task.xDim >= 2) {
      drawMeansInDataSpace(ctx, f, task, this.result, this.trueTheta, colors);
    }
    this.points.forEach((p, i) => this.drawPoint(ctx, f, p, i === this.selected, theme, colors));
    ctx.restore();
    if (this.points.length === 0) {
      ctx.fillStyle = theme.muted;
      ctx.font = `${theme.fontSize}px ${theme.fontFamily}`;
      ctx.textAlign = 'center';
      ctx.fillText('No data: the posterior is the prior. Click to add points.', f.left + f.width / 2, f.top + f.height / 2);
    }
  }

  private drawPoint(ctx: CanvasRenderingContext2D, f: Frame, p: EditablePoint, selected: boolean, theme: ThemeColors, colors: PanelColors): void {
    const [px, py] = toPx(f, ...this.coords(p));
    const classification = this.task?.target === 'class';
    const fill = classification ? colors.classes[p.y % colors.classes.length] : withAlpha(colors.point, 0.75);
    ctx.fillStyle = fill;
    ctx.strokeStyle = classification ? theme.foreground : theme.background;
    ctx.lineWidth = 1;
    ctx.beginPath();
    // Shapes tell classes apart without colour: circle, square, triangle, diamond, ...
    const r = 4;
    const shape = classification ? p.y % 4 : 0;
    if (shape === 0) ctx.arc(px, py, r, 0, 2 * Math.PI);
    else if (shape === 1) ctx.rect(px - r, py - r, 2 * r, 2 * r);
    else if (shape === 2) {
      ctx.moveTo(px, py - r - 1);
      ctx.lineTo(px + r + 1, py + r);
      ctx.lineTo(px - r - 1, py + r);
      ctx.closePath();
    } else {
      ctx.moveTo(px, py - r - 1);
      ctx.lineTo(px + r + 1, py);
      ctx.lineTo(px, py + r + 1);
      ctx.lineTo(px - r - 1, py);
      ctx.closePath();
    }
    ctx.fill();
    ctx.stroke();
    if (selected) {
      ctx.strokeStyle = colors.selected;
      ctx.lineWidth = 2;
      ctx.beginPath();
      ctx.arc(px, py, r + 4, 0, 2 * Math.PI);
      ctx.stroke();
    }
  }
}

function axisLabels(task: PosteriorTaskInfo): [string, string] {
  if (task.target === 'real') return ['x', 'y'];
  if (task.xDim >= 2) return ['x₁', 'x₂'];
  return ['x', task.target === 'class' ? 'class' : ''];
}

function drawBand(ctx: CanvasRenderingContext2D, f: Frame, band: NonNullable<PosteriorPanelResult['band']>, colors: PanelColors): void {
  const path = (values: number[], reverse = false) => {
    const order = band.x.map((_, i) => i);
    if (reverse) order.reverse();
    return order.map((i) => toPx(f, band.x[i], values[i]));
  };
  ctx.fillStyle = withAlpha(colors.network, 0.22);
  ctx.beginPath();
  [...path(band.network.upper), ...path(band.network.lower, true)].forEach(([px, py], k) => (k === 0 ? ctx.moveTo(px, py) : ctx.lineTo(px, py)));
  ctx.closePath();
  ctx.fill();
  const line = (values: number[], color: string, width: number, dash: number[]) => {
    ctx.strokeStyle = color;
    ctx.lineWidth = width;
    ctx.setLineDash(dash);
    ctx.beginPath();
    path(values).forEach(([px, py], k) => (k === 0 ? ctx.moveTo(px, py) : ctx.lineTo(px, py)));
    ctx.stroke();
    ctx.setLineDash([]);
  };
  line(band.network.mean, colors.network, 2, []);
  if (band.exact) {
    line(band.exact.mean, colors.exact, 2, [6, 3]);
    line(band.exact.lower, colors.exact, 1.5, [2, 3]);
    line(band.exact.upper, colors.exact, 1.5, [2, 3]);
  }
}

function drawField(ctx: CanvasRenderingContext2D, f: Frame, field: NonNullable<PosteriorPanelResult['field']>, colors: PanelColors): void {
  const { xs, ys, classes, probabilities } = field;
  const rgb = Array.from({ length: classes }, (_, c) => rgbOf(colors.classes[c % colors.classes.length]));
  const dx = (xs[xs.length - 1] - xs[0]) / (xs.length - 1);
  const dy = (ys[ys.length - 1] - ys[0]) / (ys.length - 1);
  ys.forEach((y, row) => {
    xs.forEach((x, col) => {
      const cell = (row * xs.length + col) * classes;
      const mix = [0, 0, 0];
      let top = 0;
      for (let c = 0; c < classes; c++) {
        const p = probabilities[cell + c];
        top = Math.max(top, p);
        for (let k = 0; k < 3; k++) mix[k] += p * rgb[c][k];
      }
      // Confident cells are stronger; a 50/50 cell is faint.
      const alpha = 0.12 + 0.4 * ((top - 1 / classes) / (1 - 1 / classes));
      ctx.fillStyle = `rgba(${mix.map(Math.round).join(', ')}, ${alpha.toFixed(3)})`;
      const [x0, y0] = toPx(f, x - dx / 2, y + dy / 2);
      const [x1, y1] = toPx(f, x + dx / 2, y - dy / 2);
      ctx.fillRect(x0, y0, x1 - x0 + 0.5, y1 - y0 + 0.5);
    });
  });
}

/** Gaussian mean / mixture: theta is one (or K) point(s) in data space, so its posterior is drawn among the data. */
function drawMeansInDataSpace(
  ctx: CanvasRenderingContext2D, f: Frame, task: PosteriorTaskInfo, result: PosteriorPanelResult, trueTheta: number[] | undefined, colors: PanelColors,
): void {
  const d = task.xDim;
  const components = task.thetaDim / d;
  const style = { color: colors.network, alpha: 0.35, size: 2 };
  const columns = columnsOf(result.samples);
  for (let k = 0; k < components; k++) drawScatter(ctx, f, columns[k * d], columns[k * d + 1], style);
  if (result.exact && components === 1) {
    const { mean, covariance } = result.exact;
    ctx.strokeStyle = colors.exact;
    ctx.lineWidth = 2;
    const cov: [number, number, number] = [covariance[0][0], covariance[0][1], covariance[1][1]];
    strokeEllipse(ctx, f, [mean[0], mean[1]], cov, 1);
    ctx.setLineDash([6, 3]);
    strokeEllipse(ctx, f, [mean[0], mean[1]], cov, 2);
    ctx.setLineDash([]);
  }
  if (trueTheta) {
    ctx.strokeStyle = colors.truth;
    ctx.lineWidth = 2;
    for (let k = 0; k < components; k++) {
      const [px, py] = toPx(f, trueTheta[k * d], trueTheta[k * d + 1]);
      drawCross(ctx, px, py, 6);
    }
  }
}
