/**
 * The Posterior panel's calibration section: simulation-based calibration (SBC) of the trained
 * network at the panel's checkpoint. K data sets simulated from the task's own prior and
 * simulator, L network samples for each (one forward pass for all K), rank histograms with the
 * band a calibrated sampler stays in, and the expected-coverage curve. It judges the network on
 * the simulator, not on the data set being edited.
 */
import { networkSampler, simulationBasedCalibration, type CalibrationResult } from './calibration';
import { binomialBand, calibrationVerdict, type CalibrationVerdict, type CountBand } from './calibrationVerdict';

export { binomialBand, type CountBand } from './calibrationVerdict';
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

export interface PanelCalibration {
  settings: CalibrationSettings;
  step: number;
  thetaNames: string[];
  histogram: CalibrationResult['histogram'] & { band: CountBand };
  coverage: CalibrationResult['coverage'];
  /** Smallest chi-square p-value over the dimensions, Bonferroni-corrected (times P, capped at 1). */
  uniformityPValue: number;
  /** What the test and the histograms say, in the same words as `model-lab calibrate`. */
  verdict: CalibrationVerdict;
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
  const names = thetaNames(model);
  const band = binomialBand(settings.k, 1 / settings.bins, 0.99);
  const verdict = calibrationVerdict(result, names, band);
  return {
    settings,
    step: panel.step,
    thetaNames: names,
    histogram: { ...result.histogram, band },
    coverage: result.coverage,
    uniformityPValue: verdict.pValue,
    verdict,
    ms: performance.now() - started,
  };
}
