/**
 * Batches of simulated data sets for the posterior tasks. A batch holds B data sets, each of
 * its own size, padded to a fixed capacity; valid points come first. The network's input packs
 * each point's token with a presence flag (1 = point, 0 = padding) as the last feature, so the
 * mask travels with the data through every code path (training, evaluation, inference).
 */
import * as tf from '@tensorflow/tfjs';
import type { Batch } from '../registry';
import type { Rng } from '../rng';
import { tokensOf } from './models/common';
import type { Points, ProbabilisticModel } from './models/types';

export interface DataSets {
  count: number;
  /** Padded length N. */
  capacity: number;
  sizes: number[];
  xDim: number;
  /** [count, capacity, xDim] */
  x: Float32Array;
  /** [count, capacity] */
  y: Float32Array;
}

/** What the posterior objectives need beyond inputs and targets (plain arrays: nothing to dispose). */
export interface PosteriorBatchData {
  /** The context each network conditions on. */
  context: DataSets;
  /** Held-out points from the same theta (or the same draw of a data source without theta), for the predictive metrics. */
  heldOut: DataSets;
  /**
   * True parameters [count, P]; absent for data sets no parametric model generated (e.g. the
   * Gaussian-process source): anything that needs theta must check, never read the targets instead.
   */
  theta?: Float32Array;
  /** Seeds the objective's reparameterisation noise, so a batch always gives the same loss. */
  noiseSeed: number;
}

export interface PosteriorBatch extends Batch {
  posterior: PosteriorBatchData;
}

/** A batch simulated from the assumed model: theta is known. */
export interface SimulatedBatch extends PosteriorBatch {
  posterior: PosteriorBatchData & { theta: Float32Array };
}

export const isPosteriorBatch = (batch: Batch | undefined): batch is PosteriorBatch =>
  batch !== undefined && 'posterior' in batch && typeof (batch as PosteriorBatch).posterior === 'object';

export function emptyDataSets(count: number, capacity: number, xDim: number): DataSets {
  return {
    count,
    capacity,
    sizes: new Array<number>(count).fill(0),
    xDim,
    x: new Float32Array(count * capacity * xDim),
    y: new Float32Array(count * capacity),
  };
}

/** x [B, N, xDim], y [B, N], mask [B, N] tensors (call inside tf.tidy). */
export function dataSetTensors(sets: DataSets) {
  const { count, capacity, xDim, sizes } = sets;
  const mask = new Float32Array(count * capacity);
  sizes.forEach((n, b) => mask.fill(1, b * capacity, b * capacity + n));
  return {
    x: tf.tensor3d(sets.x, [count, capacity, xDim]),
    y: tf.tensor2d(sets.y, [count, capacity]),
    mask: tf.tensor2d(mask, [count, capacity]),
  };
}

/** The network input [B, N, tokenDim + 1]: tokens plus the presence flag. */
export function networkInputs(model: ProbabilisticModel, sets: DataSets): tf.Tensor3D {
  const { count, capacity, xDim, sizes } = sets;
  const width = model.tokenDim + 1;
  const inputs = new Float32Array(count * capacity * width);
  for (let b = 0; b < count; b++) {
    const n = sizes[b];
    const points = {
      x: sets.x.subarray(b * capacity * xDim, (b * capacity + n) * xDim),
      y: sets.y.subarray(b * capacity, b * capacity + n),
    };
    const tokens = tokensOf(model, points, n);
    for (let i = 0; i < n; i++) {
      inputs.set(tokens.subarray(i * model.tokenDim, (i + 1) * model.tokenDim), (b * capacity + i) * width);
      inputs[(b * capacity + i) * width + model.tokenDim] = 1;
    }
  }
  return tf.tensor3d(inputs, [count, capacity, width]);
}

/** Splits network inputs into tokens [B, N, F] and mask [B, N]. */
export function splitInputs(inputs: tf.Tensor): { tokens: tf.Tensor; mask: tf.Tensor } {
  const width = inputs.shape[2]!;
  const [tokens, presence] = tf.split(inputs, [width - 1, 1], -1);
  return { tokens, mask: tf.squeeze(presence, [-1]) };
}

export interface SimulationSizes {
  contextMin: number;
  contextMax: number;
  heldOut: number;
}

/** One data set as drawn: its context size, then context and held-out points in one array. */
export interface DrawnDataSet {
  contextSize: number;
  points: Points;
}

/**
 * Packs drawn data sets into a batch (context padded to contextMax). With theta [count, P] the
 * targets are theta; without it (a source with no true parameters) they are NaN, so any code
 * that reads targets it should not have read gives NaN rather than a plausible number.
 */
export function packBatch(model: ProbabilisticModel, sizes: SimulationSizes, drawn: DrawnDataSet[], theta: Float32Array | undefined, noiseSeed: number): PosteriorBatch {
  const { contextMax, heldOut } = sizes;
  const count = drawn.length;
  const context = emptyDataSets(count, contextMax, model.xDim);
  const held = emptyDataSets(count, heldOut, model.xDim);
  drawn.forEach(({ contextSize: n, points }, b) => {
    context.sizes[b] = n;
    context.x.set(points.x.subarray(0, n * model.xDim), b * contextMax * model.xDim);
    context.y.set(points.y.subarray(0, n), b * contextMax);
    held.sizes[b] = heldOut;
    held.x.set(points.x.subarray(n * model.xDim, (n + heldOut) * model.xDim), b * heldOut * model.xDim);
    held.y.set(points.y.subarray(n, n + heldOut), b * heldOut);
  });
  const thetaOf = (b: number) => Array.from(theta!.subarray(b * model.thetaDim, (b + 1) * model.thetaDim));
  return {
    inputs: networkInputs(model, context),
    targets: tf.tensor2d(theta ?? new Float32Array(count * model.thetaDim).fill(Number.NaN), [count, model.thetaDim]),
    truth: context.sizes.map((n, b) => (theta ? { points: n, theta: thetaOf(b) } : { points: n })),
    posterior: { context, heldOut: held, ...(theta ? { theta } : {}), noiseSeed },
  };
}

/** N ~ U{contextMin..contextMax}. */
export const drawContextSize = ({ contextMin, contextMax }: SimulationSizes, rng: Rng) => contextMin + rng.int(contextMax - contextMin + 1);

/** B data sets from the prior: theta ~ N(0, I), N ~ U{contextMin..contextMax}, plus held-out points. */
export function simulateBatch(model: ProbabilisticModel, count: number, sizes: SimulationSizes, rng: Rng): SimulatedBatch {
  const theta = new Float32Array(count * model.thetaDim);
  const drawn: DrawnDataSet[] = [];
  for (let b = 0; b < count; b++) {
    const parameters = Array.from({ length: model.thetaDim }, () => rng.normal());
    theta.set(parameters, b * model.thetaDim);
    const n = drawContextSize(sizes, rng);
    drawn.push({ contextSize: n, points: model.simulate(parameters, n + sizes.heldOut, rng) });
  }
  return packBatch(model, sizes, drawn, theta, rng.int32()) as SimulatedBatch;
}
