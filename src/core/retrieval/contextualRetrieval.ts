/**
 * Contextual Retrieval Task (Mittal et al. 2022, see docs/research/compositional-attention.md).
 *
 * N tokens, each with v_s search features, v_p retrieval features (all N(0, 1)) and a one-hot
 * context of size v_s x v_p naming, per ground-truth search s, the retrieval r_s(i) token i wants.
 *   j_s(i) = argmin_{j != i} |x_j[s] - x_i[s]|               (nearest other token on feature s)
 *   y_i    = sum_s c_s * x_{j_s(i)}[v_s + r_s(i)]
 * The OOD split trains on some tuples (r_1 .. r_vs) of retrieval choices and tests on the rest.
 *
 * The resolved spec records the split rule and the coefficient values themselves, so a run keeps
 * its task when a default changes. Specs resolved before they were recorded (neither field) meant
 * the rules of that time: the 'top-up' split and `coefficients` as named ('random' or 'ones').
 */
import * as tf from '@tensorflow/tfjs';
import type { Batch, Task } from '../registry';
import type { Rng } from '../rng';
import { coefficientValues } from './coefficients';
import type { ContextualRetrievalSpecOptions, SplitRule } from './options';

export { coefficientValues, PAPER_COEFFICIENTS } from './coefficients';
export type { CoefficientRule, ContextualRetrievalSpecOptions, SplitRule } from './options';

export interface ContextualRetrievalOptions {
  seqLen: number;
  searchFeatures: number;
  retrievalFeatures: number;
  split: 'ood' | 'iid';
  /** How split 'ood' sizes its training list (see `splitTuples`). */
  splitRule: SplitRule;
  /** c_s for each search (length searchFeatures). */
  coefficientValues: readonly number[];
}

/**
 * The task a resolved spec describes. The recorded fields win; a spec without them was resolved
 * before they existed and means that time's rules ('top-up', the values `coefficients` named).
 */
export function taskOptionsFromSpec(options: ContextualRetrievalSpecOptions, seed: number): ContextualRetrievalOptions {
  return {
    seqLen: options.seqLen,
    searchFeatures: options.searchFeatures,
    retrievalFeatures: options.retrievalFeatures,
    split: options.split,
    splitRule: options.splitRule ?? 'top-up',
    coefficientValues: options.coefficientValues ?? coefficientValues(options.coefficients, options.searchFeatures, seed),
  };
}

/** Per example: for each token i and search s, the token found and the retrieval wanted. */
export interface RetrievalTruth {
  /** [token][search] index of the nearest other token on that search feature. */
  searched: number[][];
  /** [token][search] index of the retrieval feature the context asks for. */
  retrieved: number[][];
}

/** All v_p^v_s tuples of retrieval choices, in lexicographic order (search 0 most significant). */
export function retrievalTuples(searchFeatures: number, retrievalFeatures: number): number[][] {
  const tuples: number[][] = [];
  const total = retrievalFeatures ** searchFeatures;
  for (let code = 0; code < total; code++) {
    const tuple: number[] = [];
    for (let s = searchFeatures - 1, rest = code; s >= 0; s--) {
      tuple[s] = rest % retrievalFeatures;
      rest = Math.floor(rest / retrievalFeatures);
    }
    tuples.push(tuple);
  }
  return tuples;
}

/**
 * The OOD split of the paper's code: even-indexed tuples train, odd-indexed are held out, then
 * training takes held-out tuples from the front until it holds int(0.8 x count) ('truncate': 12
 * of 16 for 2 x 4, holding out (2,1), (2,3), (3,1), (3,3)). 'top-up' is Model Lab's rule before
 * it matched the paper (kept so older runs resume unchanged): while fewer than 0.8 x count
 * (13 of 16), keeping at least one held out.
 */
export function splitTuples(tuples: number[][], rule: SplitRule = 'truncate'): { train: number[][]; test: number[][] } {
  const train = tuples.filter((_, i) => i % 2 === 0);
  const test = tuples.filter((_, i) => i % 2 === 1);
  if (rule === 'truncate') {
    const size = Math.floor(0.8 * tuples.length);
    while (train.length < size) train.push(test.shift()!);
  } else {
    while (train.length < 0.8 * tuples.length && test.length > 1) train.push(test.shift()!);
  }
  return { train, test };
}

export class ContextualRetrievalTask implements Task {
  readonly splits: readonly string[];
  readonly inputShape: readonly number[];
  readonly outputShape: readonly number[];
  readonly coefficients: number[];
  private readonly tuplesBySplit: Record<string, number[][]>;

  constructor(readonly options: ContextualRetrievalOptions) {
    const { seqLen, searchFeatures: vs, retrievalFeatures: vp } = options;
    this.inputShape = [seqLen, vs + vp + vs * vp];
    this.outputShape = [seqLen];
    if (options.coefficientValues.length !== vs) {
      throw new Error(`coefficientValues holds ${options.coefficientValues.length} values: expected one per search (searchFeatures = ${vs})`);
    }
    this.coefficients = [...options.coefficientValues];
    const tuples = retrievalTuples(vs, vp);
    if (options.split === 'ood') {
      const { train, test } = splitTuples(tuples, options.splitRule);
      this.splits = ['train', 'ood'];
      this.tuplesBySplit = { train, ood: test };
    } else {
      this.splits = ['train', 'test'];
      this.tuplesBySplit = { train: tuples, test: tuples };
    }
  }

  /** Retrieval tuples a split draws its contexts from. */
  tuples(split: string): number[][] {
    const tuples = this.tuplesBySplit[split];
    if (!tuples) throw new Error(`unknown split '${split}': expected one of ${this.splits.join(', ')}`);
    return tuples;
  }

  /**
   * Draws in a fixed order (per example: each token's features, then its tuple), so a key gives
   * the same batch on every machine. Written as flat loops over typed arrays: it runs on the
   * training step's critical path. The ground truth (`truth`) is built only when read.
   */
  batch(size: number, split: string, rng: Rng): Batch {
    const { seqLen: n, searchFeatures: vs, retrievalFeatures: vp } = this.options;
    const tuples = this.tuples(split);
    const width = this.inputShape[1];
    const contextStart = vs + vp;
    const inputs = new Float32Array(size * n * width);
    const targets = new Float32Array(size * n);
    // [example, token, search] -> token found / retrieval wanted
    const searched = new Int32Array(size * n * vs);
    const retrieved = new Int32Array(size * n * vs);

    for (let b = 0; b < size; b++) {
      const first = b * n;
      for (let i = 0; i < n; i++) {
        const row = (first + i) * width;
        for (let f = 0; f < contextStart; f++) inputs[row + f] = rng.normal();
        const tuple = tuples[rng.int(tuples.length)];
        for (let s = 0; s < vs; s++) {
          inputs[row + contextStart + s * vp + tuple[s]] = 1;
          retrieved[(first + i) * vs + s] = tuple[s];
        }
      }
      for (let i = 0; i < n; i++) {
        const row = (first + i) * width;
        let y = 0;
        for (let s = 0; s < vs; s++) {
          const own = inputs[row + s];
          let nearest = -1;
          let best = Infinity;
          for (let j = 0; j < n; j++) {
            const distance = Math.abs(inputs[(first + j) * width + s] - own);
            if (j !== i && distance < best) {
              nearest = j;
              best = distance;
            }
          }
          const at = (first + i) * vs + s;
          searched[at] = nearest;
          y += this.coefficients[s] * inputs[(first + nearest) * width + vs + retrieved[at]];
        }
        targets[first + i] = y;
      }
    }
    const truthOf = (b: number): RetrievalTruth => {
      const rows = (table: Int32Array) =>
        Array.from({ length: n }, (_, i) => Array.from(table.subarray((b * n + i) * vs, (b * n + i + 1) * vs)));
      return { searched: rows(searched), retrieved: rows(retrieved) };
    };
    let truth: RetrievalTruth[] | undefined;
    return {
      inputs: tf.tensor3d(inputs, [size, n, width]),
      targets: tf.tensor2d(targets, [size, n]),
      get truth() {
        truth ??= Array.from({ length: size }, (_, b) => truthOf(b));
        return truth;
      },
    };
  }
}
