/**
 * Posterior samples as one array per coordinate, made once per answer: the ranges, histograms and
 * scatters of both plots read them on every redraw while the user edits.
 */
import { sampleColumn, type SampleMatrix } from '../../src/shared/sampleMatrix';

const cache = new WeakMap<SampleMatrix | number[][], ArrayLike<number>[]>();

/** Coordinate j of every sample, for each j; `samples` as the network's (typed) or HMC's (arrays). */
export function columnsOf(samples: SampleMatrix | number[][]): ArrayLike<number>[] {
  let columns = cache.get(samples);
  if (!columns) {
    columns = Array.isArray(samples)
      ? (samples[0] ?? []).map((_, j) => samples.map((s) => s[j]))
      : Array.from({ length: samples.dim }, (_, j) => sampleColumn(samples, j));
    cache.set(samples, columns);
  }
  return columns;
}
