/**
 * What the Attention composition panel shows, computed from the inference session's examples of
 * a retrieval model (compositional or multi-head attention):
 *
 * - `attentionExample`: one example in the panel's shape: the search maps A[s] (N x N), the
 *   retrieval selection alpha (per token: search x retrieval), the argmax of each, and the task's
 *   ground truth (which token each ground-truth search finds, which retrieval the context asks for).
 * - `summarizeSelection`: over many examples, how consistently each learned search picks a
 *   retrieval per context: for learned search s, ground-truth search g and the retrieval r* the
 *   context asks g for, the mean of alpha[s, r] over every token; the mutual information between
 *   r* and the retrieval s picks (argmax); and how often s finds the token g finds.
 *
 * Learned searches have no fixed order: learned search 0 may play the role of ground-truth
 * search 1. The summary therefore keeps every (s, g) pair and names, per s, the g it agrees with
 * most (`matchedTruthSearch`), without reordering anything.
 */
import type { ExampleView } from '../inference';

export interface RetrievalTruth {
  /** searched[token][g]: the token ground-truth search g finds for this token. */
  searched: number[][];
  /** retrieved[token][g]: the retrieval (0 .. truthRetrievals-1) the context asks g for. */
  retrieved: number[][];
}

export interface AttentionExample {
  split: string;
  index: number;
  step: number;
  /** N, S (learned searches), R (learned retrievals). */
  tokens: number;
  searches: number;
  retrievals: number;
  /** searchMaps[s][query][key]: attention probability (each row sums to 1). */
  searchMaps: number[][][];
  /** selection[token][s][r]: probability that search s of this token uses retrieval r. */
  selection: number[][][];
  /** keyArgmax[token][s]: the key token search s weighs most for this token. */
  keyArgmax: number[][];
  /** retrievalArgmax[token][s]: the retrieval search s of this token uses most. */
  retrievalArgmax: number[][];
  output: number[];
  targets?: number[];
  /** Absent for inputs given by the user (no ground truth). */
  truth?: RetrievalTruth;
  /** Ground-truth searches and retrievals (v_s, v_p) of the task. */
  truthSearches: number;
  truthRetrievals: number;
}

export interface SelectionSummary {
  split: string;
  step: number;
  examples: number;
  /** Tokens counted (examples x N). */
  tokens: number;
  searches: number;
  retrievals: number;
  truthSearches: number;
  truthRetrievals: number;
  /** searchAgreement[s][g]: fraction of tokens where search s's argmax key is the token g finds. */
  searchAgreement: number[][];
  /** matchedTruthSearch[s]: the ground-truth search s agrees with most. */
  matchedTruthSearch: number[];
  /** counts[g][r*]: tokens whose context asks ground-truth search g for retrieval r*. */
  counts: number[][];
  /**
   * meanSelection[s][g][r*][r]: mean alpha[s, r] over those tokens; null when there are none
   * (JSON-safe: the OOD split never asks some searches for some retrievals).
   */
  meanSelection: (number | null)[][][][];
  /**
   * information[s][g]: mutual information, in bits, between r* (of g) and the retrieval s picks
   * (argmax of alpha[s]). 0 when s's choice ignores the context (multi-head attention's fixed
   * pairing); at most `maxInformation`.
   */
  information: number[][];
  /** log2(min(R, truthRetrievals)): the information of a one-to-one mapping of contexts to retrievals. */
  maxInformation: number;
}

export class AttentionDataError extends Error {}

export function argmax(values: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

function isNumberGrid(value: unknown, depth: number): boolean {
  if (depth === 0) return typeof value === 'number';
  return Array.isArray(value) && value.length > 0 && value.every((item) => isNumberGrid(item, depth - 1));
}

/** An inference session's example as the panel shows it; `truthRetrievals` is the task's v_p. */
export function attentionExample(view: ExampleView, truthRetrievals: number): AttentionExample {
  const maps = view.inspect.searchMaps;
  const selection = view.inspect.retrievalSelection;
  if (!isNumberGrid(maps, 3) || !isNumberGrid(selection, 3)) {
    throw new AttentionDataError(
      "this model exposes no 'searchMaps' [S][N][N] and 'retrievalSelection' [N][S][R]: the Attention composition panel " +
        'shows compositional-attention and multi-head-attention models',
    );
  }
  const searchMaps = maps as number[][][];
  const alpha = selection as number[][][];
  const searches = searchMaps.length;
  const tokens = searchMaps[0].length;
  const retrievals = alpha[0][0].length;
  if (alpha.length !== tokens || alpha.some((row) => row.length !== searches || row.some((r) => r.length !== retrievals))) {
    throw new AttentionDataError(
      `retrievalSelection must be [N=${tokens}][S=${searches}][R] like the search maps, got [${alpha.length}][${alpha[0].length}][${retrievals}]`,
    );
  }
  const truth = readTruth(view.truth, tokens);
  const truthSearches = truth ? truth.searched[0].length : 0;
  if (truth && !(Number.isInteger(truthRetrievals) && truthRetrievals > 0)) {
    throw new AttentionDataError(`truthRetrievals must be a positive whole number, got ${truthRetrievals}`);
  }
  if (truth?.retrieved.some((row) => row.some((r) => r < 0 || r >= truthRetrievals))) {
    throw new AttentionDataError(`a ground-truth retrieval lies outside 0..${truthRetrievals - 1}`);
  }
  return {
    split: view.split,
    index: view.index,
    step: view.step,
    tokens,
    searches,
    retrievals,
    searchMaps,
    selection: alpha,
    keyArgmax: Array.from({ length: tokens }, (_, token) => searchMaps.map((map) => argmax(map[token]))),
    retrievalArgmax: alpha.map((perSearch) => perSearch.map(argmax)),
    output: view.output as number[],
    ...(Array.isArray(view.targets) ? { targets: view.targets as number[] } : {}),
    ...(truth ? { truth } : {}),
    truthSearches,
    truthRetrievals: truth ? truthRetrievals : 0,
  };
}

function readTruth(value: unknown, tokens: number): RetrievalTruth | undefined {
  if (value === undefined || value === null) return undefined;
  const truth = value as Partial<RetrievalTruth>;
  const ok = (grid: unknown) => isNumberGrid(grid, 2) && (grid as number[][]).length === tokens;
  if (!ok(truth.searched) || !ok(truth.retrieved)) {
    throw new AttentionDataError(`the example's truth must hold searched [N=${tokens}][v_s] and retrieved [N][v_s]`);
  }
  return { searched: truth.searched!, retrieved: truth.retrieved! };
}

/** Accumulates examples one at a time (the worker does not keep them all). */
export class SelectionSummaryBuilder {
  private shape?: { searches: number; retrievals: number; truthSearches: number; tokens: number };
  private examples = 0;
  private tokenCount = 0;
  private split = '';
  private step = -1;
  private agreement: number[][] = [];
  private counts: number[][] = [];
  /** sums[s][g][r*][r] of alpha. */
  private sums: number[][][][] = [];
  /** picks[s][g][r*][r]: tokens where s picked r (argmax) while g's context asked for r*. */
  private picks: number[][][][] = [];

  constructor(private readonly truthRetrievals: number) {}

  add(example: AttentionExample): void {
    if (!example.truth) throw new AttentionDataError('the selection summary needs examples with ground truth (drawn from a split)');
    const { searches, retrievals, truthSearches, tokens } = example;
    if (!this.shape) {
      this.shape = { searches, retrievals, truthSearches, tokens };
      this.split = example.split;
      this.step = example.step;
      const grid = (rows: number, cols: number) => Array.from({ length: rows }, () => new Array<number>(cols).fill(0));
      this.agreement = grid(searches, truthSearches);
      this.counts = grid(truthSearches, this.truthRetrievals);
      const cube = () =>
        Array.from({ length: searches }, () => Array.from({ length: truthSearches }, () => grid(this.truthRetrievals, retrievals)));
      this.sums = cube();
      this.picks = cube();
    } else if (
      this.shape.searches !== searches ||
      this.shape.retrievals !== retrievals ||
      this.shape.truthSearches !== truthSearches ||
      example.truthRetrievals !== this.truthRetrievals
    ) {
      throw new AttentionDataError('every example of a summary must come from the same model and task');
    }
    const { searched, retrieved } = example.truth;
    for (let token = 0; token < tokens; token++) {
      for (let g = 0; g < truthSearches; g++) {
        const wanted = retrieved[token][g];
        this.counts[g][wanted]++;
        for (let s = 0; s < searches; s++) {
          if (example.keyArgmax[token][s] === searched[token][g]) this.agreement[s][g]++;
          const alpha = example.selection[token][s];
          for (let r = 0; r < retrievals; r++) this.sums[s][g][wanted][r] += alpha[r];
          this.picks[s][g][wanted][example.retrievalArgmax[token][s]]++;
        }
      }
    }
    this.examples++;
    this.tokenCount += tokens;
  }

  result(): SelectionSummary {
    if (!this.shape) throw new AttentionDataError('the selection summary needs at least one example');
    const { searches, retrievals, truthSearches } = this.shape;
    const searchAgreement = this.agreement.map((row) => row.map((hits) => hits / this.tokenCount));
    return {
      split: this.split,
      step: this.step,
      examples: this.examples,
      tokens: this.tokenCount,
      searches,
      retrievals,
      truthSearches,
      truthRetrievals: this.truthRetrievals,
      searchAgreement,
      matchedTruthSearch: searchAgreement.map(argmax),
      counts: this.counts.map((row) => [...row]),
      meanSelection: this.sums.map((perTruth, _s) =>
        perTruth.map((rows, g) => rows.map((sum, wanted) => sum.map((total) => (this.counts[g][wanted] > 0 ? total / this.counts[g][wanted] : null)))),
      ),
      information: this.picks.map((perTruth) => perTruth.map(mutualInformation)),
      maxInformation: Math.log2(Math.min(retrievals, this.truthRetrievals)),
    };
  }
}

/** The whole summary of a list of examples. */
export function summarizeSelection(examples: readonly AttentionExample[], truthRetrievals: number): SelectionSummary {
  const builder = new SelectionSummaryBuilder(truthRetrievals);
  for (const example of examples) builder.add(example);
  return builder.result();
}

/** I(X; Y) in bits from a table of joint counts joint[x][y]. */
export function mutualInformation(joint: readonly (readonly number[])[]): number {
  const total = joint.reduce((sum, row) => sum + row.reduce((a, b) => a + b, 0), 0);
  if (total === 0) return 0;
  const px = joint.map((row) => row.reduce((a, b) => a + b, 0) / total);
  const py = joint[0].map((_, y) => joint.reduce((sum, row) => sum + row[y], 0) / total);
  let bits = 0;
  joint.forEach((row, x) =>
    row.forEach((count, y) => {
      if (count === 0) return;
      const p = count / total;
      bits += p * Math.log2(p / (px[x] * py[y]));
    }),
  );
  return Math.max(0, bits); // rounding can leave -1e-16
}

/** The task's ground-truth retrieval count v_p (Contextual Retrieval's `retrievalFeatures`). */
export function truthRetrievalsOf(task: { name: string } & Record<string, unknown>): number {
  const value = task.retrievalFeatures;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new AttentionDataError(
      `task '${task.name}' has no ground-truth retrievals (task.retrievalFeatures): the Attention composition panel shows Contextual Retrieval runs`,
    );
  }
  return value;
}

/** Most examples one summary request may ask for (each is one forward pass in the worker). */
export const MAX_SUMMARY_EXAMPLES = 1024;
