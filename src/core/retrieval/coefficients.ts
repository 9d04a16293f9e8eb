/**
 * The per-search coefficients c_s of the Contextual Retrieval Task's target, and their record in
 * the resolved spec (`coefficientValues`): what a named rule ('paper', 'ones', 'random') stands for.
 * No TensorFlow.js: spec validation runs it in the extension host (src/core/retrieval/manifest.ts).
 */
import { createRng } from '../rng';
import type { CoefficientRule, ContextualRetrievalSpecOptions } from './options';

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
 * Records in the validated options the c_s that `coefficients` names with this seed. A value
 * already there (a run's spec read as an experiment) must be exactly those: they are a record,
 * not a setting, and a stale one (another seed) is reported rather than silently used.
 */
export function recordCoefficientValues(options: ContextualRetrievalSpecOptions, seed: number): { path: string; message: string }[] {
  const { coefficients, searchFeatures } = options;
  const values = coefficientValues(coefficients, searchFeatures, seed);
  const written = options.coefficientValues;
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
