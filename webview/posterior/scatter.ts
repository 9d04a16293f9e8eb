/**
 * Scatter plots of thousands of samples as one image per plot. Drawing each sample as its own
 * translucent square costs a canvas call to record and again to flush at the frame (10k samples in
 * six plots took about 60 ms a frame); stacking squares of alpha `a` gives `1 - (1 - a)^n` over a
 * pixel covered n times, so counting the squares per pixel and writing that alpha directly draws
 * the same picture in one `drawImage`.
 */
import type { Frame } from './canvas';
import { rgbaWord, rgbOf } from '../common/theme';

export interface ScatterStyle {
  /** A CSS colour the canvas understands. */
  color: string;
  /** Alpha of one square. */
  alpha: number;
  /** Side of one square in CSS pixels. */
  size: number;
}

/**
 * Scratch layers, one per scatter drawn in the same task: writing into a canvas that another
 * canvas has drawn from, before that one flushed, makes the browser copy or flush first (about
 * 5 ms a plot). Their canvases and buffers are reused while the sizes fit.
 */
interface Layer {
  canvas: HTMLCanvasElement;
  image: ImageData;
  /** The image's pixels as one little-endian word each (0xAABBGGRR). */
  words: Uint32Array;
  counts: Uint16Array;
}
const layers: Layer[] = [];
let layersInUse = 0;

function nextLayer(width: number, height: number): Layer {
  if (layersInUse === 0) queueMicrotask(() => (layersInUse = 0));
  let layer = layers[layersInUse];
  if (!layer || layer.image.width < width || layer.image.height < height) {
    const canvas = layer?.canvas ?? document.createElement('canvas');
    const w = Math.max(width, layer?.image.width ?? 0);
    const h = Math.max(height, layer?.image.height ?? 0);
    [canvas.width, canvas.height] = [w, h];
    const image = new ImageData(w, h);
    layer = { canvas, image, words: new Uint32Array(image.data.buffer), counts: new Uint16Array(w * h) };
    layers[layersInUse] = layer;
  }
  layersInUse++;
  return layer;
}

/**
 * Draws the points (xs[i], ys[i]) (data coordinates) as squares into frame `f` of `ctx`, at the
 * context's device-pixel scale, clipped to the frame.
 */
export function drawScatter(ctx: CanvasRenderingContext2D, f: Frame, xs: ArrayLike<number>, ys: ArrayLike<number>, style: ScatterStyle): void {
  if (xs.length === 0) return;
  const scale = ctx.getTransform().a || 1;
  const width = Math.max(1, Math.ceil(f.width * scale));
  const height = Math.max(1, Math.ceil(f.height * scale));
  const layer = nextLayer(width, height);
  const grid = { counts: layer.counts, stride: layer.image.width, width, height };
  const most = countSquares(grid, f, xs, ys, Math.max(1, Math.round(style.size * scale)));
  if (most === 0) return;
  const wordOf = pixelWords(rgbOf(style.color), style.alpha, most);
  for (let row = 0; row < height; row++) {
    for (let i = row * grid.stride, end = i + width; i < end; i++) layer.words[i] = wordOf[layer.counts[i]];
  }
  layer.canvas.getContext('2d')!.putImageData(layer.image, 0, 0, 0, 0, width, height);
  ctx.drawImage(layer.canvas, 0, 0, width, height, f.left, f.top, width / scale, height / scale);
}

/** A width x height window of a counts buffer whose rows are `stride` apart. */
export interface CountGrid {
  counts: Uint16Array;
  stride: number;
  width: number;
  height: number;
}

/**
 * Clears the grid, then adds 1 to every pixel the square of `side` pixels around each point
 * (xs[i], ys[i]) covers (the grid spans frame `f`'s data ranges). Returns the largest count.
 */
export function countSquares(grid: CountGrid, f: Pick<Frame, 'x' | 'y'>, xs: ArrayLike<number>, ys: ArrayLike<number>, side: number): number {
  const { counts, stride, width, height } = grid;
  for (let row = 0; row < height; row++) counts.fill(0, row * stride, row * stride + width);
  // The square's top-left pixel: a linear map of the data coordinates.
  const ax = width / (f.x[1] - f.x[0]);
  const ay = height / (f.y[1] - f.y[0]);
  const half = side / 2;
  let most = 0;
  for (let p = 0; p < xs.length; p++) {
    const left = Math.round((xs[p] - f.x[0]) * ax - half);
    const top = Math.round((f.y[1] - ys[p]) * ay - half);
    if (!(left > -side && top > -side && left < width && top < height)) continue; // also drops NaN
    const rowEnd = Math.min(height, top + side);
    const colStart = Math.max(0, left);
    const colEnd = Math.min(width, left + side);
    for (let row = Math.max(0, top); row < rowEnd; row++) {
      const base = row * stride;
      for (let i = base + colStart; i < base + colEnd; i++) {
        const n = counts[i] + 1;
        if (n < 65535) counts[i] = n;
        if (n > most) most = n;
      }
    }
  }
  return Math.min(most, 65534);
}

/** The pixel word (see rgbaWord) of a pixel covered n times, for n = 0..most: alpha 1 - (1 - a)^n. */
export function pixelWords(rgb: [number, number, number], alpha: number, most: number): Uint32Array {
  const words = new Uint32Array(most + 1);
  for (let n = 1; n <= most; n++) words[n] = rgbaWord(rgb, Math.round(255 * (1 - (1 - alpha) ** n)));
  return words;
}
