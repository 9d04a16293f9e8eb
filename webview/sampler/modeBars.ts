/**
 * Samples per mode of a mixture target, as bars: one bar per component (numbered as in the
 * target's list of means), the share of samples within the rule's radius of its mean, and the
 * rule's threshold as a line: a bar above it is a covered mode. The bars of a 25GMM read like
 * the grid (5 rows of 5) only in a legend; the picture keeps the list order, labelled.
 *
 * Test hooks on the canvas: data-covered, data-modes, data-counts (JSON).
 */
import type { SamplerSamples } from '../../src/protocol/sampler';
import { drawAxes, font, prepareCanvas, toPx, type Frame } from '../posterior/canvas';
import { withAlpha, type ThemeColors } from '../common/theme';

export function drawModeBars(canvas: HTMLCanvasElement, perMode: NonNullable<SamplerSamples['perMode']>, n: number, theme: ThemeColors, color: string): void {
  const { counts, rule, covered } = perMode;
  const { ctx, width, height } = prepareCanvas(canvas, 170);
  const shares = counts.map((c) => c / Math.max(1, n));
  const top = Math.max(rule.share * 2, ...shares) * 1.08;
  const frame: Frame = { left: 46, top: 8, width: width - 56, height: height - 8 - 34, x: [0, counts.length], y: [0, top] };
  drawAxes(ctx, frame, theme, { xTicks: false, yLabel: 'share', tickCount: 4 });
  const slot = frame.width / Math.max(1, counts.length);
  const barWidth = Math.max(2, slot * 0.72);
  ctx.font = font(theme, 0.8);
  shares.forEach((share, k) => {
    const [x0, y0] = toPx(frame, k, share);
    const [, base] = toPx(frame, k, 0);
    const isCovered = share >= rule.share;
    ctx.fillStyle = isCovered ? color : withAlpha(color, 0.3);
    ctx.fillRect(x0 + (slot - barWidth) / 2, y0, barWidth, base - y0);
    if (slot >= 14 || k % 5 === 0) {
      ctx.fillStyle = theme.muted;
      ctx.textAlign = 'center';
      ctx.textBaseline = 'top';
      ctx.fillText(String(k + 1), x0 + slot / 2, base + 3);
    }
  });
  // The rule's threshold: a mode counts when this share of the samples is within the radius.
  const [, thresholdY] = toPx(frame, 0, rule.share);
  ctx.strokeStyle = theme.foreground;
  ctx.setLineDash([4, 3]);
  ctx.beginPath();
  ctx.moveTo(frame.left, thresholdY);
  ctx.lineTo(frame.left + frame.width, thresholdY);
  ctx.stroke();
  ctx.setLineDash([]);
  ctx.fillStyle = theme.foreground;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  ctx.fillText('mode', frame.left + frame.width / 2, frame.top + frame.height + 17);
  canvas.dataset.covered = String(covered);
  canvas.dataset.modes = String(counts.length);
  canvas.dataset.counts = JSON.stringify(counts);
  canvas.setAttribute('aria-label', `Samples per mode: ${covered} of ${counts.length} modes hold at least ${(rule.share * 100).toFixed(1)}% of the samples within ${rule.radius} of their mean`);
}
