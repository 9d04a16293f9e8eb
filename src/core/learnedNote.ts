/**
 * The one line a lab panel shows about whether its run has learned yet: the run's lab's rule
 * (`hasLearned` in its manifest) on the run's last logged metrics, and, for a run that has not,
 * how many steps its experiment recommends (`recommendedSteps`, a template field measured in
 * bench/README.md). A short run's panel otherwise shows near-uniform maps with no hint why.
 * Pure: no TensorFlow.js, no vscode (the extension host imports it); the spec and the metrics come
 * from a run folder, so both are treated as untrusted shapes.
 */
import { labOf } from './labList';

/** A logged record as metrics.jsonl holds it (src/shared/runs.ts MetricRecord): only the values matter here. */
interface Logged {
  readonly values: Readonly<Record<string, number>>;
}

export interface LearnedNote {
  readonly verdict: 'learned' | 'not-yet';
  /** One line, e.g. "Not learned yet: eval/train/l1 0.731 > 0.5 (...). Its template recommends 10000 steps; this run trains 300." */
  readonly text: string;
}

/** The last logged value of every metric (a metric logged at step 100 and not since keeps that value). */
export function lastValues(records: readonly Logged[]): Record<string, number> {
  const last: Record<string, number> = {};
  for (const record of records) Object.assign(last, record.values);
  return last;
}

/** Undefined when the run's lab has no rule for what it logged (or the spec names no lab). */
export function learnedNote(spec: unknown, records: readonly Logged[]): LearnedNote | undefined {
  const lab = labOf(spec);
  if (!lab) return undefined;
  const { verdict, reason } = lab.hasLearned(lastValues(records));
  if (verdict === 'unknown') return undefined;
  if (verdict === 'learned') return { verdict, text: `Learned: ${reason}.` };
  const { recommendedSteps, training } = spec as { recommendedSteps?: unknown; training?: { steps?: unknown } };
  const planned = typeof training?.steps === 'number' ? `; this run trains ${training.steps}` : '';
  const advice =
    typeof recommendedSteps === 'number'
      ? `Its template recommends ${recommendedSteps} steps${planned}.`
      : 'No measured budget of this experiment is known to learn it yet (recommendedSteps is not set).';
  return { verdict, text: `Not learned yet: ${reason}. ${advice}` };
}
