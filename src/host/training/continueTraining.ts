/**
 * "Continue Training" on a run that has ended (completed or stopped): a new experiment file with
 * the run's resolved spec, the number of steps the user asks for (default: as many as the run
 * had) and `init` = the run's last checkpoint, written beside the run's experiment file (never
 * over a file), then trained through the host's Train path (a worker trains it). The new run is
 * a run of its own (own optimizer, own step 0); views join its curve to the run's at the init
 * step (src/shared/runs.ts initStepOffset). No `vscode` here: the question, the folder and the
 * Train path come in as functions (src/host/commands.ts), so tests drive it with fakes.
 */
import * as path from 'node:path';
import type { RunSummary } from '../../protocol';
import { listCheckpointSteps } from '../../runs/checkpointFolders';
import { runDisplayName, type RunInit } from '../../shared/runs';
import { experimentFolderFor, trainNewFile, writeNewExperimentFile } from './experimentFiles';
import { isActive } from '../runs/runsTreeModel';

export interface ContinueDeps {
  runs: { listRuns(): RunSummary[]; readRun(runId: string): RunSummary | undefined; readSpec(runId: string): unknown };
  /** The run's workspace folder: where the experiment file goes when the run's own file is gone. */
  folderOf(run: RunSummary): string | undefined;
  /** How many steps the new run trains, from the run's checkpoint at `fromStep`; `suggested` is the run's own count. Undefined: the user cancelled. */
  askSteps(run: RunSummary, suggested: number, fromStep: number): Promise<number | undefined>;
  /** The host's Train path on an experiment file (it reports its own failures to the user). */
  train(file: string): Promise<unknown>;
}

/** Why a run cannot be continued, in words (nothing was written). */
export class ContinueError extends Error {}

/** Runs Continue Training is offered for: every run that is not training (one with no checkpoint is refused with why). */
export const canContinue = (run: RunSummary): boolean => !isActive(run);

/** The experiment that continues a run: its resolved spec with `steps` steps, starting from `init`. */
export function continuationExperiment(spec: Record<string, unknown>, init: RunInit, steps: number): Record<string, unknown> {
  const training = typeof spec.training === 'object' && spec.training !== null ? spec.training : {};
  return { ...spec, training: { ...training, steps }, init: { run: init.run, step: init.step } };
}

/** `<experiment file>-continued` (a continued continuation does not grow another suffix: it is numbered). */
export function continuationStem(run: Pick<RunSummary, 'specFile' | 'experiment' | 'id'>): string {
  const base = run.specFile ? path.basename(run.specFile).replace(/\.lab\.json$/i, '') : run.experiment || run.id;
  return `${base.replace(/-continued(-\d+)?$/, '')}-continued`;
}

/** The step count typed in the question: a whole number >= 1, or why not. */
export function parseStepCount(text: string): number | { problem: string } {
  const trimmed = text.trim();
  const steps = Number(trimmed);
  if (!/^\d+$/.test(trimmed) || !Number.isSafeInteger(steps) || steps < 1) {
    return { problem: 'Enter a whole number of steps, at least 1.' };
  }
  return steps;
}

/**
 * Writes and trains the experiment that continues `runId` from its last checkpoint. Returns the
 * new run and its file, or undefined when the user cancelled the question. Throws ContinueError
 * for a run that cannot be continued.
 */
export async function continueTraining(deps: ContinueDeps, runId: string): Promise<{ run: RunSummary; file: string } | undefined> {
  const run = deps.runs.readRun(runId);
  if (!run) throw new ContinueError(`run ${runId} no longer exists`);
  const name = runDisplayName(run);
  if (!canContinue(run)) throw new ContinueError(`run "${name}" is still training: continue it once it has ended`);
  const step = listCheckpointSteps(run.dir).at(-1);
  if (step === undefined) throw new ContinueError(`run "${name}" has no checkpoint to continue from`);
  const spec = deps.runs.readSpec(runId) as Record<string, unknown> | undefined;
  const ownSteps = (spec?.training as { steps?: unknown } | undefined)?.steps;
  if (!spec || typeof ownSteps !== 'number') throw new ContinueError(`the spec of run "${name}" cannot be read`);

  const steps = await deps.askSteps(run, ownSteps, step);
  if (steps === undefined) return undefined;
  const folder = experimentFolderFor(run, deps.folderOf(run));
  if (!folder) throw new ContinueError(`no folder to write the experiment file to (run "${name}" is outside the workspace)`);
  const text = `${JSON.stringify(continuationExperiment(spec, { run: run.id, step }, steps), null, 2)}\n`;
  const file = writeNewExperimentFile(folder, continuationStem(run), text, 'the continued experiment');
  const started = await trainNewFile(deps.runs, deps.train, file);
  if (!started) throw new ContinueError(`${path.basename(file)} was written but its training did not start (the notification says why)`);
  return { run: started, file };
}
