/**
 * A labelled heatmap on a canvas, in theme colours: cell colour runs from the editor background
 * (the map's lowest value) to the theme's first chart colour (its highest: auto-contrast,
 * webview/common/colorScale.ts), with a colour bar under the map printing that range. Rows and
 * columns carry labels and axis titles; a highlighted row or column, rings and crosses mark what
 * the hover shows. Pixel-exact on HiDPI.
 */
import { autoScale, onScale, scaleText, type ColorScale } from '../common/colorScale';
import { rgbaWord, rgbOf, type ThemeColors } from '../common/theme';

export interface Marker {
  row: number;
  col: number;
  /** ring: what the model chose; cross: the ground truth. */
  kind: 'ring' | 'cross';
}

export interface HeatmapSpec {
  rows: number;
  cols: number;
  /** The cell's value (NaN: no data, drawn hatched); colours span the map's own min..max. */
  value: (row: number, col: number) => number;
  rowLabels: string[];
  colLabels: string[];
  /** Axis titles, e.g. 'query token' (left) and 'key token' (bottom). */
  rowTitle: string;
  colTitle: string;
  cell: number;
  /** Print the value in each cell (small tables only). */
  cellText?: boolean;
  highlightRow?: number;
  highlightCol?: number;
  markers?: Marker[];
  /** Lines after these rows, e.g. between searches in a search x retrieval stack. */
  groupEvery?: number;
}

export interface HeatmapLayout {
  left: number;
  top: number;
  cell: number;
  rows: number;
  cols: number;
  /** The values the colours span (printed on the colour bar under the map). */
  scale: ColorScale;
}

const TOP = 6;
/** The colour bar under a map: its height and the gap above it. */
const BAR = { height: 8, gap: 4 };

/** Draws `spec` on `canvas` (resizing it) and returns where the cells are, for hit testing. */
export function drawHeatmap(canvas: HTMLCanvasElement, spec: HeatmapSpec, theme: ThemeColors): HeatmapLayout {
  const ctx = canvas.getContext('2d');
  const font = `${Math.max(10, theme.fontSize - 2)}px ${theme.fontFamily}`;
  const measure = (text: string) => {
    if (!ctx) return text.length * 7;
    ctx.font = font;
    return ctx.measureText(text).width;
  };
  const labelWidth = Math.ceil(Math.max(0, ...spec.rowLabels.map(measure))) + 6;
  const titleBand = theme.fontSize + 6;
  const left = titleBand + labelWidth;
  // Wide enough for the column title, centred under narrow maps (e.g. two retrievals).
  const width = Math.ceil(Math.max(left + spec.cols * spec.cell, left + (spec.cols * spec.cell) / 2 + measure(spec.colTitle) / 2)) + 4;
  const barTop = TOP + spec.rows * spec.cell + (theme.fontSize + 4) + titleBand + BAR.gap;
  const height = barTop + BAR.height + theme.fontSize + 6;
  const ratio = window.devicePixelRatio || 1;
  canvas.width = Math.round(width * ratio);
  canvas.height = Math.round(height * ratio);
  canvas.style.width = `${width}px`;
  canvas.style.height = `${height}px`;
  const values = cellValues(spec);
  const scale = autoScale(values, { skipZeros: true });
  const [low, high] = scaleText(scale);
  canvas.dataset.scaleMin = low;
  canvas.dataset.scaleMax = high;
  const layout = { left, top: TOP, cell: spec.cell, rows: spec.rows, cols: spec.cols, scale };
  if (!ctx) return layout;
  ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
  ctx.clearRect(0, 0, width, height);

  const { cell } = spec;
  ctx.fillStyle = theme.background;
  ctx.fillRect(left, TOP, spec.cols * cell, spec.rows * cell);
  const shades = values.map((v) => onScale(scale, v));
  drawCells(ctx, canvas, spec, shades, left, theme.series[0]);
  for (let r = 0; r < spec.rows; r++) {
    for (let c = 0; c < spec.cols; c++) {
      const v = values[r * spec.cols + c];
      const shade = shades[r * spec.cols + c];
      const x = left + c * cell;
      const y = TOP + r * cell;
      if (Number.isNaN(v)) {
        ctx.strokeStyle = theme.grid;
        ctx.beginPath();
        ctx.moveTo(x + 2, y + cell - 2);
        ctx.lineTo(x + cell - 2, y + 2);
        ctx.stroke();
      }
      if (spec.cellText && !Number.isNaN(v)) {
        ctx.fillStyle = shade > 0.55 ? theme.background : theme.foreground;
        ctx.font = font;
        ctx.textAlign = 'center';
        ctx.textBaseline = 'middle';
        ctx.fillText(v.toFixed(2).replace(/^0\./, '.'), x + cell / 2, y + cell / 2 + 1);
      }
    }
  }
  // Cell grid: faint, so the colours carry the values.
  ctx.strokeStyle = theme.highContrast && theme.contrastBorder ? theme.contrastBorder : theme.grid;
  ctx.lineWidth = 1;
  ctx.strokeRect(left + 0.5, TOP + 0.5, spec.cols * cell - 1, spec.rows * cell - 1);
  if (spec.groupEvery) {
    ctx.strokeStyle = theme.muted;
    for (let r = spec.groupEvery; r < spec.rows; r += spec.groupEvery) {
      ctx.beginPath();
      ctx.moveTo(left, TOP + r * cell + 0.5);
      ctx.lineTo(left + spec.cols * cell, TOP + r * cell + 0.5);
      ctx.stroke();
    }
  }

  // Highlights: the hovered token's row or column.
  const highlight = theme.series[1] ?? theme.foreground;
  ctx.lineWidth = 2;
  ctx.strokeStyle = highlight;
  if (spec.highlightRow !== undefined) ctx.strokeRect(left + 1, TOP + spec.highlightRow * cell + 1, spec.cols * cell - 2, cell - 2);
  if (spec.highlightCol !== undefined) ctx.strokeRect(left + spec.highlightCol * cell + 1, TOP + 1, cell - 2, spec.rows * cell - 2);
  for (const marker of spec.markers ?? []) {
    const cx = left + marker.col * cell + cell / 2;
    const cy = TOP + marker.row * cell + cell / 2;
    const radius = cell * 0.3;
    ctx.lineWidth = 2;
    if (marker.kind === 'ring') {
      ctx.strokeStyle = highlight;
      ctx.beginPath();
      ctx.arc(cx, cy, radius, 0, 2 * Math.PI);
      ctx.stroke();
    } else {
      ctx.strokeStyle = theme.foreground;
      ctx.beginPath();
      ctx.moveTo(cx - radius, cy - radius);
      ctx.lineTo(cx + radius, cy + radius);
      ctx.moveTo(cx + radius, cy - radius);
      ctx.lineTo(cx - radius, cy + radius);
      ctx.stroke();
    }
  }

  // Labels and axis titles.
  ctx.font = font;
  ctx.fillStyle = theme.muted;
  ctx.textBaseline = 'middle';
  ctx.textAlign = 'right';
  spec.rowLabels.forEach((label, r) => {
    ctx.fillStyle = r === spec.highlightRow ? theme.foreground : theme.muted;
    ctx.fillText(label, left - 4, TOP + r * cell + cell / 2);
  });
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  spec.colLabels.forEach((label, c) => {
    ctx.fillStyle = c === spec.highlightCol ? theme.foreground : theme.muted;
    ctx.fillText(label, left + c * cell + cell / 2, TOP + spec.rows * cell + 3);
  });
  ctx.fillStyle = theme.foreground;
  ctx.fillText(spec.colTitle, left + (spec.cols * cell) / 2, TOP + spec.rows * cell + theme.fontSize + 6);
  ctx.save();
  ctx.translate(2, TOP + (spec.rows * cell) / 2);
  ctx.rotate(-Math.PI / 2);
  ctx.textBaseline = 'top';
  ctx.fillText(spec.rowTitle, 0, 0);
  ctx.restore();

  // The colour bar: the range the colours span, so a faint map is not mistaken for a sharp one.
  const barWidth = Math.max(60, Math.min(160, spec.cols * cell));
  drawColorBar(ctx, { x: left, y: barTop, width: barWidth, height: BAR.height }, theme);
  ctx.font = font;
  ctx.fillStyle = theme.muted;
  ctx.textBaseline = 'top';
  ctx.textAlign = 'left';
  ctx.fillText(low, left, barTop + BAR.height + 2);
  ctx.textAlign = 'right';
  ctx.fillText(high, left + barWidth, barTop + BAR.height + 2);
  return layout;
}

/** spec.value per cell, row-major; anything not a number (null from JSON) is NaN, "no data". */
export function cellValues(spec: Pick<HeatmapSpec, 'rows' | 'cols' | 'value'>): Float64Array {
  const values = new Float64Array(spec.rows * spec.cols);
  for (let r = 0; r < spec.rows; r++) {
    for (let c = 0; c < spec.cols; c++) {
      const raw: unknown = spec.value(r, c);
      values[r * spec.cols + c] = typeof raw === 'number' ? raw : Number.NaN;
    }
  }
  return values;
}

/**
 * RGBA pixels, one per cell (row-major, little-endian words 0xAABBGGRR): the accent at alpha
 * min(1, v), which over the background is what a cell filled at globalAlpha v looks like;
 * transparent where v <= 0 or there is no data.
 */
export function cellPixels(values: Float64Array, rgb: [number, number, number]): Uint32Array {
  const words = new Uint32Array(values.length);
  values.forEach((v, i) => {
    if (v > 0) words[i] = rgbaWord(rgb, Math.round(255 * Math.min(1, v)));
  });
  return words;
}

/** One scratch canvas per heatmap canvas (see webview/posterior/scatter.ts for why not shared). */
const scratchOf = new WeakMap<HTMLCanvasElement, HTMLCanvasElement>();

/**
 * The cells as one image of a pixel per cell, scaled up without smoothing: a 64x64 map as cell
 * rectangles was 4096 drawing calls, each paid twice (recorded, then rasterised with the frame).
 */
function drawCells(ctx: CanvasRenderingContext2D, canvas: HTMLCanvasElement, spec: HeatmapSpec, values: Float64Array, left: number, accent: string): void {
  let scratch = scratchOf.get(canvas);
  if (!scratch) scratchOf.set(canvas, (scratch = document.createElement('canvas')));
  if (scratch.width !== spec.cols || scratch.height !== spec.rows) [scratch.width, scratch.height] = [spec.cols, spec.rows];
  const image = new ImageData(spec.cols, spec.rows);
  new Uint32Array(image.data.buffer).set(cellPixels(values, rgbOf(accent)));
  scratch.getContext('2d')?.putImageData(image, 0, 0);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(scratch, left, TOP, spec.cols * spec.cell, spec.rows * spec.cell);
  ctx.imageSmoothingEnabled = true;
}

/** The cell under a mouse event, if any. */
export function cellAt(layout: HeatmapLayout, canvas: HTMLCanvasElement, event: MouseEvent): { row: number; col: number } | undefined {
  const rect = canvas.getBoundingClientRect();
  const col = Math.floor((event.clientX - rect.left - layout.left) / layout.cell);
  const row = Math.floor((event.clientY - rect.top - layout.top) / layout.cell);
  if (row < 0 || col < 0 || row >= layout.rows || col >= layout.cols) return undefined;
  return { row, col };
}

/** A horizontal colour bar from the scale's first colour (left) to its last (right). */
function drawColorBar(ctx: CanvasRenderingContext2D, box: { x: number; y: number; width: number; height: number }, theme: ThemeColors): void {
  ctx.fillStyle = theme.background;
  ctx.fillRect(box.x, box.y, box.width, box.height);
  ctx.fillStyle = theme.series[0];
  for (let x = 0; x < box.width; x++) {
    ctx.globalAlpha = x / (box.width - 1);
    ctx.fillRect(box.x + x, box.y, 1, box.height);
  }
  ctx.globalAlpha = 1;
  ctx.strokeStyle = theme.grid;
  ctx.strokeRect(box.x + 0.5, box.y + 0.5, box.width - 1, box.height - 1);
}
