/**
 * A lab panel's "has this run learned yet" line, from what the host already reads of the run (its
 * spec.json and metrics.jsonl through the registry): `{ learned }`, or nothing when the run's lab
 * cannot judge it. Spread into the run information a panel sends its page.
 */
import { learnedNote, type LearnedNote } from '../../core/learnedNote';
import type { RunDataSource } from './dashboardPanel';

export function learnedOf(runs: Pick<RunDataSource, 'readSpec' | 'readMetrics'>, runId: string): { learned?: LearnedNote } {
  const note = learnedNote(runs.readSpec(runId), runs.readMetrics(runId));
  return note ? { learned: note } : {};
}
