/**
 * The Posterior panel's calibration section: simulation-based calibration (SBC) of the trained
 * network at the panel's checkpoint. K data sets simulated from the task's own prior and
 * simulator, L network samples for each (one forward pass for all K), rank histograms with the
 * band a calibrated sampler stays in, and the expected-coverage curve. It judges the network on
 * the simulator, not on the data set being edited.
 */
import { networkSampler, simulationBasedCalibration, type CalibrationResult } from './calibration';
import { thetaNames, type PosteriorPanelModel } from './panelData';

export interface CalibrationSettings {
  /** Simulated data sets. */
  k: number;
  /** Network samples per data set; L + 1 rank values, binned into `bins`. */
  l: number;
  bins: number;
  seed: number;
}

/** 200 x 99: a few seconds in the worker; 20 bins of 5 rank values, 10 data sets per bin expected. */
export const DEFAULT_CALIBRATION: CalibrationSettings = { k: 200, l: 99, bins: 20, seed: 0 };

/** Each bin's count lies in [low, high] with probability 0.99 for a calibrated sampler (per bin). */
export interface CountBand {
  low: number;
  high: number;
  probability: number;
}

export interface PanelCalibration {
  settings: CalibrationSettings;
  step: number;
  thetaNames: string[];
  histogram: CalibrationResult['histogram'] & { band: CountBand };
  coverage: CalibrationResult['coverage'];
  /** Smallest chi-square p-value over the dimensions, Bonferroni-corrected (times P, capped at 1). */
  uniformityPValue: number;
  ms: number;
}

export function calibrationForPanel(panel: PosteriorPanelModel, settings: CalibrationSettings = DEFAULT_CALIBRATION): PanelCalibration {
  const started = performance.now();
  const { model, sizes } = panel.task;
  const result = simulationBasedCalibration(model, networkSampler(panel), {
    k: settings.k,
    l: settings.l,
    bins: settings.bins,
    seed: settings.seed, // the same data sets at every checkpoint, so steps compare like for like
    contextMin: sizes.contextMin,
    contextMax: sizes.contextMax,
  });
  const smallest = Math.min(...result.histogram.uniformity.map((u) => u.pValue));
  return {
    settings,
    step: panel.step,
    thetaNames: thetaNames(model),
    histogram: { ...result.histogram, band: binomialBand(settings.k, 1 / settings.bins, 0.99) },
    coverage: result.coverage,
    uniformityPValue: Math.min(1, smallest * model.thetaDim),
    ms: performance.now() - started,
  };
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
