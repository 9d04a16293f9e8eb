/**
 * Host side of the Posterior panel (webview/posterior): one editor panel per posterior run. The
 * panel holds an inference session in the engine (a worker thread) and forwards the webview's
 * requests to it: a simulated data set to start from, and the posterior of the data set the user
 * is editing. The host computes nothing; it opens the session, relays, times the round trip to
 * the worker, and restores the panel after a window reload.
 */
import * as vscode from 'vscode';
import type { SessionClient } from '../../engine/engine';
import type { RunSummary } from '../../protocol';
import type { RunDataSource } from './dashboardPanel';
import { errorMessage } from '../../shared/errors';
import type { Log } from '../output';
import {
  POSTERIOR_VIEW_TYPE,
  type FromPosteriorWebview,
  type PosteriorViewState,
  type ToPosteriorWebview,
} from '../posteriorProtocol';
import { runDescription, runIdOfCommandArg } from '../runsTreeModel';
import { ensureTrustedToLookInside } from '../trust';
import type { PanelContext, PanelController, PanelProvider } from './panelHost';
import { panelHost, registerPanel, type PanelRegistration } from './registration';

export const OPEN_POSTERIOR_COMMAND = 'modelLab.openPosterior';

export interface PosteriorPanelDeps {
  runs: Pick<RunDataSource, 'listRuns' | 'readRun' | 'readSpec'>;
  /** EngineHost: sessions run in the engine's workers. */
  engine: { openSession(runDir: string, step?: number): Promise<SessionClient> };
  log?: Log;
}

/** The run a panel shows; undefined when it was restored without one (it says so). */
interface PosteriorTarget {
  runId: string | undefined;
}

/** The command and the serializer that restores open panels after a reload. */
export const registerPosteriorPanel: PanelRegistration = (deps) => {
  const runs = deps.registry;
  const host = panelHost(deps, posteriorProvider({ runs, engine: deps.engineHost, log: deps.log }));
  return registerPanel(deps, host, {
    [OPEN_POSTERIOR_COMMAND]: async (arg?: unknown) => {
      if (!ensureTrustedToLookInside()) return undefined;
      const run = await runFrom(arg, runs);
      return run && { runId: run.id };
    },
  });
};

export function posteriorProvider(deps: PosteriorPanelDeps): PanelProvider<PosteriorTarget> {
  return {
    viewType: POSTERIOR_VIEW_TYPE,
    title: 'Posterior',
    page: { bundle: 'posterior', title: 'Model Lab Posterior', name: 'Posterior panel' },
    targetFromState: (state) => {
      const runId = (state as Partial<PosteriorViewState> | undefined)?.runId;
      return { runId: typeof runId === 'string' ? runId : undefined };
    },
    keyOf: (target) => target.runId,
    create: (target, panel) => new PosteriorPanel(panel, deps, target.runId),
  };
}

/** Posterior runs are those of a 'posterior-*' task. */
function isPosteriorRun(runs: PosteriorPanelDeps['runs'], run: RunSummary): boolean {
  try {
    const spec = runs.readSpec(run.id) as { task?: { name?: unknown } } | undefined;
    return typeof spec?.task?.name === 'string' && spec.task.name.startsWith('posterior-');
  } catch {
    return false;
  }
}

/** The run of a Runs-tree node, a run id, or one the user picks among the posterior runs. */
async function runFrom(arg: unknown, runs: PosteriorPanelDeps['runs']): Promise<RunSummary | undefined> {
  const id = runIdOfCommandArg(arg);
  if (id !== undefined) {
    const run = runs.readRun(id);
    if (!run) void vscode.window.showWarningMessage(`Model Lab: run ${id} no longer exists.`);
    else if (!isPosteriorRun(runs, run)) {
      void vscode.window.showWarningMessage(`Model Lab: run "${run.name}" is not a posterior run: the Posterior panel needs a 'posterior-*' task.`);
      return undefined;
    }
    return run;
  }
  const candidates = runs.listRuns().filter((run) => isPosteriorRun(runs, run));
  if (candidates.length === 0) {
    void vscode.window.showInformationMessage('Model Lab: no posterior runs yet. Train one of the posterior-*.lab.json experiments first.');
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(
    candidates.map((run) => ({ label: run.name, description: runDescription(run), detail: run.experiment, run })),
    { placeHolder: 'Select a posterior run to explore', matchOnDescription: true, matchOnDetail: true },
  );
  return picked?.run;
}

/** A session that ended (engine restarted, worker gone) must be reopened, not reused. */
const isSessionGone = (error: unknown) => /inference session (is closed|ended)|engine has been shut down/.test(errorMessage(error));

/** One open Posterior panel: its run's inference session, and the relay to it. */
class PosteriorPanel implements PanelController {
  private session?: Promise<SessionClient>;

  constructor(
    private readonly panel: PanelContext<PosteriorTarget>,
    private readonly deps: PosteriorPanelDeps,
    private readonly runId: string | undefined,
  ) {
    const run = runId ? deps.runs.readRun(runId) : undefined;
    panel.setTitle(`Posterior: ${run?.name ?? runId ?? 'no run'}`);
  }

  onReady(): Promise<void> {
    return this.sendSession();
  }

  async onMessage(received: unknown): Promise<void> {
    const message = received as FromPosteriorWebview;
    switch (message?.type) {
      case 'refreshSteps':
        await this.relay(async (session) => {
          await session.request('steps', {});
          this.postSession(session);
        });
        break;
      case 'loadStep':
        await this.relay(async (session) => {
          await session.request('load', { step: message.step });
          this.postSession(session);
        });
        break;
      case 'example':
        await this.relay(async (session) => {
          const example = await session.request('posteriorExample', { index: message.index });
          this.post({ type: 'example', example });
        });
        break;
      case 'posterior': {
        const { requestId, data, samples, view } = message;
        await this.relay(async (session) => {
          const started = performance.now();
          const result = await session.request('posteriorSamples', { data, samples, view });
          this.post({ type: 'posterior', requestId, result, workerMs: performance.now() - started });
        }, requestId);
        break;
      }
      case 'reference': {
        const { requestId, data, samples } = message;
        await this.relay(async (session) => {
          const started = performance.now();
          const reference = await session.request('posteriorReference', { data, samples });
          this.post({ type: 'reference', requestId, reference, workerMs: performance.now() - started });
        }, requestId);
        break;
      }
      case 'calibration': {
        const { requestId } = message;
        await this.relay(async (session) => {
          const started = performance.now();
          const calibration = await session.request('posteriorCalibration', {});
          this.post({ type: 'calibration', requestId, calibration, workerMs: performance.now() - started });
        }, requestId);
        break;
      }
    }
  }

  /** The session of this panel's run, opened on first use (at the run's latest checkpoint). */
  private openSession(): Promise<SessionClient> {
    if (!this.runId) return Promise.reject(new Error('this panel was restored without its run; open it again with "Model Lab: Open Posterior"'));
    const run = this.deps.runs.readRun(this.runId);
    if (!run) return Promise.reject(new Error(`run ${this.runId} no longer exists`));
    if (!this.session) {
      const opening = this.deps.engine.openSession(run.dir);
      this.session = opening;
      opening.catch(() => {
        if (this.session === opening) this.session = undefined; // let the next request try again
      });
    }
    return this.session;
  }

  private async sendSession(): Promise<void> {
    await this.relay(async (session) => {
      await session.request('steps', {}); // a run still training may have saved more
      this.postSession(session);
    });
  }

  private postSession(session: SessionClient): void {
    const run = this.runId ? this.deps.runs.readRun(this.runId) : undefined;
    this.post({ type: 'session', runId: this.runId ?? '', runName: run?.name ?? this.runId ?? '', step: session.step, steps: session.steps });
  }

  /** Runs `work` on the session; any failure goes to the webview as a message, never a stack trace. */
  private async relay(work: (session: SessionClient) => Promise<void>, requestId?: number): Promise<void> {
    try {
      await work(await this.openSession());
    } catch (error) {
      if (isSessionGone(error)) this.session = undefined;
      this.deps.log?.('warn', `Posterior panel (${this.runId ?? 'no run'}): ${errorMessage(error)}`);
      this.post({ type: 'error', message: errorMessage(error), requestId });
    }
  }

  private post(message: ToPosteriorWebview): void {
    this.panel.page.post(message);
  }

  dispose(): void {
    void this.session?.then((session) => session.close(), () => undefined);
    this.session = undefined;
  }
}
