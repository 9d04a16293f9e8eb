/**
 * The four relational tasks of Webb et al. (ESBN) and Kerg et al. (CoRelNet), as trials over
 * object indices (see docs/research/relational-corelnet.md). Each generator draws its objects from
 * a pool (the training or the held-out objects) and returns the sequence and its answer.
 *
 * | task           | sequence                                     | label                               |
 * |----------------|----------------------------------------------|-------------------------------------|
 * | same_diff      | [x, y]                                       | 0 same, 1 different                 |
 * | RMTS           | source pair, candidate pair 0, candidate 1   | the candidate with the source's relation |
 * | dist3          | row 1 (3 distinct), row 2 (2 of them), 4 options | the option that completes row 2  |
 * | identity_rules | row 1 (AAA, ABA or ABB), row 2 (2 new), 4 options | the option that completes the rule |
 */
import type { Rng } from '../rng';

export const RELATIONAL_TASKS = ['same_diff', 'RMTS', 'dist3', 'identity_rules'] as const;
export type RelationalTaskName = (typeof RELATIONAL_TASKS)[number];

export interface Trial {
  /** Object indices in sequence order. */
  objects: number[];
  /** The correct class. */
  label: number;
  /** What kind of trial it is: 'same'/'different' (of the pair, or of RMTS's source pair), 'dist3', or the rule. */
  kind: string;
}

export interface TaskLayout {
  /** Objects per trial. */
  length: number;
  classes: number;
  /** Distinct objects a trial may need: a pool must hold at least this many. */
  distinctObjects: number;
  /** Segments normalised separately by context normalisation (RMTS: each pair on its own). */
  segments: number[][];
}

const whole = (length: number) => [Array.from({ length }, (_, i) => i)];

export const TASK_LAYOUTS: Record<RelationalTaskName, TaskLayout> = {
  same_diff: { length: 2, classes: 2, distinctObjects: 2, segments: whole(2) },
  RMTS: { length: 6, classes: 2, distinctObjects: 5, segments: [[0, 1], [2, 3], [4, 5]] },
  dist3: { length: 9, classes: 4, distinctObjects: 4, segments: whole(9) },
  identity_rules: { length: 9, classes: 4, distinctObjects: 4, segments: whole(9) },
};

/** `count` distinct objects of `pool`, in random order. */
export function pickDistinct(pool: readonly number[], count: number, rng: Rng): number[] {
  if (count > pool.length) throw new Error(`a trial needs ${count} distinct objects, the pool has ${pool.length}`);
  const copy = [...pool];
  for (let i = 0; i < count; i++) {
    const j = i + rng.int(copy.length - i);
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy.slice(0, count);
}

/** `items` in random order. */
const shuffled = <T>(items: readonly T[], rng: Rng): T[] => {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = rng.int(i + 1);
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy;
};

/** Half the trials show one object twice, half two different objects. */
export function sameDiffTrial(pool: readonly number[], rng: Rng): Trial {
  if (rng.next() < 0.5) {
    const [a] = pickDistinct(pool, 1, rng);
    return { objects: [a, a], label: 0, kind: 'same' };
  }
  const [a, b] = pickDistinct(pool, 2, rng);
  return { objects: [a, b], label: 1, kind: 'different' };
}

/**
 * Relational match-to-sample: a source pair, then two candidate pairs, one same and one
 * different. The answer is the candidate whose relation matches the source's.
 */
export function rmtsTrial(pool: readonly number[], rng: Rng): Trial {
  const sourceSame = rng.next() < 0.5;
  const [a, b, c, d, e] = pickDistinct(pool, 5, rng);
  const source = sourceSame ? [a, a] : [a, b];
  const samePair = [c, c];
  const differentPair = [d, e];
  const matching = sourceSame ? samePair : differentPair;
  const other = sourceSame ? differentPair : samePair;
  const label = rng.int(2);
  const candidates = label === 0 ? [matching, other] : [other, matching];
  return { objects: [...source, ...candidates[0], ...candidates[1]], label, kind: sourceSame ? 'same' : 'different' };
}

/**
 * Distribution of three: row 1 shows three distinct objects; row 2 shows two of them in
 * another order; the answer is the missing third among four options (the three and a lure).
 */
export function dist3Trial(pool: readonly number[], rng: Rng): Trial {
  const [a, b, c, lure] = pickDistinct(pool, 4, rng);
  const [first, second, missing] = shuffled([a, b, c], rng);
  const options = shuffled([a, b, c, lure], rng);
  return { objects: [a, b, c, first, second, ...options], label: options.indexOf(missing), kind: 'dist3' };
}

export const IDENTITY_RULES = ['AAA', 'ABA', 'ABB'] as const;

/**
 * Identity rules: row 1 follows AAA, ABA or ABB; row 2 starts the same rule with new objects;
 * the answer completes row 2 among four options (row 1's and row 2's objects).
 */
export function identityRulesTrial(pool: readonly number[], rng: Rng): Trial {
  const rule = IDENTITY_RULES[rng.int(IDENTITY_RULES.length)];
  const [a, b, c, d] = pickDistinct(pool, 4, rng);
  let rows: { row1: number[]; row2: number[]; answer: number };
  if (rule === 'AAA') rows = { row1: [a, a, a], row2: [b, b], answer: b };
  else if (rule === 'ABA') rows = { row1: [a, b, a], row2: [c, d], answer: c };
  else rows = { row1: [a, b, b], row2: [c, d], answer: d };
  const options = shuffled([a, b, c, d], rng);
  return { objects: [...rows.row1, ...rows.row2, ...options], label: options.indexOf(rows.answer), kind: rule };
}

export const TRIAL_GENERATORS: Record<RelationalTaskName, (pool: readonly number[], rng: Rng) => Trial> = {
  same_diff: sameDiffTrial,
  RMTS: rmtsTrial,
  dist3: dist3Trial,
  identity_rules: identityRulesTrial,
};
