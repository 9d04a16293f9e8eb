/**
 * Train, resume and stop: from an experiment file to a run training in a worker, with a
 * cancellable progress notification while it starts (then the status bar and the Live view show
 * progress and time left, with Stop one click away). Every failure the user can fix (no folder, spec errors,
 * unwritable runs folder, bad settings, untrusted workspace) ends in a clear notification;
 * details and stacks go to the output channel only.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { loadExperimentFile } from '../../core/spec/validate';
import { ensureTrusted } from '../trust';
import { memoryLimitSetting, trainSweep } from './sweepTraining';
import { launchRun, RunFolderError, type LaunchedRun } from '../../app/launch';
import { readRunRecord, readSpec, readStatus } from '../../runs/reader';
import { SpecError } from '../../core/spec/types';
import type { TrainingJob } from '../../engine/engine';
import type { BackendInfo, RunSummary } from '../../protocol';
import type { SpecDiagnostics } from '../editor/diagnostics';
import { SettingsError, type EngineHost } from './engineHost';
import { logError, type Log } from '../output';
import { latestLoss, progressText } from './progressText';
import { formatDuration, ProgressSampler, progressSamples } from '../../shared/progress';
import type { RunActions, RunRegistry } from '../runs/runRegistry';
import { checkWritableFolder, resolveRunsFolder } from '../runs/runsFolder';
import { isActive, isResumable } from '../runs/runsTreeModel';
import { runDisplayName } from '../../shared/runs';
import { SETTINGS_SECTION } from '../settings';
import { workspaceFolderInfos } from '../runs/workspaceFolders';
import { RunLockedError } from '../../runs/ownership';
import { ContinueError, continueTraining, parseStepCount } from './continueTraining';
import { ExperimentFileError } from './experimentFiles';

export interface TrainingDeps {
  engineHost: EngineHost;
  registry: RunRegistry;
  diagnostics: SpecDiagnostics;
  log: Log;
}

export class TrainingController implements RunActions {
  constructor(private readonly deps: TrainingDeps) {}

  /** Validate the experiment file, create a run next to it, start training it. */
  async train(specUri: vscode.Uri): Promise<void> {
    if (!ensureTrusted('train', TRAINING_NEEDS_TRUST)) return;
    const specFile = specUri.fsPath;
    const name = path.basename(specFile);

    const open = vscode.workspace.textDocuments.find((doc) => doc.uri.fsPath === specFile);
    if (open?.isDirty && !(await open.save())) {
      void vscode.window.showWarningMessage(`Model Lab: ${name} has unsaved changes that could not be saved; training was not started.`);
      return;
    }
    let experiment: ReturnType<typeof loadExperimentFile>;
    try {
      experiment = loadExperimentFile(specFile); // the one read of the file
    } catch (error) {
      if (error instanceof SpecError) return this.showSpecProblems(name, error);
      throw error;
    }
    if (experiment.kind === 'sweep') return trainSweep(specFile, experiment.text, this.deps, () => this.startEngine());

    const { folders, problems } = workspaceFolderInfos();
    const where = resolveRunsFolder(specFile, folders);
    if (!where.ok) {
      const detail = problems.length > 0 && where.reason === 'outside-workspace' ? ` (${problems.join('; ')})` : '';
      const actions = where.reason === 'no-workspace' ? ['Open Folder…'] : [];
      void vscode.window.showErrorMessage(`Model Lab: ${where.message}${detail}`, ...actions).then((choice) => {
        if (choice) void vscode.commands.executeCommand('vscode.openFolder');
      });
      return;
    }
    const unwritable = checkWritableFolder(where.runsDir);
    if (unwritable) {
      void showSettingsError(unwritable, `${SETTINGS_SECTION}.runsDirectory`);
      return;
    }

    if (!(await this.startEngine())) return;
    let launched: LaunchedRun;
    try {
      launched = await launchRun(this.deps.engineHost, {
        specFile,
        loaded: experiment.spec,
        runsDir: where.runsDir,
        workers: this.workers(),
        memoryLimitMB: memoryLimitSetting(),
      });
    } catch (error) {
      if (error instanceof SpecError) {
        // Only what a run can check is left here (the memory estimate): nothing was created.
        await this.deps.diagnostics.showSpecError(error);
        const first = error.problems[0];
        void vscode.window
          .showErrorMessage(`Model Lab: ${name}: ${first?.path || '/'}: ${first?.message}. Nothing was started.`, 'Show Problems')
          .then((choice) => choice && vscode.commands.executeCommand('workbench.actions.view.problems'));
        return;
      }
      if (error instanceof RunFolderError) {
        const message = logError(this.deps.log, `Creating a run for ${specFile}`, error);
        void showSettingsError(`Model Lab: ${message}`, `${SETTINGS_SECTION}.runsDirectory`);
        return;
      }
      this.reportStartFailure(specFile, error);
      return;
    }
    this.deps.log('info', `Run ${path.basename(launched.runDir)} created for ${specFile} in ${where.runsDir}`);
    this.follow(launched.runDir, launched.job, false);
  }

  /** The file's problems in the Problems panel, and the first one in a notification. */
  private async showSpecProblems(name: string, error: SpecError): Promise<void> {
    await this.deps.diagnostics.showSpecError(error);
    const count = error.problems.length;
    void vscode.window
      .showErrorMessage(
        `Model Lab: ${name} has ${count} problem${count === 1 ? '' : 's'}; fix ${count === 1 ? 'it' : 'them'} before training. ` +
          `First: ${error.problems[0]?.path || '/'}: ${error.problems[0]?.message ?? 'invalid experiment file'}`,
        'Show Problems',
      )
      .then((choice) => choice && vscode.commands.executeCommand('workbench.actions.view.problems'));
  }

  /** Continue a cancelled, interrupted or failed run from its last checkpoint. */
  async resume(runId: string): Promise<void> {
    if (!ensureTrusted('resume runs', TRAINING_NEEDS_TRUST)) return;
    const run = this.deps.registry.readRun(runId);
    if (!run) {
      void vscode.window.showWarningMessage(`Model Lab: run ${runId} no longer exists.`);
      return;
    }
    if (!isResumable(run)) {
      const why = isActive(run) ? 'is already training' : run.state === 'completed' ? 'has completed' : `is ${run.state}`;
      void vscode.window.showInformationMessage(`Model Lab: run "${runDisplayName(run)}" ${why}; nothing to resume.`);
      return;
    }
    try {
      // Strictly, file by file: a run folder from a newer Model Lab is refused before a resume rewrites it.
      readRunRecord(run.dir);
      readStatus(run.dir);
      readSpec(run.dir);
    } catch (error) {
      void vscode.window.showErrorMessage(`Model Lab: run "${runDisplayName(run)}" cannot be resumed: ${(error as Error).message}`);
      return;
    }
    if (!(await this.startEngine())) return;
    this.deps.log('info', `Resuming run ${run.id} from its last checkpoint (step ${run.step} was reached before).`);
    this.start(run.dir, true);
  }

  /**
   * Continue Training: a new run from this run's last checkpoint with the steps the user asks for
   * (src/host/training/continueTraining.ts), trained through `train`. Returns the new run.
   */
  async continueRun(runId: string): Promise<RunSummary | undefined> {
    if (!ensureTrusted('continue training', TRAINING_NEEDS_TRUST)) return undefined;
    try {
      const continued = await continueTraining({
        runs: this.deps.registry,
        folderOf: (run) => vscode.workspace.getWorkspaceFolder(vscode.Uri.file(run.dir))?.uri.fsPath,
        askSteps: askStepCount,
        train: (file) => this.train(vscode.Uri.file(file)),
      }, runId);
      return continued?.run;
    } catch (error) {
      if (!(error instanceof ContinueError || error instanceof ExperimentFileError)) throw error;
      void vscode.window.showWarningMessage(`Model Lab: ${error.message}.`);
      return undefined;
    }
  }

  stop(runId: string): void {
    const run = this.deps.registry.readRun(runId);
    const label = run ? `"${runDisplayName(run)}"` : runId;
    const job = this.deps.registry.jobOf(runId);
    if (job) {
      this.deps.log('info', `Stopping run ${runId} (it keeps its last checkpoint and can be resumed).`);
      job.cancel();
      return;
    }
    if (run && isActive(run)) {
      void vscode.window.showWarningMessage(
        `Model Lab: run ${label} is trained by another process (the command line or another VS Code window); stop it there.`,
      );
      return;
    }
    void vscode.window.showInformationMessage(`Model Lab: run ${label} is not training.`);
  }

  // ------------------------------------------------------------------ internals

  /** Creates the engine and waits for its backend; reports problems and returns undefined on failure. */
  private async startEngine(): Promise<BackendInfo | undefined> {
    try {
      const pending = this.deps.engineHost.backendInfo();
      return await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Window, title: 'Model Lab: starting the training worker…' },
        () => pending,
      );
    } catch (error) {
      if (error instanceof SettingsError) {
        void showSettingsError(error.message, SETTINGS_SECTION);
        return undefined;
      }
      const message = logError(this.deps.log, 'Starting the training engine', error);
      void vscode.window
        .showErrorMessage(`Model Lab: the training worker could not start: ${message}`, 'Show Output')
        .then((choice) => choice && this.showOutput());
      return undefined;
    }
  }

  private start(runDir: string, resume: boolean): void {
    let job: TrainingJob;
    try {
      job = this.deps.engineHost.startTraining(runDir, resume);
    } catch (error) {
      this.reportStartFailure(runDir, error);
      return;
    }
    this.follow(runDir, job, resume);
  }

  private reportStartFailure(what: string, error: unknown): void {
    if (error instanceof RunLockedError) {
      // Trained elsewhere (the command line, another window): the message names that process.
      void vscode.window.showWarningMessage(`Model Lab: ${error.message}.`);
      return;
    }
    const message = logError(this.deps.log, `Starting ${what}`, error);
    void vscode.window.showErrorMessage(`Model Lab: training could not start: ${message}`);
  }

  /** The registry follows the job (live progress and metrics); a notification shows it start. */
  private follow(runDir: string, job: TrainingJob, resume: boolean): void {
    this.deps.registry.trackJob(runDir, job, resume);
    void this.notify(path.basename(runDir), job);
  }

  /**
   * A cancellable notification for one job until it has trained for a few seconds (it would
   * otherwise cover the panels for the whole run; the status bar item and its Stop button take
   * over), then a message with its outcome.
   */
  private async notify(runId: string, job: TrainingJob): Promise<void> {
    const { registry } = this.deps;
    const runName = () => {
      const run = registry.readRun(runId);
      return run ? runDisplayName(run) : runId;
    };
    await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: `Training ${runName()}`, cancellable: true },
      (progress, token) => {
        token.onCancellationRequested(() => {
          this.deps.log('info', `Stop requested for run ${runId} from the progress notification.`);
          job.cancel();
        });
        let loss: number | undefined;
        let reported = 0;
        const sampler = new ProgressSampler();
        let handOff: NodeJS.Timeout | undefined;
        let handedOff!: () => void;
        const handedOffPromise = new Promise<void>((resolve) => (handedOff = resolve));
        const report = (run: RunSummary | undefined) => {
          if (!run) return;
          if (run.state === 'queued') {
            progress.report({ message: 'queued: waiting for a free worker (setting modelLab.workers)' });
            return;
          }
          const percent = run.totalSteps > 0 ? Math.min(100, (100 * run.step) / run.totalSteps) : 0;
          const message = progressText(run.step, run.totalSteps, loss, sampler.estimate(run));
          progress.report({ message, increment: percent - reported });
          reported = percent;
          if (run.step > 0 && !handOff) handOff = setTimeout(handedOff, NOTIFICATION_AFTER_START_MS);
        };
        const subscriptions = [
          registry.onRunChanged((run) => run.id === runId && report(run)),
          registry.onMetrics((id, records) => {
            if (id !== runId) return;
            loss = latestLoss(records) ?? loss;
            sampler.add(progressSamples(records));
            report(registry.readRun(runId));
          }),
        ];
        report(registry.readRun(runId));
        return Promise.race([job.done, handedOffPromise]).finally(() => {
          clearTimeout(handOff);
          subscriptions.forEach((s) => s.dispose());
        });
      },
    );
    const outcome = await job.done;
    const run = registry.readRun(runId);
    const name = run ? runDisplayName(run) : runId;
    const steps = run ? ` at step ${run.step}/${run.totalSteps}` : '';
    if (outcome.state === 'completed') {
      const duration = run?.elapsedMs !== undefined ? ` in ${formatDuration(run.elapsedMs)}` : '';
      const choice = await vscode.window.showInformationMessage(`Model Lab: run "${name}" completed${steps}${duration}.`, 'Open Run');
      if (choice) void vscode.commands.executeCommand('modelLab.openRun', runId);
    } else if (outcome.state === 'cancelled') {
      const choice = await vscode.window.showInformationMessage(
        `Model Lab: run "${name}" stopped${steps}. Resume continues from its last checkpoint (from the start if none was saved yet).`,
        'Resume Run',
      );
      if (choice) void this.resume(runId);
    } else {
      const choice = await vscode.window.showErrorMessage(
        `Model Lab: run "${name}" failed${steps}: ${outcome.error ?? 'unknown error'}`,
        'Show Output',
      );
      if (choice) this.showOutput();
    }
  }

  private workers(): number {
    return vscode.workspace.getConfiguration(SETTINGS_SECTION).get<number>('workers') ?? 1;
  }

  private showOutput(): void {
    void vscode.commands.executeCommand('modelLab.showOutput');
  }
}

/** Continue Training's question: how many steps the new run trains (a whole number >= 1). */
async function askStepCount(run: RunSummary, suggested: number, fromStep: number): Promise<number | undefined> {
  const answer = await vscode.window.showInputBox({
    title: `Continue Training ${runDisplayName(run)}`,
    prompt: `Steps of the new run, which starts from this run's checkpoint at step ${fromStep} (its curve continues there).`,
    value: String(suggested),
    ignoreFocusOut: true,
    validateInput: (text) => {
      const parsed = parseStepCount(text);
      return typeof parsed === 'number' ? undefined : parsed.problem;
    },
  });
  if (answer === undefined) return undefined;
  const parsed = parseStepCount(answer);
  return typeof parsed === 'number' ? parsed : undefined;
}

/** How long the progress notification stays once training has started (the status bar takes over). */
const NOTIFICATION_AFTER_START_MS = 6_000;

const TRAINING_NEEDS_TRUST = 'experiment files decide what runs and where files are written. Trust this workspace to train.';

function showSettingsError(message: string, setting: string): Thenable<void> {
  return vscode.window.showErrorMessage(message, 'Open Settings').then((choice) => {
    if (choice) void vscode.commands.executeCommand('workbench.action.openSettings', setting);
  });
}
