/**
 * "Fine-tune from this checkpoint" in the Sampler panel, host side: the page's request (untrusted)
 * is checked against the run's session (the step is one of its checkpoints, the edit fits its
 * target), the experiment (src/core/sampler/targetEdit.ts) is validated as a file before it is
 * written next to the run's experiment file (never over another file), then trained through the
 * host's Train path, and the new run's Sampler panel opens beside this one. No `vscode` here: the
 * Train path and the panel come in as functions (samplerPanel.ts), so tests drive it with fakes.
 */
import * as path from 'node:path';
import { checkTargetEdit, fineTuneExperiment } from '../../core/sampler/targetEdit';
import type { SessionClient } from '../../engine/engine';
import type { RunSummary } from '../../protocol';
import type { RunDataSource } from './dashboardPanel';
import { experimentFolderFor, trainNewFile, writeNewExperimentFile } from '../training/experimentFiles';

export interface FineTuneDeps {
  runs: Pick<RunDataSource, 'listRuns' | 'readRun' | 'readSpec'>;
  /** The folder the experiment file goes to when the run's own file is gone: the run's workspace folder. */
  folderOf(run: RunSummary): string | undefined;
  /** The host's Train path on an experiment file (it reports its own failures to the user). */
  train(file: string): Promise<void>;
  /** Opens a run's Sampler panel beside the one asking. */
  showBeside(runId: string): void;
}

/** A request the page got wrong, or a fine-tune that cannot start: said in words. */
export class FineTuneError extends Error {}

export async function fineTuneRun(
  deps: FineTuneDeps,
  runId: string | undefined,
  session: Pick<SessionClient, 'steps' | 'request'>,
  params: unknown,
): Promise<{ runId: string; file: string }> {
  const run = runId ? deps.runs.readRun(runId) : undefined;
  if (!runId || !run) throw new FineTuneError(`fineTune: run ${runId ?? '(none)'} no longer exists`);
  const { step, edit } = (params ?? {}) as Record<string, unknown>;
  if (typeof step !== 'number' || !session.steps.includes(step)) {
    throw new FineTuneError(`fineTune: step must be one of the run's checkpoints (${session.steps.join(', ')}), got ${JSON.stringify(step) ?? String(step)}`);
  }
  const target = await session.request('samplerTarget', {});
  const checked = checkTargetEdit(edit, target, 'fineTune');
  if ('problem' in checked) throw new FineTuneError(checked.problem);

  const spec = deps.runs.readSpec(runId) as Record<string, unknown>;
  const folder = experimentFolder(deps, run);
  const base = `${typeof spec.name === 'string' ? spec.name : runId}-finetune`;
  const experiment = fineTuneExperiment(spec, target, checked.edit, { run: runId, step }, base);
  const text = `${JSON.stringify(experiment, null, 2)}\n`;
  const file = writeNewExperimentFile(folder, `${base}-step${step}`, text, 'the fine-tune experiment');
  const started = await trainNewFile(deps.runs, deps.train, file);
  if (!started) throw new FineTuneError(`${path.basename(file)} was written but its training did not start (the notification says why)`);
  deps.showBeside(started.id);
  return { runId: started.id, file: path.basename(file) };
}

/** Beside the run's experiment file when it still exists, else in the run's workspace folder. */
function experimentFolder(deps: FineTuneDeps, run: RunSummary): string {
  const folder = experimentFolderFor(run, deps.folderOf(run));
  if (!folder) throw new FineTuneError(`fineTune: no folder to write the experiment file to (run ${run.id} is outside the workspace)`);
  return folder;
}
