/**
 * What the Posterior panel shows, computed from a trained amortized-posterior network and a data
 * set the user edits: samples of q(theta | D) from one forward pass, the exact posterior where the
 * model is conjugate (Gaussian mean, linear regression), the posterior predictive band of a 1-D
 * regression and the predictive probability field of a 2-D classification. Plain JSON out, so
 * the worker can post it as is. Nothing here knows about VS Code or the run store.
 */
import * as tf from '@tensorflow/tfjs';
import { buildExperiment } from '../experiment';
import { restoreWeights } from '../optimizers';
import { createRng } from '../rng';
import type { Checkpoint } from '../sink';
import type { ResolvedSpec } from '../spec/types';
import { disposeExperiment } from '../train';
import { parseDataSet, PosteriorInputError } from './cli';
import { emptyDataSets, networkInputs, type DataSets } from './dataSets';
import { splitCondition } from './families';
import { cholesky } from './linalg';
import { symmetricKlDiagonal, type GaussianPosterior } from './exact';
import { AmortizedPosteriorModel } from './model';
import { GaussianMixtureModel } from './models/gaussianMixture';
import { ParametricFunctionModel } from './models/parametricFunction';
import type { ProbabilisticModel } from './models/types';
import { posteriorPredictiveCheck, PREDICTIVE_WARNING_P, type PredictiveCheck } from './predictiveCheck';
import { sampleMoments } from './metrics';
import { referencePosterior, type PanelReference } from './panelReference';
import { isPosteriorTask, type PosteriorTask } from './tasks';
import { sampleMatrix, type SampleMatrix } from '../../shared/sampleMatrix';

// ------------------------------------------------------------------ JSON shapes

/** A data set as the user sees it: one row of features per point, and targets when the model has them. */
export interface PanelData {
  x: number[][];
  /** Omitted for density models (Gaussian mean, mixture). */
  y?: number[];
}

/** Axis ranges of the data plot; the band and the field are computed over them. */
export interface PanelView {
  x: [number, number];
  y: [number, number];
}

/** How the panel draws the data: points in x-space, (x, y) with a band, or classes over a field. */
export type DataPlotKind = 'density' | 'regression' | 'classification';

export interface PosteriorTaskInfo {
  task: string;
  /** Probabilistic model, e.g. 'gaussian-mean'. */
  model: string;
  xDim: number;
  target: 'none' | 'real' | 'class';
  classes: number;
  thetaDim: number;
  thetaNames: string[];
  encoder: string;
  family: string;
  objective: string;
  /** An exact posterior is computed for every data set (GM, LR). */
  hasExact: boolean;
  /** Data-set sizes the network was trained on. */
  trainedSizes: [number, number];
  plot: DataPlotKind;
}

export interface PosteriorExample {
  task: PosteriorTaskInfo;
  index: number;
  data: PanelData;
  /** The parameters the example was simulated from. */
  theta: number[];
}

export interface Band {
  mean: number[];
  /** 5% quantile. */
  lower: number[];
  /** 95% quantile. */
  upper: number[];
}

export interface PosteriorPanelResult {
  step: number;
  points: number;
  /** n samples of the network's posterior q(theta | D), dim P. */
  samples: SampleMatrix;
  network: {
    /** Over the samples. */
    mean: number[];
    std: number[];
    /** The Gaussian family's own mean and variance (no Monte Carlo error). */
    gaussian?: { mean: number[]; variance: number[] };
  };
  exact?: {
    mean: number[];
    covariance: number[][];
    std: number[];
    /** Samples of the exact posterior, drawn with the same count. */
    samples: SampleMatrix;
    /** Symmetric KL between the Gaussian q and the exact posterior, divided by dim theta (Gaussian family only). */
    symmetricKlPerDim?: number;
  };
  /** 1-D regression: f(x; theta) over a grid of x, mean and 5-95% quantiles over posterior samples. */
  band?: { x: number[]; network: Band; exact?: Band };
  /** 2-D classification: predictive class probabilities averaged over posterior samples, on a grid. */
  field?: {
    xs: number[];
    ys: number[];
    classes: number;
    /** Row-major [ys.length][xs.length][classes]. */
    probabilities: number[];
  };
  /** Posterior predictive check of this data set against the training simulator (none for an empty set). */
  predictiveCheck?: PredictiveCheck;
  /** Reasons to distrust the network's answer for this data set. */
  warnings: string[];
  timing: { networkMs: number; totalMs: number };
}

export interface PosteriorRequestOptions {
  samples: number;
  /** Same seed, same base noise: an edit moves the sample cloud instead of redrawing it. */
  seed?: number;
  view?: PanelView;
}

export const MAX_PANEL_SAMPLES = 5000;
export const MAX_PANEL_POINTS = 2000;
const BAND_GRID = 80;
const BAND_SAMPLES = 200;
const FIELD_GRID = 28;
const FIELD_SAMPLES = 32;
/** z of the 95% quantile of a standard normal. */
const Z95 = 1.6448536269514722;

// ------------------------------------------------------------------ the loaded network

/** A posterior run's task and trained network at one checkpoint. Owns tensors: dispose(). */
export interface PosteriorPanelModel {
  readonly spec: ResolvedSpec;
  readonly step: number;
  readonly task: PosteriorTask;
  readonly network: AmortizedPosteriorModel;
  dispose(): void;
}

/** Builds the run's experiment and copies the checkpoint's weights in (the caller keeps the checkpoint's tensors). */
export function openPosteriorPanelModel(spec: ResolvedSpec, checkpoint: Checkpoint): PosteriorPanelModel {
  const experiment = buildExperiment(spec);
  const { task, model } = experiment;
  if (!isPosteriorTask(task) || !(model instanceof AmortizedPosteriorModel)) {
    disposeExperiment(experiment);
    throw new PosteriorInputError(
      `run '${spec.name}' is not a posterior run (task '${spec.task.name}', model '${spec.model.name}'): the Posterior panel needs a 'posterior-*' task and model 'amortized-posterior'`,
    );
  }
  try {
    restoreWeights(model.parameters, checkpoint.weights);
  } catch (error) {
    disposeExperiment(experiment);
    throw error;
  }
  return { spec, step: checkpoint.step, task, network: model, dispose: () => disposeExperiment(experiment) };
}

// ------------------------------------------------------------------ task description

export function describeTask(panel: PosteriorPanelModel): PosteriorTaskInfo {
  const { spec, task } = panel;
  const model = task.model;
  return {
    task: spec.task.name,
    model: model.name,
    xDim: model.xDim,
    target: model.target,
    classes: model.classes,
    thetaDim: model.thetaDim,
    thetaNames: thetaNames(model),
    encoder: String(spec.model.encoder ?? ''),
    family: panel.network.family.kind,
    objective: spec.objective.name,
    hasExact: task.exactPosterior !== undefined,
    trainedSizes: [task.sizes.contextMin, task.sizes.contextMax],
    plot: model.target === 'none' ? 'density' : model.target === 'real' ? 'regression' : 'classification',
  };
}

/** Readable names of the parameters, in theta's layout. */
export function thetaNames(model: ProbabilisticModel): string[] {
  const generic = () => Array.from({ length: model.thetaDim }, (_, i) => `θ${i + 1}`);
  if (model.name === 'gaussian-mean') return Array.from({ length: model.thetaDim }, (_, i) => `μ${i + 1}`);
  if (model instanceof GaussianMixtureModel) {
    return Array.from({ length: model.thetaDim }, (_, i) => `μ${Math.floor(i / model.dim) + 1},${(i % model.dim) + 1}`);
  }
  if (model instanceof ParametricFunctionModel && model.layers.length === 1) {
    const { inputs, outputs } = model.layers[0];
    const suffix = (o: number) => (outputs === 1 ? '' : `,${o + 1}`);
    const kernel = Array.from({ length: inputs * outputs }, (_, k) => `w${Math.floor(k / outputs) + 1}${suffix(k % outputs)}`);
    const bias = Array.from({ length: outputs }, (_, o) => (outputs === 1 ? 'b' : `b${o + 1}`));
    return [...kernel, ...bias];
  }
  return generic();
}

// ------------------------------------------------------------------ a data set to start from

/** Data set `index` simulated from the task's prior and likelihood, with as many points as the smallest training set. */
export function simulatedExample(panel: PosteriorPanelModel, index: number): PosteriorExample {
  if (!Number.isInteger(index) || index < 0) throw new PosteriorInputError(`example index must be a non-negative integer, got ${index}`);
  const model = panel.task.model;
  const rng = createRng(panel.spec.seed, 'posterior-panel-example', index);
  const theta = Array.from({ length: model.thetaDim }, () => rng.normal());
  const n = panel.task.sizes.contextMin;
  const points = model.simulate(theta, n, rng);
  const x = Array.from({ length: n }, (_, i) => Array.from(points.x.subarray(i * model.xDim, (i + 1) * model.xDim)));
  const data: PanelData = model.target === 'none' ? { x } : { x, y: Array.from(points.y.subarray(0, n)) };
  return { task: describeTask(panel), index, data, theta };
}

// ------------------------------------------------------------------ the posterior of a data set

/** The user's data as one data set; an empty data set is allowed (the posterior is then the prior). */
function dataSetOf(data: PanelData, model: ProbabilisticModel): DataSets {
  const x = (data as { x?: unknown })?.x;
  if (Array.isArray(x) && x.length === 0) return emptyDataSets(1, 1, model.xDim);
  if (Array.isArray(x) && x.length > MAX_PANEL_POINTS) {
    throw new PosteriorInputError(`data: at most ${MAX_PANEL_POINTS} points, got ${x.length}`);
  }
  return parseDataSet(data, model);
}

/**
 * An HMC reference posterior for the user's data set beside `samples` draws of the network's
 * posterior (same seed as posteriorForData, so the cloud it is compared with is the one shown).
 */
export function referenceForData(panel: PosteriorPanelModel, data: PanelData, options: PosteriorRequestOptions): PanelReference {
  const { samples: n, seed = 0 } = options;
  if (!Number.isInteger(n) || n < 2 || n > MAX_PANEL_SAMPLES) {
    throw new PosteriorInputError(`samples must be an integer in 2..${MAX_PANEL_SAMPLES}, got ${n}`);
  }
  const sets = dataSetOf(data, panel.task.model);
  const { samples } = networkSamples(panel, sets, n, seed);
  return referencePosterior(panel.task.model, sets, samples);
}

export function posteriorForData(panel: PosteriorPanelModel, data: PanelData, options: PosteriorRequestOptions): PosteriorPanelResult {
  const started = performance.now();
  const { samples: n, seed = 0 } = options;
  if (!Number.isInteger(n) || n < 1 || n > MAX_PANEL_SAMPLES) {
    throw new PosteriorInputError(`samples must be an integer in 1..${MAX_PANEL_SAMPLES}, got ${n}`);
  }
  const model = panel.task.model;
  const sets = dataSetOf(data, model);
  const points = sets.sizes[0];

  const { samples, gaussian } = networkSamples(panel, sets, n, seed);
  const networkMs = performance.now() - started;
  const moments = sampleMoments(samples, model.thetaDim);

  const exactPosterior = panel.task.exactPosterior?.(sets, 0);
  const exact = exactPosterior ? exactSummary(exactPosterior, n, seed, gaussian) : undefined;
  const view = options.view ?? defaultView(sets, model);
  const band = model instanceof ParametricFunctionModel && model.target === 'real' && model.xDim === 1
    ? regressionBand(model, samples, view, exactPosterior)
    : undefined;
  const field = model instanceof ParametricFunctionModel && model.target === 'class' && model.xDim === 2
    ? classificationField(model, samples, view)
    : undefined;
  const predictiveCheck = points > 0 ? posteriorPredictiveCheck(model, sets, samples, seed) : undefined;

  return {
    step: panel.step,
    points,
    samples: sampleMatrix(samples, model.thetaDim),
    network: { ...moments, ...(gaussian ? { gaussian } : {}) },
    ...(exact ? { exact } : {}),
    ...(band ? { band } : {}),
    ...(field ? { field } : {}),
    ...(predictiveCheck ? { predictiveCheck } : {}),
    warnings: warningsFor(panel, sets, predictiveCheck),
    timing: { networkMs, totalMs: performance.now() - started },
  };
}

/** One forward pass and n samples from the family; the Gaussian family's own moments too. */
function networkSamples(panel: PosteriorPanelModel, sets: DataSets, n: number, seed: number) {
  const { network, task } = panel;
  const P = task.model.thetaDim;
  return tf.tidy(() => {
    const condition = network.forward(networkInputs(task.model, sets)).output;
    const noise = tf.randomNormal([1, n, P], 0, 1, 'float32', createRng(seed, 'posterior-panel').int32());
    const samples = (network.family.sample(condition, noise).theta.arraySync() as number[][][])[0];
    let gaussian: { mean: number[]; variance: number[] } | undefined;
    if (network.family.kind === 'gaussian') {
      const { mean, logVariance } = splitCondition(condition, P);
      gaussian = {
        mean: (mean.arraySync() as number[][][])[0][0],
        variance: (tf.exp(logVariance).arraySync() as number[][][])[0][0],
      };
    }
    return { samples, gaussian };
  });
}

function exactSummary(exact: GaussianPosterior, n: number, seed: number, gaussian?: { mean: number[]; variance: number[] }) {
  const { dim, mean, covariance } = exact;
  const l = cholesky(covariance, dim);
  const rng = createRng(seed, 'posterior-panel-exact');
  const samples = Array.from({ length: n }, () => {
    const z = Array.from({ length: dim }, () => rng.normal());
    return Array.from({ length: dim }, (_, i) => {
      let value = mean[i];
      for (let k = 0; k <= i; k++) value += l[i * dim + k] * z[k];
      return value;
    });
  });
  const rows = Array.from({ length: dim }, (_, i) => Array.from(covariance.subarray(i * dim, (i + 1) * dim)));
  return {
    mean: Array.from(mean),
    covariance: rows,
    std: rows.map((row, i) => Math.sqrt(row[i])),
    samples: sampleMatrix(samples, dim),
    ...(gaussian ? { symmetricKlPerDim: symmetricKlDiagonal(gaussian.mean, gaussian.variance, exact) / dim } : {}),
  };
}

/** The data's extent with a margin, and at least the simulator's usual range [-3, 3]. */
export function defaultView(sets: DataSets, model: ProbabilisticModel): PanelView {
  const n = sets.sizes[0];
  const column = (f: number) => Array.from({ length: n }, (_, i) => sets.x[i * sets.xDim + f]);
  const span = (values: number[]): [number, number] => {
    const lo = Math.min(-3, ...values);
    const hi = Math.max(3, ...values);
    const pad = 0.08 * (hi - lo);
    return [lo - pad, hi + pad];
  };
  const first = span(column(0));
  if (model.target === 'real') return { x: first, y: span(Array.from(sets.y.subarray(0, n))) };
  if (model.xDim >= 2) return { x: first, y: span(column(1)) };
  return { x: first, y: [-1, 1] };
}

const grid = ([lo, hi]: [number, number], count: number) => Array.from({ length: count }, (_, i) => lo + ((hi - lo) * i) / (count - 1));

/**
 * f(x; theta) of every input for one parameter vector, in plain loops: for the panel's grids this
 * is several times faster than building tensors per request. inputs [G, d] -> out [G, outputs].
 */
function evaluateOnGrid(model: ParametricFunctionModel, theta: ArrayLike<number>, inputs: Float64Array, count: number): Float64Array {
  let h = inputs;
  let width = model.xDim;
  model.layers.forEach((layer, l) => {
    const next = new Float64Array(count * layer.outputs);
    const biasAt = layer.offset + layer.inputs * layer.outputs;
    const hidden = l + 1 < model.layers.length;
    const relu = model.options.activation === 'relu';
    for (let g = 0; g < count; g++) {
      for (let o = 0; o < layer.outputs; o++) {
        let sum = layer.bias ? theta[biasAt + o] : 0;
        for (let i = 0; i < layer.inputs; i++) sum += h[g * width + i] * theta[layer.offset + i * layer.outputs + o];
        next[g * layer.outputs + o] = hidden ? (relu ? Math.max(0, sum) : Math.tanh(sum)) : sum;
      }
    }
    h = next;
    width = layer.outputs;
  });
  return h;
}

function quantile(sorted: number[], q: number): number {
  const at = q * (sorted.length - 1);
  const below = Math.floor(at);
  const above = Math.min(sorted.length - 1, below + 1);
  return sorted[below] + (sorted[above] - sorted[below]) * (at - below);
}

function regressionBand(model: ParametricFunctionModel, samples: number[][], view: PanelView, exact?: GaussianPosterior) {
  const x = grid(view.x, BAND_GRID);
  const inputs = Float64Array.from(x);
  const values = samples.slice(0, BAND_SAMPLES).map((theta) => evaluateOnGrid(model, theta, inputs, x.length));
  const network: Band = { mean: [], lower: [], upper: [] };
  x.forEach((_, g) => {
    const column = values.map((perSample) => perSample[g]).sort((a, b) => a - b);
    network.mean.push(column.reduce((sum, v) => sum + v, 0) / column.length);
    network.lower.push(quantile(column, 0.05));
    network.upper.push(quantile(column, 0.95));
  });
  let exactBand: Band | undefined;
  if (exact && exact.dim === 2) {
    // f = w x + b is Gaussian under the exact posterior of (w, b): its quantiles are closed-form.
    const [m, c] = [exact.mean, exact.covariance];
    exactBand = { mean: [], lower: [], upper: [] };
    for (const v of x) {
      const mean = m[0] * v + m[1];
      const sd = Math.sqrt(c[0] * v * v + 2 * c[1] * v + c[3]);
      exactBand.mean.push(mean);
      exactBand.lower.push(mean - Z95 * sd);
      exactBand.upper.push(mean + Z95 * sd);
    }
  }
  return { x, network, ...(exactBand ? { exact: exactBand } : {}) };
}

function classificationField(model: ParametricFunctionModel, samples: number[][], view: PanelView) {
  const xs = grid(view.x, FIELD_GRID);
  const ys = grid(view.y, FIELD_GRID);
  const inputs = Float64Array.from(ys.flatMap((y) => xs.flatMap((x) => [x, y])));
  const cells = xs.length * ys.length;
  const C = model.classes;
  const { likelihood } = model.options;
  const temperature = likelihood.kind === 'categorical' ? likelihood.temperature : 1;
  const used = samples.slice(0, FIELD_SAMPLES);
  const probabilities = new Array<number>(cells * C).fill(0);
  for (const theta of used) {
    const logits = evaluateOnGrid(model, theta, inputs, cells);
    for (let g = 0; g < cells; g++) {
      let top = -Infinity;
      for (let c = 0; c < C; c++) top = Math.max(top, logits[g * C + c] / temperature);
      let total = 0;
      for (let c = 0; c < C; c++) total += Math.exp(logits[g * C + c] / temperature - top);
      for (let c = 0; c < C; c++) probabilities[g * C + c] += Math.exp(logits[g * C + c] / temperature - top) / total / used.length;
    }
  }
  return { xs, ys, classes: model.classes, probabilities };
}

/** Signs that the network is extrapolating: sizes it never saw, inputs the simulator does not produce. */
function warningsFor(panel: PosteriorPanelModel, sets: DataSets, check?: PredictiveCheck): string[] {
  const warnings: string[] = [];
  const n = sets.sizes[0];
  const { contextMin, contextMax } = panel.task.sizes;
  if (n < contextMin || n > contextMax) {
    warnings.push(`The network was trained on data sets of ${contextMin}–${contextMax} points; this one has ${n}, so its posterior is an extrapolation.`);
  }
  const model = panel.task.model;
  if (model.target !== 'none') {
    // The simulator draws x ~ N(0, I): |x| > 4 happens for fewer than 1 point in 15,000.
    let outside = 0;
    for (let i = 0; i < n * sets.xDim; i++) if (Math.abs(sets.x[i]) > 4) outside++;
    if (outside > 0) warnings.push(`${outside} input value${outside === 1 ? '' : 's'} beyond ±4: the training simulator draws x ~ N(0, I) and almost never goes there.`);
  }
  if (check && check.pValue < PREDICTIVE_WARNING_P) {
    warnings.push(
      `This data set looks unlike the training simulator: posterior predictive check p = ${check.pValue.toPrecision(2)} ` +
        `(it is less likely under the network's posterior than ${(100 * (1 - check.pValue)).toFixed(1)}% of ${check.replicates} data sets simulated from it). ` +
        'The network was trained on the simulator only, so its posterior here is an extrapolation (misspecification).',
    );
  }
  return warnings;
}
