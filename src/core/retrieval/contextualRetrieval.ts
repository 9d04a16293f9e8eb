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
import type { Batch, Task, TaskEntry } from '../registry';
import { createRng, type Rng } from '../rng';

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

/** The task's options as a resolved spec holds them (the recorded fields absent in older specs). */
export interface ContextualRetrievalSpecOptions {
  seqLen: number;
  searchFeatures: number;
  retrievalFeatures: number;
  split: 'ood' | 'iid';
  coefficients: CoefficientRule;
  splitRule?: SplitRule;
  coefficientValues?: readonly number[];
}

export type SplitRule = 'truncate' | 'top-up';
export type CoefficientRule = 'paper' | 'ones' | 'random';

/**
 * The coefficients of the paper's code (drawn once from U(-1, 1) by the authors and hard-coded in
 * its data module); the first v_s are used. They are the same in every run, so no search is
 * nearly irrelevant by the luck of a seed.
 */
export const PAPER_COEFFICIENTS: readonly number[] = [
  -0.71347752, -0.6062312, 0.66062073, -0.61213017, -0.82631877, 0.75908621, -0.36274866, 0.84383333,
];

/** The c_s a named rule stands for: the paper's, all 1, or drawn from U(-1, 1) with the seed. */
export function coefficientValues(rule: CoefficientRule, searchFeatures: number, seed: number): number[] {
  if (rule === 'paper') {
    if (searchFeatures > PAPER_COEFFICIENTS.length) throw new Error(`the paper's coefficients cover at most ${PAPER_COEFFICIENTS.length} searches`);
    return PAPER_COEFFICIENTS.slice(0, searchFeatures);
  }
  if (rule === 'ones') return Array.from({ length: searchFeatures }, () => 1);
  const rng = createRng(seed, 'contextual-retrieval', 'coefficients');
  return Array.from({ length: searchFeatures }, () => 2 * rng.next() - 1);
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

/**
 * Records in the validated options the c_s that `coefficients` names with this seed. A value
 * already there (a run's spec read as an experiment) must be exactly those: they are a record,
 * not a setting, and a stale one (another seed) is reported rather than silently used.
 */
function recordCoefficientValues(options: Record<string, unknown>, seed: number): { path: string; message: string }[] {
  const { coefficients, searchFeatures } = options as unknown as ContextualRetrievalSpecOptions;
  const values = coefficientValues(coefficients, searchFeatures, seed);
  const written = options.coefficientValues as number[] | undefined;
  if (written !== undefined && (written.length !== values.length || written.some((v, i) => v !== values[i]))) {
    const given = coefficients === 'random' ? `coefficients 'random' with seed ${seed}` : `coefficients '${coefficients}'`;
    return [
      {
        path: '/coefficientValues',
        message: `coefficientValues is recorded by Model Lab, not set: ${given} and searchFeatures ${searchFeatures} give [${values.join(', ')}]; remove the field`,
      },
    ];
  }
  options.coefficientValues = values;
  return [];
}

export const contextualRetrievalEntry: TaskEntry = {
  name: 'contextual-retrieval',
  description:
    'Contextual Retrieval Task: each token finds its nearest neighbour on each search feature and retrieves the feature its context names (Mittal et al. 2022).',
  options: {
    type: 'object',
    properties: {
      seqLen: { type: 'integer', minimum: 2, default: 10, description: 'Tokens per example (N).' },
      searchFeatures: { type: 'integer', minimum: 1, maximum: 8, default: 2, description: 'Ground-truth searches v_s.' },
      retrievalFeatures: { type: 'integer', minimum: 1, maximum: 8, default: 4, description: 'Ground-truth retrievals v_p.' },
      split: {
        enum: ['ood', 'iid'],
        default: 'ood',
        description: "'ood': train on 80% of the retrieval combinations, evaluate also on the held-out ones; 'iid': all combinations everywhere.",
      },
      splitRule: {
        enum: ['truncate', 'top-up'],
        default: 'truncate',
        description:
          "How split 'ood' chooses the training combinations: even-indexed ones, then held-out ones from the front until training holds int(0.8 x count) ('truncate', the paper's code: 12 of 16 for 2 x 4, holding out (2,1), (2,3), (3,1), (3,3)). 'top-up' is the rule of runs trained before Model Lab matched the paper (fewer than 0.8 x count: 13 of 16); runs that do not record a rule use it.",
      },
      coefficients: {
        enum: ['paper', 'ones', 'random'],
        default: 'paper',
        description:
          "Per-search coefficients c_s of the target: the paper's fixed values ('paper': -0.713, -0.606, 0.661, ... the same in every run), all 1 ('ones', the paper's --no-coeff), or drawn once from U(-1, 1) with the seed ('random': a search can get |c_s| near 0 and then barely counts). The values are recorded in the run's spec as `coefficientValues`.",
      },
      coefficientValues: {
        type: 'array',
        items: { type: 'number' },
        description:
          'Recorded by Model Lab when the experiment is read: the c_s the run uses, from `coefficients` (and the seed for \'random\'). Leave it out; a run\'s spec.json holds it. Runs that do not record it use the values `coefficients` names.',
      },
    },
  },
  recorded: {
    keys: ['coefficientValues'],
    fill: recordCoefficientValues,
  },
  create: (options, seed) => new ContextualRetrievalTask(taskOptionsFromSpec(options as unknown as ContextualRetrievalSpecOptions, seed)),
};
