/**
 * Host side of the Posterior panel (webview/posterior): one editor panel per posterior run. The
 * panel holds an inference session in the engine (a worker thread) and forwards the webview's
 * requests to it: a simulated data set to start from, and the posterior of the data set the user
 * is editing. The host computes nothing; it opens the session, relays, times the round trip to
 * the worker, and restores the panel after a window reload.
 */
import { posteriorLab } from '../../core/posterior/manifest';
import type { SessionClient } from '../../engine/engine';
import type { RunDataSource } from './dashboardPanel';
import type { Log } from '../output';
import { type FromPosteriorPage, type PosteriorViewState, type ToPosteriorPage } from '../../protocol/posterior';
import { ensureTrustedToLookInside } from '../trust';
import type { PanelContext, PanelController, PanelProvider } from './panelHost';
import { sampleRows, type SampleMatrix } from '../../shared/sampleMatrix';
import { runDisplayName } from '../../shared/runs';
import { learnedOf } from './learned';
import { pickLabRun, RunSession, type LabRunKind } from './runSession';
import { panelHost, registerPanel, type DrawMiniature, type PanelModule, type PanelRegistration } from './registration';

export const OPEN_POSTERIOR_COMMAND = 'modelLab.openPosterior';

export interface PosteriorPanelDeps {
  runs: Pick<RunDataSource, 'listRuns' | 'readRun' | 'readSpec' | 'readMetrics'>;
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
      const run = await pickLabRun(arg, runs, POSTERIOR_RUNS);
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

const POSTERIOR_RUNS: LabRunKind = {
  lab: posteriorLab.id,
  noun: 'posterior',
  needs: "the Posterior panel needs a 'posterior-*' task",
  trainFirst: 'one of the posterior-*.lab.json experiments',
};

/** One open Posterior panel: its run's inference session, and the relay to it. */
class PosteriorPanel implements PanelController {
  private readonly session: RunSession;

  constructor(
    private readonly panel: PanelContext<PosteriorTarget, ToPosteriorPage, FromPosteriorPage>,
    private readonly deps: PosteriorPanelDeps,
    private readonly runId: string | undefined,
  ) {
    this.session = new RunSession({ runId, runs: deps.runs, engine: deps.engine, log: deps.log, panel: 'Posterior' });
    const run = runId ? deps.runs.readRun(runId) : undefined;
    panel.setTitle(`Posterior: ${run ? runDisplayName(run) : runId ?? 'no run'}`);
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

  private async sendSession(): Promise<void> {
    await this.relay(async (session) => {
      await session.request('steps', {}); // a run still training may have saved more
      this.postSession(session);
    });
  }

  private postSession(session: SessionClient): void {
    const run = this.runId ? this.deps.runs.readRun(this.runId) : undefined;
    const learned = this.runId ? learnedOf(this.deps.runs, this.runId) : {};
    this.notify('session', { runId: this.runId ?? '', runName: run ? runDisplayName(run) : this.runId ?? '', step: session.step, steps: session.steps, ...learned });
  }

  /** Runs `work` on the session; any failure goes to the page as a message, never a stack trace. */
  private relay(work: (session: SessionClient) => Promise<void>): Promise<void> {
    return this.session.relay(work, (message) => this.notify('error', { message }));
  }

  /** One of the page's requests, timed host -> worker -> host; a failure rejects it with the reason. */
  private timed<T>(ask: (session: SessionClient) => Promise<T>): Promise<{ answer: T; workerMs: number }> {
    return this.session.timed(ask);
  }

  /** To the page, when it listens. */
  private notify<K extends keyof PosteriorNotifications & string>(method: K, params: PosteriorNotifications[K]['params']): void {
    this.panel.page.channel.notify(method, params);
  }

  dispose(): void {
    this.session.close();
  }
}
