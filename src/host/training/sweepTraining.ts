/**
 * Train on a sweep file (`kind: "sweep"`): validate it and every member, create the sweep folder
 * and the member runs, queue them on the engine (as many at once as `modelLab.workers`), and
 * follow them in one cancellable notification. Members are ordinary runs: each can be stopped,
 * resumed or opened on its own from the Runs view, where they are grouped under their sweep.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { SpecError } from '../../core/spec/types';
import { launchSweep, RunFolderError, type LaunchedSweep, type LoadedSweep } from '../../app/launch';
import { SWEEP_CONFIRM_MEMBERS } from '../../core/sweep';
import type { BackendInfo } from '../../protocol';
import type { SpecDiagnostics } from '../editor/diagnostics';
import type { EngineHost } from './engineHost';
import { logError, type Log } from '../output';
import type { RunRegistry } from '../runs/runRegistry';
import { checkWritableFolder, resolveRunsFolder } from '../runs/runsFolder';
import { SETTINGS_SECTION } from '../settings';
import { workspaceFolderInfos } from '../runs/workspaceFolders';

export interface SweepTrainingDeps {
  engineHost: EngineHost;
  registry: RunRegistry;
  diagnostics: SpecDiagnostics;
  log: Log;
}

/** Command id of the similarity panel, offered when a sweep ends. */
const OPEN_SIMILARITY = 'modelLab.openSimilarity';

/** `text`: the sweep file as the training controller read it (src/app/launch.ts: read once). */
export async function trainSweep(specFile: string, text: string, deps: SweepTrainingDeps, startEngine: () => Promise<BackendInfo | undefined>): Promise<void> {
  const name = path.basename(specFile);
  let loaded: LoadedSweep;
  try {
    // Located problems before any run starts; expanded and validated once, in a thread of its own
    // (the grid is counted first and capped at MAX_SWEEP_MEMBERS), never on the extension host.
    loaded = await deps.engineHost.expandSweep(specFile, text);
  } catch (error) {
    if (error instanceof SpecError) return showProblems(name, error, deps.diagnostics);
    throw error;
  }
  const count = loaded.members.length;
  if (count > SWEEP_CONFIRM_MEMBERS) {
    const start = `Start ${count} Runs`;
    const choice = await vscode.window.showWarningMessage(
      `Model Lab: the sweep ${name} has ${count} members: each is a run folder and a training run. Start them all?`,
      { modal: true },
      start,
    );
    if (choice !== start) return;
  }
  const where = resolveRunsFolder(specFile, workspaceFolderInfos().folders);
  if (!where.ok) {
    void vscode.window.showErrorMessage(`Model Lab: ${where.message}`);
    return;
  }
  const unwritable = checkWritableFolder(where.runsDir);
  if (unwritable) {
    void vscode.window.showErrorMessage(unwritable);
    return;
  }
  if (!(await startEngine())) return;

  let launched: LaunchedSweep;
  try {
    launched = await launchSweep(deps.engineHost, {
      specFile,
      loaded,
      runsDir: where.runsDir,
      workers: vscode.workspace.getConfiguration(SETTINGS_SECTION).get<number>('workers') ?? 1,
      memoryLimitMB: memoryLimitSetting(),
    });
  } catch (error) {
    if (error instanceof SpecError) return showProblems(name, error, deps.diagnostics);
    const message = logError(deps.log, `Starting the sweep ${specFile}`, error);
    void vscode.window.showErrorMessage(`Model Lab: ${error instanceof RunFolderError ? '' : 'the sweep could not start: '}${message}`);
    return;
  }
  for (const { runDir, job } of launched.members) deps.registry.trackJob(runDir, job, false);
  deps.registry.refresh();
  deps.log('info', `Sweep ${launched.record.id}: ${launched.members.length} members queued from ${specFile}.`);
  void follow(launched, deps);
}

/** One notification for the whole sweep: members done so far; cancelling stops every member. */
async function follow(launched: LaunchedSweep, deps: SweepTrainingDeps): Promise<void> {
  const total = launched.members.length;
  const outcomes = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Sweep ${launched.record.name}`, cancellable: true },
    (progress, token) => {
      token.onCancellationRequested(() => {
        deps.log('info', `Stop requested for every member of sweep ${launched.record.id}.`);
        for (const { job } of launched.members) job.cancel();
      });
      let done = 0;
      progress.report({ message: `0/${total} runs done (queued on ${describeWorkers()})` });
      return Promise.all(
        launched.members.map(({ job }) =>
          job.done.then((outcome) => {
            done++;
            progress.report({ message: `${done}/${total} runs done`, increment: 100 / total });
            return outcome;
          }),
        ),
      );
    },
  );
  const count = (state: string) => outcomes.filter((o) => o.state === state).length;
  const summary = `${count('completed')} completed${count('failed') ? `, ${count('failed')} failed` : ''}${count('cancelled') ? `, ${count('cancelled')} stopped` : ''}`;
  const show = count('failed') > 0 ? vscode.window.showWarningMessage : vscode.window.showInformationMessage;
  const choice = await show(`Model Lab: sweep "${launched.record.name}" finished: ${summary}. Failed or stopped runs can be resumed one by one from the Runs view.`, 'Open Similarity');
  if (choice) void vscode.commands.executeCommand(OPEN_SIMILARITY, { sweepId: launched.record.id });
}

/**
 * `modelLab.memoryLimitMB`: the limit a run's estimated training memory must fit in (see
 * src/core/memoryEstimate.ts); 0, absent or invalid means the default, half the machine's memory.
 */
export function memoryLimitSetting(): number | undefined {
  const value = vscode.workspace.getConfiguration(SETTINGS_SECTION).get<unknown>('memoryLimitMB');
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? value : undefined;
}

function describeWorkers(): string {
  const workers = vscode.workspace.getConfiguration(SETTINGS_SECTION).get<number>('workers') ?? 1;
  return `${workers} worker${workers === 1 ? '' : 's'}`;
}

async function showProblems(name: string, error: SpecError, diagnostics: SpecDiagnostics): Promise<void> {
  await diagnostics.showSpecError(error);
  const first = error.problems[0];
  const count = error.problems.length;
  void vscode.window
    .showErrorMessage(
      `Model Lab: the sweep ${name} has ${count} problem${count === 1 ? '' : 's'}; nothing was started. First: ${first?.path || '/'}: ${first?.message ?? 'invalid sweep file'}`,
      'Show Problems',
    )
    .then((choice) => choice && vscode.commands.executeCommand('workbench.actions.view.problems'));
}
