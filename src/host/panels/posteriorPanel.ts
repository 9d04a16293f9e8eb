/**
 * Host side of the Posterior panel (webview/posterior): one editor panel per posterior run. The
 * panel holds an inference session in the engine (a worker thread) and forwards the webview's
 * requests to it: a simulated data set to start from, and the posterior of the data set the user
 * is editing. The host computes nothing; it opens the session, relays, times the round trip to
 * the worker, and restores the panel after a window reload.
 */
import * as vscode from 'vscode';
import { labOf } from '../../core/labList';
import { posteriorLab } from '../../core/posterior/manifest';
import type { SessionClient } from '../../engine/engine';
import type { RunSummary } from '../../protocol';
import type { RunDataSource } from './dashboardPanel';
import { errorMessage } from '../../shared/errors';
import type { Log } from '../output';
import { type FromPosteriorPage, type PosteriorViewState, type ToPosteriorPage } from '../../protocol/posterior';
import { runDescription, runIdOfCommandArg } from '../runs/runsTreeModel';
import { ensureTrustedToLookInside } from '../trust';
import type { PanelContext, PanelController, PanelProvider } from './panelHost';
import { sampleRows, type SampleMatrix } from '../../shared/sampleMatrix';
import { panelHost, registerPanel, type DrawMiniature, type PanelModule, type PanelRegistration } from './registration';

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

/** The Posterior panel in the panel list, with its lab's picture in the Live view. */
export const posteriorPanel: PanelModule = {
  register: registerPosteriorPanel,
  miniature: { lab: posteriorLab.id, draw: drawPosteriorMiniature },
};

const MINIATURE_SAMPLES = 200;

/** The Live view's picture of a posterior run: network samples (against the exact ones) for simulated data set 0. */
async function drawPosteriorMiniature(session: SessionClient): ReturnType<DrawMiniature> {
  const example = await session.request('posteriorExample', { index: 0 });
  const result = await session.request('posteriorSamples', { data: example.data, samples: MINIATURE_SAMPLES, seed: 0 });
  const dims = Math.min(2, example.theta.length);
  const cut = (samples: SampleMatrix) => sampleRows(samples, dims);
  const axes = example.task.thetaNames.slice(0, dims);
  return {
    caption: `posterior of ${axes.join(', ')}: network${result.exact ? ' vs exact' : ''}, data set 0, step ${session.step}`,
    picture: { kind: 'posterior', axes, network: cut(result.samples), ...(result.exact ? { exact: cut(result.exact.samples) } : {}), truth: example.theta.slice(0, dims) },
  };
}

type PosteriorNotifications = ToPosteriorPage['notifications'];

export function posteriorProvider(deps: PosteriorPanelDeps): PanelProvider<PosteriorTarget, ToPosteriorPage, FromPosteriorPage> {
  return {
    viewType: posteriorLab.panel.viewType,
    title: posteriorLab.panel.title,
    page: { bundle: 'posterior', title: 'Model Lab Posterior', name: 'Posterior panel' },
    targetFromState: (state) => {
      const runId = (state as Partial<PosteriorViewState> | undefined)?.runId;
      return { runId: typeof runId === 'string' ? runId : undefined };
    },
    keyOf: (target) => target.runId,
    create: (target, panel) => new PosteriorPanel(panel, deps, target.runId),
  };
}

/** Posterior runs are those of the posterior lab (src/core/posterior/manifest.ts). */
function isPosteriorRun(runs: PosteriorPanelDeps['runs'], run: RunSummary): boolean {
  try {
    return labOf(runs.readSpec(run.id))?.id === posteriorLab.id;
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
    private readonly panel: PanelContext<PosteriorTarget, ToPosteriorPage, FromPosteriorPage>,
    private readonly deps: PosteriorPanelDeps,
    private readonly runId: string | undefined,
  ) {
    const run = runId ? deps.runs.readRun(runId) : undefined;
    panel.setTitle(`Posterior: ${run?.name ?? runId ?? 'no run'}`);
    const page = panel.page.channel;
    page.onNotification('refreshSteps', () =>
      void this.relay(async (session) => {
        await session.request('steps', {});
        this.postSession(session);
      }),
    );
    page.onNotification('loadStep', ({ step }) =>
      void this.relay(async (session) => {
        await session.request('load', { step });
        this.postSession(session);
      }),
    );
    page.onNotification('example', ({ index }) =>
      void this.relay(async (session) => this.notify('example', { example: await session.request('posteriorExample', { index }) })),
    );
    page.onRequest('posterior', async ({ data, samples, view }) => {
      const { answer: result, workerMs } = await this.timed((session) => session.request('posteriorSamples', { data, samples, view }));
      return { result, workerMs };
    });
    page.onRequest('reference', async ({ data, samples }) => {
      const { answer: reference, workerMs } = await this.timed((session) => session.request('posteriorReference', { data, samples }));
      return { reference, workerMs };
    });
    page.onRequest('calibration', async () => {
      const { answer: calibration, workerMs } = await this.timed((session) => session.request('posteriorCalibration', {}));
      return { calibration, workerMs };
    });
  }

  onReady(): Promise<void> {
    return this.sendSession();
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
    this.notify('session', { runId: this.runId ?? '', runName: run?.name ?? this.runId ?? '', step: session.step, steps: session.steps });
  }

  /** Runs `work` on the session; any failure goes to the page as a message, never a stack trace. */
  private async relay(work: (session: SessionClient) => Promise<void>): Promise<void> {
    try {
      await work(await this.openSession());
    } catch (error) {
      this.failed(error);
      this.notify('error', { message: errorMessage(error) });
    }
  }

  /** One of the page's requests, timed host -> worker -> host; a failure rejects it with the reason. */
  private async timed<T>(ask: (session: SessionClient) => Promise<T>): Promise<{ answer: T; workerMs: number }> {
    try {
      const session = await this.openSession();
      const started = performance.now();
      const answer = await ask(session);
      return { answer, workerMs: performance.now() - started };
    } catch (error) {
      this.failed(error);
      throw error;
    }
  }

  private failed(error: unknown): void {
    if (isSessionGone(error)) this.session = undefined;
    this.deps.log?.('warn', `Posterior panel (${this.runId ?? 'no run'}): ${errorMessage(error)}`);
  }

  /** To the page, when it listens. */
  private notify<K extends keyof PosteriorNotifications & string>(method: K, params: PosteriorNotifications[K]['params']): void {
    this.panel.page.channel.notify(method, params);
  }

  dispose(): void {
    void this.session?.then((session) => session.close(), () => undefined);
    this.session = undefined;
  }
}
