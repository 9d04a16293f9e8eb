/**
 * Auto-contrast for heatmaps: a map's colours run from its own lowest to its highest value, and
 * the colour bar under it prints that range. On a fixed 0..1 scale the maps of a short run (every
 * attention weight near 1/n, every similarity near 1/2) all look the same colour; stretched to
 * their range, the structure they already have shows, and the printed range says how faint it is.
 */

export interface ColorScale {
  /** The value drawn as the scale's first colour. */
  readonly min: number;
  /** The value drawn as the scale's last colour. */
  readonly max: number;
  /** True when every value was the same: the scale is 0..1 (or wider) instead of a zero span. */
  readonly flat: boolean;
}

/**
 * The finite min..max of `values` (NaN and infinities are no data); a map with one value keeps
 * 0..1 around it. `skipZeros`: exact zeros are masked positions, not values (a token's attention
 * to itself is masked out, so a short run's map would otherwise span 0..0.12 and leave its
 * 0.09..0.12 structure in one shade); they still draw as the scale's first colour.
 */
export function autoScale(values: Iterable<number>, options: { skipZeros?: boolean } = {}): ColorScale {
  let min = Infinity;
  let max = -Infinity;
  for (const value of values) {
    if (!Number.isFinite(value) || (options.skipZeros && value === 0)) continue;
    if (value < min) min = value;
    if (value > max) max = value;
  }
  if (min === Infinity) return { min: 0, max: 1, flat: true };
  if (max - min <= 1e-12 * Math.max(1, Math.abs(max))) return { min: Math.min(0, min), max: Math.max(1, max), flat: true };
  return { min, max, flat: false };
}

/** Where `value` lies on the scale, 0 (min) .. 1 (max), clipped; NaN stays NaN (no data). */
export function onScale(scale: ColorScale, value: number): number {
  if (Number.isNaN(value)) return Number.NaN;
  return Math.min(1, Math.max(0, (value - scale.min) / (scale.max - scale.min)));
}

/** A scale end as printed under a map: enough digits to tell the two ends apart (0.098 .. 0.104). */
export function scaleText(scale: ColorScale): [string, string] {
  for (let digits = 2; digits <= 6; digits++) {
    const low = scale.min.toFixed(digits);
    const high = scale.max.toFixed(digits);
    if (low !== high) return [low, high];
  }
  return [scale.min.toPrecision(6), scale.max.toPrecision(6)];
}
