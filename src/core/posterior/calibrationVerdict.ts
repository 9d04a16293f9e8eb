/**
 * What a simulation-based calibration result says, in words, for the Posterior panel and
 * `model-lab calibrate` alike. A chi-square p above the level is no evidence against uniform
 * ranks, not proof of calibration, so the verdict says exactly that, and it names what the
 * histograms show beside the test: bins outside the band a calibrated sampler stays in, and the
 * shape of the ranks (two tests per parameter on the ranks themselves):
 * - mean rank off L/2: the truth sits on one side of the samples, the sampler is biased;
 * - too many ranks in the outer fifths (a U shape): the samples are too narrow, over-confident;
 *   too few (a hump): too wide, under-confident.
 */
import type { CalibrationResult } from './calibration';

/** Each bin's count lies in [low, high] with probability `probability` for a calibrated sampler (per bin). */
export interface CountBand {
  low: number;
  high: number;
  probability: number;
}

export interface ParameterFinding {
  name: string;
  /** Bins (0-based) whose count lies outside the band. */
  binsOutsideBand: number[];
  /** 'high': the truth tends to lie above the samples (they under-estimate it); 'low': below. */
  bias?: 'high' | 'low';
  /** 'over-confident': ranks pile at both ends; 'under-confident': they gather in the middle. */
  dispersion?: 'over-confident' | 'under-confident';
}

export interface CalibrationVerdict {
  /** The tests' level (the shape tests are two-sided at the same level). */
  level: number;
  /** Smallest chi-square p over the parameters, times their number (Bonferroni), capped at 1. */
  pValue: number;
  /** The chi-square test rejects uniform ranks at `level`. */
  evidenceAgainstUniform: boolean;
  findings: ParameterFinding[];
  /** One paragraph: the test's outcome, then what the histograms show. */
  text: string;
}

export function calibrationVerdict(result: CalibrationResult, names: string[], band: CountBand, level = 0.01): CalibrationVerdict {
  if (!(level > 0 && level < 0.5)) throw new Error(`the calibration level must lie in (0, 0.5), got ${level}`);
  const dims = result.histogram.counts.length;
  const pValue = Math.min(1, Math.min(...result.histogram.uniformity.map((u) => u.pValue)) * dims);
  const evidenceAgainstUniform = pValue < level;
  // The shape tests are two-sided and Bonferroni-corrected over the parameters, like the chi-square.
  const zShape = normalQuantile(1 - level / (2 * dims));
  const findings = result.histogram.counts.map((counts, p) => ({
    name: names[p] ?? `theta[${p}]`,
    binsOutsideBand: counts.flatMap((count, bin) => (count < band.low || count > band.high ? [bin] : [])),
    ...rankShape(result.ranks.map((row) => row[p]), result.l, zShape),
  }));
  return { level, pValue, evidenceAgainstUniform, findings, text: describe(pValue, level, dims, findings, band) };
}

/** The mean-rank and outer-fifths tests on one parameter's ranks (0..L). */
function rankShape(ranks: number[], l: number, z: number): Pick<ParameterFinding, 'bias' | 'dispersion'> {
  const k = ranks.length;
  const values = l + 1;
  // Uniform on 0..L: mean L/2, variance ((L+1)^2 - 1) / 12.
  const mean = ranks.reduce((a, b) => a + b, 0) / k;
  const zMean = (mean - l / 2) / Math.sqrt(((values * values - 1) / 12) / k);
  // Ranks in the lowest and the highest fifth of 0..L: probability `outer` each under uniform ranks.
  const fifth = Math.floor(values / 5);
  const outer = (2 * fifth) / values;
  const inOuter = ranks.filter((r) => r < fifth || r >= values - fifth).length / k;
  const zOuter = (inOuter - outer) / Math.sqrt((outer * (1 - outer)) / k);
  return {
    ...(zMean > z ? { bias: 'high' as const } : zMean < -z ? { bias: 'low' as const } : {}),
    ...(fifth > 0 && zOuter > z ? { dispersion: 'over-confident' as const } : fifth > 0 && zOuter < -z ? { dispersion: 'under-confident' as const } : {}),
  };
}

function describe(pValue: number, level: number, dims: number, findings: ParameterFinding[], band: CountBand): string {
  const percent = `${+(level * 100).toFixed(2)}%`;
  const test = `chi-square p = ${pValue.toPrecision(2)}, Bonferroni over ${dims} parameter${dims === 1 ? '' : 's'}`;
  const outcome = pValue < level
    ? `The ranks are not uniform at the ${percent} level (${test}): the network is not calibrated.`
    : `No evidence against uniform ranks at the ${percent} level (${test}); that alone does not show calibration.`;
  const notes = findings.flatMap((f) => {
    const parts: string[] = [];
    if (f.dispersion === 'over-confident') parts.push('its ranks pile at both ends: over-confident, intervals too narrow');
    if (f.dispersion === 'under-confident') parts.push('its ranks gather in the middle: under-confident, intervals too wide');
    if (f.bias === 'high') parts.push('the truth tends to lie above the samples: it under-estimates this parameter');
    if (f.bias === 'low') parts.push('the truth tends to lie below the samples: it over-estimates this parameter');
    if (f.binsOutsideBand.length > 0) {
      parts.push(`${f.binsOutsideBand.length} bin${f.binsOutsideBand.length === 1 ? '' : 's'} outside the ${+(band.probability * 100).toFixed(0)}% band`);
    }
    return parts.length > 0 ? [`${f.name}: ${parts.join('; ')}`] : [];
  });
  return notes.length > 0 ? `${outcome} ${notes.join('. ')}.` : `${outcome} Every bin lies inside the band.`;
}

/** Inverse of the standard normal CDF (Acklam's rational approximation, |error| < 1.2e-9). */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) throw new Error(`normalQuantile needs p in (0, 1), got ${p}`);
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771696, -13.28068155211557];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const tail = (q: number) => (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  if (p < 0.02425) return tail(Math.sqrt(-2 * Math.log(p)));
  if (p > 1 - 0.02425) return -tail(Math.sqrt(-2 * Math.log(1 - p)));
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

/** The central interval of Binomial(n, p) holding at least `probability` of its mass. */
export function binomialBand(n: number, p: number, probability: number): CountBand {
  const tail = (1 - probability) / 2;
  // Probabilities by the recurrence P(j + 1) = P(j) (n - j) / (j + 1) p / (1 - p), in log space.
  const logP: number[] = [n * Math.log1p(-p)];
  for (let j = 0; j < n; j++) logP.push(logP[j] + Math.log((n - j) / (j + 1)) + Math.log(p / (1 - p)));
  const mass = logP.map(Math.exp);
  let low = 0;
  for (let below = 0; below + mass[low] <= tail; low++) below += mass[low];
  let high = n;
  for (let above = 0; above + mass[high] <= tail; high--) above += mass[high];
  return { low, high, probability };
}
