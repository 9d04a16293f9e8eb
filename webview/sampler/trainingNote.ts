/**
 * The Sampler panel's one-line verdict on how trained the shown checkpoint is, so an untrained
 * or early checkpoint is not mistaken for a failed sampler: at step 0 the drift network is
 * zero-initialised and the samples are the start distribution (Brownian motion from x_0 = 0);
 * mode discovery takes thousands of steps (docs/research/diffusion-samplers.md: the paper trains
 * 25,000 iterations; after about 1,200 every method covers only the central 9 of 25GMM's modes).
 */
import type { SamplerRunInfo, SamplerSamples, StepSeries } from '../../src/protocol/sampler';

/** Iterations of the paper's runs (Sendera et al., 2024; 10k with the Langevin parametrisation). */
export const PAPER_ITERATIONS = 25_000;

export interface NoteInput {
  run: Pick<SamplerRunInfo, 'trainingSteps'>;
  /** The shown checkpoint's step; -1 before the session answered. */
  step: number;
  steps: readonly number[];
  result?: Pick<SamplerSamples, 'perMode' | 'step'>;
  metrics: Readonly<Record<string, StepSeries>>;
}

const count = (n: number) => n.toLocaleString('en-US');

export function trainingNote({ run, step, steps, result, metrics }: NoteInput): string {
  if (step < 0) return '';
  const budget = run.trainingSteps > 0 ? run.trainingSteps : Math.max(0, ...steps);
  const ofBudget = budget > 0 ? ` of the run's ${count(budget)}` : '';
  if (step === 0) {
    return `Not trained yet: step 0${ofBudget} (the paper trains ${count(PAPER_ITERATIONS)}). The drift network starts at zero, ` +
      'so these samples are the start distribution (Brownian motion from x₀ = 0), not the target.';
  }
  const loggedTo = Math.max(0, ...Object.values(metrics).map((series) => series.steps[series.steps.length - 1] ?? 0));
  const training = loggedTo > step && step === Math.max(...steps) ? ` The run has logged up to step ${count(loggedTo)}: move the slider to its newer checkpoints.` : '';
  const perMode = result?.step === step ? result.perMode : undefined;
  const coverage = perMode ? ` ${perMode.covered} of ${perMode.counts.length} modes covered.` : '';
  if (budget > 0 && step < budget) {
    return `Partly trained: step ${count(step)}${ofBudget} (${Math.round((100 * step) / budget)}%; the paper trains ${count(PAPER_ITERATIONS)}).${coverage}${training}`;
  }
  const short = step < PAPER_ITERATIONS ? ` (the paper trains ${count(PAPER_ITERATIONS)}; modes are discovered slowly)` : '';
  return `Trained: step ${count(step)}${short}.${coverage}${training}`;
}
