/**
 * What a lab panel that looks inside one run needs around the engine: the run picked from a
 * Runs-tree node, an id or a quick pick among the lab's runs, and the run's inference session
 * (opened on first use, reopened after the engine lost it), with every failure turned into words
 * for the page and a line in the log, never a stack trace. Used by the Posterior and Sampler panels.
 */
import * as vscode from 'vscode';
import { labOf } from '../../core/labList';
import type { SessionClient } from '../../engine/engine';
import type { RunSummary } from '../../protocol';
import { errorMessage } from '../../shared/errors';
import type { Log } from '../output';
import { runIdOfCommandArg, runPickItem } from '../runs/runsTreeModel';
import { runDisplayName } from '../../shared/runs';
import type { RunDataSource } from './dashboardPanel';

/** The lab whose runs a panel shows, and how the messages name them. */
export interface LabRunKind {
  /** The lab's id (src/core/<lab>/manifest.ts). */
  lab: string;
  /** E.g. 'posterior': "is not a posterior run", "no posterior runs yet". */
  noun: string;
  /** Why a run of another lab does not fit, e.g. "the Posterior panel needs a 'posterior-*' task". */
  needs: string;
  /** What to train first, e.g. "one of the posterior-*.lab.json experiments". */
  trainFirst: string;
}

const isLabRun = (runs: Pick<RunDataSource, 'readSpec'>, run: RunSummary, lab: string): boolean => {
  try {
    return labOf(runs.readSpec(run.id))?.id === lab;
  } catch {
    return false;
  }
};

/** The run of a Runs-tree node, a run id, or one the user picks among the lab's runs; undefined when there is none (the user was told why). */
export async function pickLabRun(arg: unknown, runs: Pick<RunDataSource, 'listRuns' | 'readRun' | 'readSpec'>, kind: LabRunKind): Promise<RunSummary | undefined> {
  const id = runIdOfCommandArg(arg);
  if (id !== undefined) {
    const run = runs.readRun(id);
    if (!run) void vscode.window.showWarningMessage(`Model Lab: run ${id} no longer exists.`);
    else if (!isLabRun(runs, run, kind.lab)) {
      void vscode.window.showWarningMessage(`Model Lab: run "${runDisplayName(run)}" is not a ${kind.noun} run: ${kind.needs}.`);
      return undefined;
    }
    return run;
  }
  const candidates = runs.listRuns().filter((run) => isLabRun(runs, run, kind.lab));
  if (candidates.length === 0) {
    void vscode.window.showInformationMessage(`Model Lab: no ${kind.noun} runs yet. Train ${kind.trainFirst} first.`);
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(
    candidates.map((run) => ({ ...runPickItem(run), run })),
    { placeHolder: `Select a ${kind.noun} run to explore`, matchOnDescription: true, matchOnDetail: true },
  );
  return picked?.run;
}

/** A session that ended (engine restarted, worker gone) must be reopened, not reused. */
const isSessionGone = (error: unknown) => /inference session (is closed|ended)|engine has been shut down/.test(errorMessage(error));

export interface RunSessionOptions {
  runId: string | undefined;
  runs: Pick<RunDataSource, 'readRun'>;
  /** EngineHost: sessions run in the engine's workers. */
  engine: { openSession(runDir: string, step?: number): Promise<SessionClient> };
  log?: Log;
  /** The panel's name in messages, e.g. 'Posterior'. */
  panel: string;
}

/** One panel's inference session on its run. */
export class RunSession {
  private session?: Promise<SessionClient>;

  constructor(private readonly options: RunSessionOptions) {}

  /** The session, opened on first use (at the run's latest checkpoint). */
  open(): Promise<SessionClient> {
    const { runId, runs, engine, panel } = this.options;
    if (!runId) return Promise.reject(new Error(`this panel was restored without its run; open it again with "Model Lab: Open ${panel}"`));
    const run = runs.readRun(runId);
    if (!run) return Promise.reject(new Error(`run ${runId} no longer exists`));
    if (!this.session) {
      const opening = engine.openSession(run.dir);
      this.session = opening;
      opening.catch(() => {
        if (this.session === opening) this.session = undefined; // let the next request try again
      });
    }
    return this.session;
  }

  /** Runs `work` on the session; a failure is logged and handed to `report` in words. */
  async relay(work: (session: SessionClient) => Promise<void>, report: (message: string) => void): Promise<void> {
    try {
      await work(await this.open());
    } catch (error) {
      this.failed(error);
      report(errorMessage(error));
    }
  }

  /** One request of the page, timed host -> worker -> host; a failure rejects with the reason. */
  async timed<T>(ask: (session: SessionClient) => Promise<T>): Promise<{ answer: T; workerMs: number }> {
    try {
      const session = await this.open();
      const started = performance.now();
      const answer = await ask(session);
      return { answer, workerMs: performance.now() - started };
    } catch (error) {
      this.failed(error);
      throw error;
    }
  }

  close(): void {
    void this.session?.then((session) => session.close(), () => undefined);
    this.session = undefined;
  }

  private failed(error: unknown): void {
    if (isSessionGone(error)) this.session = undefined;
    this.options.log?.('warn', `${this.options.panel} panel (${this.options.runId ?? 'no run'}): ${errorMessage(error)}`);
  }
}
