/**
 * Theme colours for canvas drawing. CSS can use var(--vscode-*) directly; a canvas needs
 * concrete colours, so they are read from the computed style and re-read when VS Code switches
 * theme (it changes the body class: vscode-light / vscode-dark / vscode-high-contrast[-light]).
 */

export interface ThemeColors {
  foreground: string;
  muted: string;
  grid: string;
  background: string;
  /** Set only in high-contrast themes: draw borders with it. */
  contrastBorder: string;
  fontFamily: string;
  fontSize: number;
  /** One colour per run, in run order (cycled, with dashes, beyond its length). */
  series: string[];
  highContrast: boolean;
}

function cssVar(style: CSSStyleDeclaration, name: string, fallback: string): string {
  return style.getPropertyValue(name).trim() || fallback;
}

export function readThemeColors(): ThemeColors {
  const style = getComputedStyle(document.body);
  const classes = document.body.classList;
  const light = classes.contains('vscode-light') || classes.contains('vscode-high-contrast-light');
  const foreground = cssVar(style, '--vscode-editor-foreground', cssVar(style, '--vscode-foreground', light ? '#333' : '#ccc'));
  const highContrast = classes.contains('vscode-high-contrast') || classes.contains('vscode-high-contrast-light');
  const lines = cssVar(style, '--vscode-charts-lines', light ? 'rgba(0,0,0,0.5)' : 'rgba(255,255,255,0.5)');
  return {
    foreground,
    muted: cssVar(style, '--vscode-descriptionForeground', foreground),
    // charts.lines is meant for axes; a grid drawn at full strength would compete with the curves.
    grid: highContrast ? lines : withAlpha(lines, 0.18),
    background: cssVar(style, '--vscode-editor-background', light ? '#fff' : '#1e1e1e'),
    contrastBorder: cssVar(style, '--vscode-contrastBorder', ''),
    fontFamily: cssVar(style, '--vscode-font-family', 'sans-serif'),
    fontSize: parseFloat(cssVar(style, '--vscode-font-size', '13')) || 13,
    series: [
      cssVar(style, '--vscode-charts-blue', '#3794ff'),
      cssVar(style, '--vscode-charts-orange', '#d18616'),
      cssVar(style, '--vscode-charts-green', '#89d185'),
      cssVar(style, '--vscode-charts-purple', '#b180d7'),
      cssVar(style, '--vscode-charts-red', '#f14c4c'),
      cssVar(style, '--vscode-charts-yellow', '#cca700'),
    ],
    highContrast,
  };
}

/** Colour and dash pattern of the run at `index`: colours cycle, later cycles get dashes. */
export function runStyle(theme: ThemeColors, index: number): { color: string; dash?: number[] } {
  const cycle = Math.floor(index / theme.series.length);
  const color = theme.series[index % theme.series.length];
  return cycle === 0 ? { color } : { color, dash: cycle === 1 ? [6, 3] : [2, 3] };
}

let colorParser: CanvasRenderingContext2D | null | undefined;

/** r, g, b (0-255) of any CSS colour the canvas understands; black for one it does not. */
/**
 * One RGBA pixel as the 32-bit word an ImageData's buffer holds for it on little-endian machines
 * (all that run VS Code): 0xAABBGGRR. Lets a plot write a pixel per store instead of four.
 */
export function rgbaWord([r, g, b]: readonly [number, number, number], alpha: number): number {
  return ((alpha << 24) | (b << 16) | (g << 8) | r) >>> 0;
}

export function rgbOf(color: string): [number, number, number] {
  // One parsing context per page: plots call this per point, and a new canvas per call added up to ms per frame.
  colorParser ??= document.createElement('canvas').getContext('2d');
  const ctx = colorParser;
  if (!ctx) return [0, 0, 0];
  ctx.fillStyle = '#000000'; // what an unparsable colour leaves, as on a fresh canvas
  ctx.fillStyle = color; // the canvas normalises to #rrggbb or rgba(...)
  const normal = String(ctx.fillStyle);
  if (normal.startsWith('#')) return [1, 3, 5].map((i) => parseInt(normal.slice(i, i + 2), 16)) as [number, number, number];
  const m = /^rgba?\(\s*([\d.]+)\s*,\s*([\d.]+)\s*,\s*([\d.]+)/.exec(normal);
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : [0, 0, 0];
}

/** Same colour with an alpha, whatever CSS colour syntax the theme used. */
export function withAlpha(color: string, alpha: number): string {
  const [r, g, b] = rgbOf(color);
  return `rgba(${r}, ${g}, ${b}, ${alpha})`;
}

/**
 * Calls `listener` (once per frame at most) after a theme switch: the body class changes between
 * theme kinds, and VS Code rewrites the --vscode-* variables on <html> between two themes of the
 * same kind. Returns an unsubscribe function.
 */
export function onThemeChange(listener: () => void): () => void {
  let pending = false;
  const observer = new MutationObserver(() => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      listener();
    });
  });
  observer.observe(document.body, { attributes: true, attributeFilter: ['class', 'data-vscode-theme-id'] });
  observer.observe(document.documentElement, { attributes: true, attributeFilter: ['style'] });
  return () => observer.disconnect();
}

export function formatValue(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs !== 0 && (abs < 1e-3 || abs >= 1e5)) return value.toExponential(3);
  return Number(value.toPrecision(4)).toString();
}
