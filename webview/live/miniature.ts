/**
 * The lab miniature in the Live view: a small key picture of the shown run's lab (a heatmap of
 * the retrieval selection or of a similarity matrix, a scatter of posterior samples, or a
 * sampler's samples over its target's log-density), a
 * one-line caption and a button to the lab's full panel. The host computes the data
 * (src/protocol/live.ts LabMiniature); this only draws it on a canvas in theme colours.
 *
 * Test hooks on the slot: data-testid="live-lab-miniature", data-kind, data-step, and for the
 * heatmaps data-rows, data-cols and data-argmax (each row's largest column, JSON); for the
 * sampler data-samples and data-modes (counts).
 */
import { el } from '../common/dom';
import { withAlpha, type ThemeColors } from '../common/theme';
import type { AttentionMiniature, LabMiniature, PosteriorMiniature, SamplerMiniature, SimilarityMiniature } from '../../src/protocol/live';

const TITLES: Record<LabMiniature['picture']['kind'], string> = {
  attention: 'Attention',
  posterior: 'Posterior',
  similarity: 'Similarity',
  sampler: 'Sampler',
};
const MAX_HEIGHT = 180;

export class MiniatureView {
  private miniature: LabMiniature | undefined;
  private readonly title = el('div', { class: 'section-title' });
  private readonly canvas = document.createElement('canvas');
  private readonly caption = el('div', { class: 'miniature-caption', 'data-testid': 'live-lab-miniature-caption' });
  private readonly button = el('vscode-button', { 'data-testid': 'live-open-lab', secondary: '', icon: 'link-external' });

  constructor(
    private readonly slot: HTMLElement,
    private theme: ThemeColors,
    onOpen: (runId: string) => void,
  ) {
    slot.dataset.testid = 'live-lab-miniature';
    this.canvas.className = 'miniature-canvas';
    this.canvas.setAttribute('role', 'img');
    slot.replaceChildren(this.title, this.canvas, this.caption, el('div', { class: 'miniature-actions' }, this.button));
    this.button.addEventListener('click', () => this.miniature && onOpen(this.miniature.runId));
    new ResizeObserver(() => this.draw()).observe(slot);
  }

  /** Shows `miniature`, or hides the slot when there is none. */
  show(miniature: LabMiniature | undefined): void {
    this.miniature = miniature;
    this.slot.hidden = !miniature;
    for (const key of ['kind', 'step', 'rows', 'cols', 'argmax', 'samples', 'modes']) delete this.slot.dataset[key];
    if (!miniature) return;
    const { picture } = miniature;
    this.slot.dataset.kind = picture.kind;
    this.slot.dataset.step = String(miniature.step);
    if (picture.kind === 'sampler') {
      this.slot.dataset.samples = String(picture.samples.length);
      this.slot.dataset.modes = String(picture.modes?.length ?? 0);
    } else if (picture.kind !== 'posterior') {
      this.slot.dataset.rows = String(picture.matrix.length);
      this.slot.dataset.cols = String(picture.matrix[0]?.length ?? 0);
      this.slot.dataset.argmax = JSON.stringify(picture.matrix.map((row) => row.indexOf(Math.max(...row))));
    }
    this.title.textContent = TITLES[miniature.picture.kind];
    this.caption.textContent = miniature.caption;
    this.canvas.setAttribute('aria-label', miniature.caption);
    this.button.textContent = miniature.open.label;
    this.button.setAttribute('aria-label', `${miniature.open.label}: the full panel of this run`);
    this.draw();
  }

  /** Hides the miniature unless it belongs to run `runId`. */
  keepFor(runId: string | undefined): void {
    if (this.miniature && this.miniature.runId !== runId) this.show(undefined);
  }

  setTheme(theme: ThemeColors): void {
    this.theme = theme;
    this.draw();
  }

  private draw(): void {
    const picture = this.miniature?.picture;
    const width = Math.floor(this.slot.clientWidth);
    if (!picture || width <= 0) return;
    const size =
      picture.kind === 'posterior'
        ? { width, height: Math.min(MAX_HEIGHT, Math.round(width * 0.6)), cell: 0 }
        : picture.kind === 'sampler'
          ? { width, height: Math.min(MAX_HEIGHT, width), cell: 0 }
          : heatmapSize(picture, width);
    const ratio = window.devicePixelRatio || 1;
    this.canvas.width = Math.round(size.width * ratio);
    this.canvas.height = Math.round(size.height * ratio);
    this.canvas.style.width = `${size.width}px`;
    this.canvas.style.height = `${size.height}px`;
    const ctx = this.canvas.getContext('2d');
    if (!ctx) return;
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, size.width, size.height);
    ctx.font = `${Math.max(10, this.theme.fontSize - 2)}px ${this.theme.fontFamily}`;
    ctx.textBaseline = 'middle';
    if (picture.kind === 'posterior') drawScatter(ctx, picture, size, this.theme);
    else if (picture.kind === 'sampler') drawSamplerScatter(ctx, picture, size, this.theme);
    else drawHeatmap(ctx, picture, size.cell, this.theme);
  }
}

// ------------------------------------------------------------------ heatmaps

const LABEL_BAND = 16;

function heatmapSize(picture: AttentionMiniature | SimilarityMiniature, width: number): { width: number; height: number; cell: number } {
  const rows = picture.matrix.length;
  const cols = picture.matrix[0]?.length ?? 0;
  // Square cells, as large as the width and the height cap allow (at most 32 px: a 2 x 2 matrix stays small).
  const cell = Math.max(2, Math.min(32, Math.floor((width - LABEL_BAND) / Math.max(1, cols)), Math.floor((MAX_HEIGHT - LABEL_BAND) / Math.max(1, rows))));
  return { width: LABEL_BAND + cols * cell + 2, height: rows * cell + LABEL_BAND + 2, cell };
}

/** Cells from the background (0) to the first chart colour (largest |value|); negative values in the second. */
function drawHeatmap(ctx: CanvasRenderingContext2D, picture: AttentionMiniature | SimilarityMiniature, size: number, theme: ThemeColors): void {
  const { matrix } = picture;
  const rows = matrix.length;
  const cols = matrix[0]?.length ?? 0;
  const scale = picture.kind === 'attention' ? 1 : Math.max(1e-9, ...matrix.flat().map(Math.abs));
  const left = LABEL_BAND;
  ctx.fillStyle = theme.background;
  ctx.fillRect(left, 0, cols * size, rows * size);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const value = matrix[r][c];
      if (!Number.isFinite(value)) continue;
      ctx.fillStyle = withAlpha(value < 0 ? theme.series[1] : theme.series[0], Math.min(1, Math.abs(value) / scale));
      ctx.fillRect(left + c * size, r * size, size, size);
    }
  }
  ctx.strokeStyle = theme.highContrast && theme.contrastBorder ? theme.contrastBorder : theme.grid;
  ctx.lineWidth = 1;
  ctx.strokeRect(left + 0.5, 0.5, cols * size - 1, rows * size - 1);
  ctx.fillStyle = theme.muted;
  if (picture.kind === 'attention') {
    // One block of retrieval columns per search, each labelled under the map.
    ctx.strokeStyle = theme.foreground;
    for (let s = 0; s < picture.searches; s++) {
      const x = left + s * picture.retrievals * size;
      if (s > 0) {
        ctx.beginPath();
        ctx.moveTo(x + 0.5, 0);
        ctx.lineTo(x + 0.5, rows * size);
        ctx.stroke();
      }
      ctx.textAlign = 'center';
      ctx.fillText(`${picture.groupPrefix}${s}`, x + (picture.retrievals * size) / 2, rows * size + LABEL_BAND / 2 + 1);
    }
  } else {
    ctx.textAlign = 'center';
    ctx.fillText('object', left + (cols * size) / 2, rows * size + LABEL_BAND / 2 + 1);
  }
  // Row axis title, rotated along the left edge.
  ctx.save();
  ctx.translate(LABEL_BAND / 2, (rows * size) / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.textAlign = 'center';
  ctx.fillText(picture.kind === 'attention' ? 'token' : 'object', 0, 0);
  ctx.restore();
}

// ------------------------------------------------------------------ posterior scatter

function drawScatter(ctx: CanvasRenderingContext2D, picture: PosteriorMiniature, size: { width: number; height: number }, theme: ThemeColors): void {
  const twoD = picture.axes.length >= 2;
  const pad = { left: LABEL_BAND, right: 4, top: 4, bottom: LABEL_BAND * 2 };
  const plot = { x: pad.left, y: pad.top, w: size.width - pad.left - pad.right, h: size.height - pad.top - pad.bottom };
  const all = [...picture.network, ...(picture.exact ?? []), picture.truth];
  const range = (d: number): [number, number] => {
    const values = all.map((p) => p[d]).filter(Number.isFinite);
    const lo = Math.min(...values);
    const hi = Math.max(...values);
    const margin = (hi - lo) * 0.05 || 1;
    return [lo - margin, hi + margin];
  };
  const [x0, x1] = range(0);
  const [y0, y1] = twoD ? range(1) : [0, 1];
  const px = (v: number) => plot.x + ((v - x0) / (x1 - x0)) * plot.w;
  // 1-D: network samples in the upper band, exact ones in the lower, spread by sample index.
  const py = (p: number[], band: number, i: number) =>
    twoD ? plot.y + (1 - (p[1] - y0) / (y1 - y0)) * plot.h : plot.y + plot.h * (band * 0.5 + 0.1 + 0.3 * ((i * 0.618) % 1));
  ctx.strokeStyle = theme.grid;
  ctx.strokeRect(plot.x + 0.5, plot.y + 0.5, plot.w - 1, plot.h - 1);
  const dots = (points: number[][], color: string, band: number) => {
    ctx.fillStyle = withAlpha(color, 0.55);
    points.forEach((p, i) => ctx.fillRect(px(p[0]) - 1.5, py(p, band, i) - 1.5, 3, 3));
  };
  if (picture.exact) dots(picture.exact, theme.series[1], 1);
  dots(picture.network, theme.series[0], 0);
  // The parameters the data set was simulated from: a cross.
  ctx.strokeStyle = theme.foreground;
  ctx.lineWidth = 1.5;
  const tx = px(picture.truth[0]);
  const ty = twoD ? py(picture.truth, 0, 0) : plot.y + plot.h / 2;
  ctx.beginPath();
  ctx.moveTo(tx - 5, ty - 5);
  ctx.lineTo(tx + 5, ty + 5);
  ctx.moveTo(tx + 5, ty - 5);
  ctx.lineTo(tx - 5, ty + 5);
  ctx.stroke();
  // Axis names, then the legend.
  ctx.fillStyle = theme.muted;
  ctx.textAlign = 'center';
  ctx.fillText(picture.axes[0] ?? 'θ', plot.x + plot.w / 2, plot.y + plot.h + LABEL_BAND / 2 + 1);
  if (twoD) {
    ctx.save();
    ctx.translate(LABEL_BAND / 2, plot.y + plot.h / 2);
    ctx.rotate(-Math.PI / 2);
    ctx.fillText(picture.axes[1], 0, 0);
    ctx.restore();
  }
  const legend: [string, string][] = [['network', theme.series[0]], ...(picture.exact ? [['exact', theme.series[1]] as [string, string]] : []), ['truth ×', theme.foreground]];
  let x = plot.x;
  const y = size.height - LABEL_BAND / 2;
  ctx.textAlign = 'left';
  for (const [label, color] of legend) {
    ctx.fillStyle = color;
    if (!label.endsWith('×')) ctx.fillRect(x, y - 3, 6, 6);
    x += label.endsWith('×') ? 0 : 9;
    ctx.fillStyle = theme.foreground;
    ctx.fillText(label, x, y);
    x += ctx.measureText(label).width + 12;
  }
}

// ------------------------------------------------------------------ sampler samples over the landscape

/** The target's density exp(log R - max) shaded in the second chart colour, samples as dots in the first, modes as rings. */
function drawSamplerScatter(ctx: CanvasRenderingContext2D, picture: SamplerMiniature, size: { width: number; height: number }, theme: ThemeColors): void {
  const { grid, range, logDensity } = picture.landscape;
  // Square in data units: the landscape's box, as large as fits beside the axis names.
  const room = { w: size.width - LABEL_BAND - 4, h: size.height - LABEL_BAND - 4 };
  const spanX = range[0][1] - range[0][0] || 1;
  const spanY = range[1][1] - range[1][0] || 1;
  const scale = Math.min(room.w / spanX, room.h / spanY);
  const plot = { x: LABEL_BAND + (room.w - spanX * scale) / 2, y: 4, w: spanX * scale, h: spanY * scale };
  const px = (v: number) => plot.x + ((v - range[0][0]) / spanX) * plot.w;
  const py = (v: number) => plot.y + (1 - (v - range[1][0]) / spanY) * plot.h;
  const top = Math.max(...logDensity.filter(Number.isFinite));
  const cellW = plot.w / grid;
  const cellH = plot.h / grid;
  for (let b = 0; b < grid; b++) {
    for (let a = 0; a < grid; a++) {
      const density = Math.exp(logDensity[b * grid + a] - top);
      if (!(density > 0.002)) continue;
      ctx.fillStyle = withAlpha(theme.series[1], 0.55 * Math.sqrt(density));
      ctx.fillRect(plot.x + a * cellW, plot.y + plot.h - (b + 1) * cellH, cellW + 0.5, cellH + 0.5);
    }
  }
  ctx.strokeStyle = theme.grid;
  ctx.strokeRect(plot.x + 0.5, plot.y + 0.5, plot.w - 1, plot.h - 1);
  ctx.save();
  ctx.beginPath();
  ctx.rect(plot.x, plot.y, plot.w, plot.h);
  ctx.clip();
  ctx.fillStyle = withAlpha(theme.series[0], 0.7);
  for (const [x, y] of picture.samples) ctx.fillRect(px(x) - 1.5, py(y) - 1.5, 3, 3);
  ctx.strokeStyle = theme.foreground;
  ctx.lineWidth = 1;
  for (const [x, y] of picture.modes ?? []) {
    ctx.beginPath();
    ctx.arc(px(x), py(y), 3.5, 0, 2 * Math.PI);
    ctx.stroke();
  }
  ctx.restore();
  ctx.fillStyle = theme.muted;
  ctx.textAlign = 'center';
  ctx.fillText(picture.axes[0], plot.x + plot.w / 2, plot.y + plot.h + LABEL_BAND / 2 + 1);
  ctx.save();
  ctx.translate(plot.x - LABEL_BAND / 2, plot.y + plot.h / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.fillText(picture.axes[1], 0, 0);
  ctx.restore();
}
