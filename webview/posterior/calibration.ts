/**
 * The Posterior panel's calibration card: simulation-based calibration of the network at the
 * shown checkpoint, asked for with a button (seconds in the worker). Left, one rank histogram per
 * parameter with the band a calibrated network stays in (99% per bin); right, the expected
 * coverage of central credible intervals against the diagonal a calibrated network follows.
 */
import type { PanelCalibration } from '../../src/protocol/posterior';
import { el } from '../common/dom';
import type { ThemeColors } from '../common/theme';
import { drawAxes, font, prepareCanvas, toPx, type Frame } from './canvas';
import type { PanelColors } from './colors';
import { MAX_PAIR_DIMS } from './pairPlot';

const HEIGHT = 190;

export class CalibrationCard {
  readonly element: HTMLElement;
  private readonly button: HTMLElement;
  private readonly note: HTMLElement;
  private readonly canvas: HTMLCanvasElement;
  private result?: PanelCalibration;
  /** The request in flight, while its answer is still wanted (another checkpoint drops it). */
  private pending?: object;

  /**
   * `request` asks the host for a calibration; the card keeps only the answer to the last one,
   * then calls `answered` (with the reason, in words, when the request failed).
   */
  constructor(
    private readonly request: () => Promise<{ calibration: PanelCalibration; workerMs: number }>,
    private readonly answered: (error?: string) => void,
  ) {
    this.button = el('vscode-button', { secondary: '', icon: 'graph', title: 'Simulate data sets from the task and check whether the network\'s posteriors are calibrated on them (in the worker, a few seconds)', 'data-testid': 'calibration-run' }, 'Check calibration');
    this.note = el('p', { class: 'help', 'data-testid': 'calibration-summary' });
    this.canvas = <HTMLCanvasElement>el('canvas', { 'data-testid': 'calibration-plot', 'aria-label': 'Simulation-based calibration: rank histograms and expected coverage', hidden: '' });
    this.element = el('section', { class: 'card', 'aria-label': 'Calibration' },
      el('div', { class: 'card-head' }, el('h2', {}, 'Calibration on simulated data'), this.button),
      el('div', { class: 'canvas-box' }, this.canvas),
      this.note);
    this.button.addEventListener('click', () => this.start());
    this.renderState();
  }

  private start(): void {
    if (this.pending !== undefined) return;
    const asked = {};
    this.pending = asked;
    this.result = undefined;
    this.renderState();
    this.request().then(
      ({ calibration, workerMs }) => {
        if (this.receive(asked, calibration, workerMs)) this.answered();
      },
      (error: Error) => {
        this.failed(asked);
        this.answered(error.message);
      },
    );
  }

  /** True when the answer was this card's; stale answers (another checkpoint since) are dropped. */
  private receive(asked: object, calibration: PanelCalibration, workerMs: number): boolean {
    if (asked !== this.pending) return false;
    this.pending = undefined;
    this.result = calibration;
    this.note.dataset.workerMs = workerMs.toFixed(0);
    this.note.dataset.coverage = JSON.stringify(calibration.coverage.mean);
    this.note.dataset.pValue = String(calibration.uniformityPValue);
    this.renderState();
    return true;
  }

  private failed(asked: object): boolean {
    if (asked !== this.pending) return false;
    this.pending = undefined;
    this.renderState();
    return true;
  }

  /** Another checkpoint is shown: the result was the other network's. */
  drop(): void {
    this.result = undefined;
    this.pending = undefined;
    this.renderState();
  }

  private renderState(): void {
    this.button.toggleAttribute('disabled', this.pending !== undefined);
    this.canvas.hidden = !this.result;
    const state = this.pending !== undefined ? 'running' : this.result ? 'done' : 'none';
    this.note.dataset.state = state;
    if (state === 'running') this.note.textContent = 'Simulating data sets and sampling the network in the worker…';
    else if (state === 'none') this.note.textContent = 'Is the network calibrated? Simulation-based calibration draws θ from the prior and data from the simulator, then ranks each true θ among the network\'s samples: a calibrated network gives flat rank histograms and coverage on the diagonal.';
    else this.note.textContent = summaryText(this.result!);
  }

  draw(theme: ThemeColors, colors: PanelColors): void {
    if (!this.result) return;
    const { ctx, width, height } = prepareCanvas(this.canvas, HEIGHT);
    const c = this.result;
    const shown = Math.min(MAX_PAIR_DIMS, c.thetaNames.length);
    const coverageWidth = Math.min(200, width * 0.32);
    const gap = 14;
    const histogramWidth = (width - coverageWidth - 44 - gap * (shown + 1)) / shown;
    const top = 18;
    const plotHeight = height - top - 34;
    const { counts, band, expected, bins } = c.histogram;
    const yMax = Math.max(band.high, ...counts.slice(0, shown).flat()) * 1.1;
    ctx.font = font(theme, 0.85);
    for (let p = 0; p < shown; p++) {
      const f: Frame = { left: 30 + p * (histogramWidth + gap), top, width: histogramWidth, height: plotHeight, x: [0, bins], y: [0, yMax] };
      drawAxes(ctx, f, theme, { xTicks: false, yTicks: p === 0, tickCount: 3, xLabel: `rank of ${c.thetaNames[p]}` });
      // The band a calibrated network's counts stay in (per bin, 99%), and its expected count.
      const [, bandTop] = toPx(f, 0, band.high);
      const [, bandBottom] = toPx(f, 0, band.low);
      ctx.fillStyle = theme.muted;
      ctx.globalAlpha = 0.18;
      ctx.fillRect(f.left, bandTop, f.width, bandBottom - bandTop);
      ctx.globalAlpha = 1;
      ctx.fillStyle = colors.network;
      for (let j = 0; j < bins; j++) {
        const [x0, y0] = toPx(f, j + 0.1, counts[p][j]);
        const [x1, y1] = toPx(f, j + 0.9, 0);
        ctx.globalAlpha = counts[p][j] < band.low || counts[p][j] > band.high ? 1 : 0.7;
        ctx.fillRect(x0, y0, x1 - x0, y1 - y0);
      }
      ctx.globalAlpha = 1;
      ctx.strokeStyle = theme.foreground;
      ctx.setLineDash([4, 3]);
      const [, ey] = toPx(f, 0, expected);
      ctx.beginPath();
      ctx.moveTo(f.left, ey);
      ctx.lineTo(f.left + f.width, ey);
      ctx.stroke();
      ctx.setLineDash([]);
    }
    const g: Frame = { left: width - coverageWidth - 4, top, width: coverageWidth, height: plotHeight, x: [0, 1], y: [0, 1] };
    drawAxes(ctx, g, theme, { tickCount: 2, xLabel: 'credible level', yLabel: 'coverage' });
    ctx.strokeStyle = theme.muted;
    ctx.setLineDash([4, 3]);
    ctx.beginPath();
    ctx.moveTo(...toPx(g, 0, 0));
    ctx.lineTo(...toPx(g, 1, 1));
    ctx.stroke();
    ctx.setLineDash([]);
    const curve = (values: number[], lineWidth: number, alpha: number) => {
      ctx.strokeStyle = colors.network;
      ctx.lineWidth = lineWidth;
      ctx.globalAlpha = alpha;
      ctx.beginPath();
      ctx.moveTo(...toPx(g, 0, 0));
      values.forEach((v, i) => ctx.lineTo(...toPx(g, c.coverage.levels[i], v)));
      ctx.lineTo(...toPx(g, 1, 1));
      ctx.stroke();
      ctx.globalAlpha = 1;
      ctx.lineWidth = 1;
    };
    for (const row of c.coverage.perDimension.slice(0, 24)) curve(row, 1, 0.3);
    curve(c.coverage.mean, 2, 1);
  }
}

/** What the result says, in words: the histograms' test and the coverage at 50% and 90%. */
function summaryText(c: PanelCalibration): string {
  const { k, l } = c.settings;
  const at = (level: number) => c.coverage.mean[c.coverage.levels.findIndex((v) => Math.abs(v - level) < 1e-9)];
  const coverage = `mean coverage of the 50% / 90% intervals: ${pct(at(0.5))} / ${pct(at(0.9))}`;
  const scope = c.thetaNames.length > MAX_PAIR_DIMS ? ` Histograms of the first ${MAX_PAIR_DIMS} of ${c.thetaNames.length} parameters; thin lines: coverage per parameter.` : '';
  return `Step ${c.step}: ${k} data sets from the simulator, ${l} network samples each (${(c.ms / 1000).toFixed(1)} s). ${c.verdict.text} The ${coverage}. Grey band: where a calibrated network's bin counts fall 99% of the time; dashed: the expected count.${scope}`;
}

const pct = (v: number | undefined) => (v === undefined ? '–' : `${(v * 100).toFixed(0)}%`);
