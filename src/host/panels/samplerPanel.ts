/**
 * Host side of the Sampler panel (webview/sampler): one editor panel per sampler run. The panel
 * holds an inference session in the engine (a worker thread) on one of the run's checkpoints and
 * relays the page's requests to it (the target, samples with their trajectories, the log-density
 * landscape under them); it also sends the run's metrics over training (log Z estimates, modes
 * covered) from metrics.jsonl, live while the run trains, and follows its newest checkpoint
 * while the page shows the newest. The host computes nothing itself. "Fine-tune from this
 * checkpoint" writes and trains a new experiment (samplerFineTune.ts) and opens its panel beside.
 * This module also draws the sampler lab's picture in the Live view.
 */
import * as vscode from 'vscode';
import { samplerLab } from '../../core/sampler/manifest';
import type { SessionClient } from '../../engine/engine';
import type { MetricRecord } from '../../protocol';
import type { FromSamplerPage, SamplerRunInfo, SamplerViewState, ToSamplerPage } from '../../protocol/sampler';
import type { SamplerMiniature } from '../../protocol/live';
import { errorMessage } from '../../shared/errors';
import { sampleRows } from '../../shared/sampleMatrix';
import { runDisplayName } from '../../shared/runs';
import { appendPoint, type StepSeries } from '../../shared/series';
import type { Disposable } from '../../shared/disposable';
import type { Log } from '../output';
import { ensureTrustedToLookInside } from '../trust';
import type { RunDataSource } from './dashboardPanel';
import type { PanelContext, PanelController, PanelProvider } from './panelHost';
import { fineTuneRun, type FineTuneDeps } from './samplerFineTune';
import { learnedOf } from './learned';
import { pickLabRun, RunSession, type LabRunKind } from './runSession';
import { panelHost, registerPanel, type DrawMiniature, type PanelModule, type PanelRegistration } from './registration';

export const OPEN_SAMPLER_COMMAND = 'modelLab.openSampler';

export interface SamplerPanelDeps {
  runs: Pick<RunDataSource, 'listRuns' | 'readRun' | 'readSpec' | 'readMetrics' | 'onMetrics' | 'onRunChanged'>;
  /** EngineHost: sessions run in the engine's workers. */
  engine: { openSession(runDir: string, step?: number): Promise<SessionClient> };
  log?: Log;
  /** "Fine-tune from this checkpoint": the Train path and the panel beside (absent: the page's request is refused). */
  fineTune?: Omit<FineTuneDeps, 'runs'>;
}

/** The run a panel shows; undefined when it was restored without one (it says so). */
interface SamplerTarget {
  runId: string | undefined;
}

export const registerSamplerPanel: PanelRegistration = (deps) => {
  const runs = deps.registry;
  const fineTune: Omit<FineTuneDeps, 'runs'> = {
    train: (file) => deps.training.train(vscode.Uri.file(file)),
    folderOf: (run) => vscode.workspace.getWorkspaceFolder(vscode.Uri.file(run.dir))?.uri.fsPath,
    showBeside: (runId) => host.show({ runId }, { beside: true }),
  };
  const host = panelHost(deps, samplerProvider({ runs, engine: deps.engineHost, log: deps.log, fineTune }));
  return registerPanel(deps, host, {
    [OPEN_SAMPLER_COMMAND]: async (arg?: unknown) => {
      if (!ensureTrustedToLookInside()) return undefined;
      const run = await pickLabRun(arg, runs, SAMPLER_RUNS);
      return run && { runId: run.id };
    },
  });
};

/** The Sampler panel in the panel list, with its lab's picture in the Live view. */
export const samplerPanel: PanelModule = {
  register: registerSamplerPanel,
  miniature: { lab: samplerLab.id, draw: drawSamplerMiniature },
};

const MINIATURE_SAMPLES = 300;
const MINIATURE_GRID = 48;

/** The Live view's picture of a sampler run: samples over the target's log-density, first two coordinates. */
async function drawSamplerMiniature(session: SessionClient): ReturnType<DrawMiniature> {
  const target = await session.request('samplerTarget', {});
  const dims: [number, number] = [0, Math.min(1, target.dimension - 1)];
  const [result, landscape] = await Promise.all([
    session.request('samplerSamples', { n: MINIATURE_SAMPLES, seed: 0 }),
    session.request('samplerLandscape', { dims, grid: MINIATURE_GRID }),
  ]);
  const points = sampleRows(result.samples).map((row) => [row[dims[0]], row[dims[1]]]);
  const modes = target.mixture?.means.map((mean) => [mean[dims[0]], mean[dims[1]]]);
  const covered = result.perMode ? `, ${result.perMode.covered} of ${result.perMode.counts.length} modes` : '';
  const picture: SamplerMiniature = {
    kind: 'sampler',
    axes: [target.coordinates[dims[0]], target.coordinates[dims[1]]],
    samples: points,
    landscape: { grid: landscape.grid, range: landscape.range, logDensity: Array.from(landscape.logDensity, (v) => (Number.isFinite(v) ? v : -1e30)) },
    ...(modes ? { modes } : {}),
  };
  return { caption: `samples over log R (${picture.axes.join(', ')}), step ${session.step}${covered}`, picture };
}

type SamplerNotifications = ToSamplerPage['notifications'];

export function samplerProvider(deps: SamplerPanelDeps): PanelProvider<SamplerTarget, ToSamplerPage, FromSamplerPage> {
  return {
    viewType: samplerLab.panel.viewType,
    title: samplerLab.panel.title,
    page: { bundle: 'sampler', title: 'Model Lab Sampler', name: 'Sampler panel' },
    targetFromState: (state) => {
      const runId = (state as Partial<SamplerViewState> | undefined)?.runId;
      return { runId: typeof runId === 'string' ? runId : undefined };
    },
    keyOf: (target) => target.runId,
    create: (target, panel) => new SamplerPanel(panel, deps, target.runId),
  };
}

const SAMPLER_RUNS: LabRunKind = {
  lab: samplerLab.id,
  noun: 'sampler',
  needs: "the Sampler panel needs one of the sampler lab's targets",
  trainFirst: 'one of the sampler-*.lab.json experiments',
};

/** What the page says about the run, from its resolved spec (untrusted: every field checked). */
export function samplerRunInfo(runId: string, runName: string, spec: unknown): SamplerRunInfo {
  const record = (value: unknown): Record<string, unknown> => (value && typeof value === 'object' ? (value as Record<string, unknown>) : {});
  const s = record(spec);
  const [task, model, objective, training, init] = [record(s.task), record(s.model), record(s.objective), record(s.training), record(s.init)];
  const name = (part: Record<string, unknown>) => (typeof part.name === 'string' ? part.name : '?');
  const on = (value: unknown) => (value && typeof value === 'object' ? record(value).enabled !== false : value === true || (typeof value === 'number' && value > 0));
  const option = (key: string) => objective[key] ?? model[key] ?? training[key];
  return {
    runId,
    runName,
    task: name(task),
    model: name(model),
    objective: name(objective),
    trainingSteps: typeof training.steps === 'number' ? training.steps : 0,
    localSearch: on(option('localSearch')),
    exploration: on(option('exploration')),
    ...(typeof task.logDensity === 'string' ? { logDensity: task.logDensity } : {}),
    ...(typeof init.run === 'string' ? { init: { run: init.run, ...(typeof init.step === 'number' ? { step: init.step } : {}) } } : {}),
  };
}

/** The run's metrics as series by name. */
function seriesOf(records: readonly MetricRecord[], into: Record<string, StepSeries> = {}): Record<string, StepSeries> {
  for (const record of records) {
    for (const [name, value] of Object.entries(record.values)) {
      if (typeof value !== 'number') continue;
      into[name] ??= { steps: [], values: [] };
      appendPoint(into[name], record.step, value);
    }
  }
  return into;
}

/** One open Sampler panel: its run's inference session, the relay to it, and the run's metrics. */
class SamplerPanel implements PanelController {
  private readonly session: RunSession;
  private readonly subscriptions: Disposable[];
  /** The page shows the newest checkpoint (or none yet): a newer one saved by the training run is loaded. */
  private following = true;
  private checking?: Promise<void>;
  private checkAgain = false;

  constructor(
    private readonly panel: PanelContext<SamplerTarget, ToSamplerPage, FromSamplerPage>,
    private readonly deps: SamplerPanelDeps,
    private readonly runId: string | undefined,
  ) {
    this.session = new RunSession({ runId, runs: deps.runs, engine: deps.engine, log: deps.log, panel: 'Sampler' });
    const run = runId ? deps.runs.readRun(runId) : undefined;
    panel.setTitle(`Sampler: ${run ? runDisplayName(run) : runId ?? 'no run'}`);
    const page = panel.page.channel;
    page.onNotification('refreshSteps', () => void this.reload((session) => session.request('steps', {})));
    page.onNotification('loadStep', ({ step }) =>
      void this.reload(async (session) => {
        await session.request('load', { step });
        this.following = step === session.steps[session.steps.length - 1];
      }));
    page.onRequest('target', async () => ({ target: (await this.session.timed((session) => session.request('samplerTarget', {}))).answer }));
    page.onRequest('samples', async (params) => {
      const { answer: result, workerMs } = await this.session.timed((session) => session.request('samplerSamples', params));
      return { result, workerMs };
    });
    page.onRequest('landscape', async (params) => {
      const { answer: landscape, workerMs } = await this.session.timed((session) => session.request('samplerLandscape', params));
      return { landscape, workerMs };
    });
    page.onRequest('fineTune', async (params) => {
      if (!deps.fineTune) throw new Error('fine-tuning is not available in this window');
      const fineTune = { ...deps.fineTune, runs: deps.runs };
      return (await this.session.timed((session) => fineTuneRun(fineTune, this.runId, session, params))).answer;
    });
    // New points while the run trains, and its newer checkpoints while the page shows the newest.
    this.subscriptions = [
      deps.runs.onMetrics((id, records) => {
        if (id !== this.runId || records.length === 0) return;
        this.notify('metrics', { series: seriesOf(records), replace: false });
        this.followNewest();
      }),
      deps.runs.onRunChanged((changed) => {
        if (changed.id === this.runId) this.followNewest();
      }),
    ];
  }

  /** Loads the run's newest checkpoint when the page follows it; quiet before the first one is saved. */
  private followNewest(): void {
    if (!this.following) return;
    if (this.checking) {
      this.checkAgain = true;
      return;
    }
    this.checking = this.session
      .relay(
        async (session) => {
          const shown = session.step;
          await session.request('steps', {});
          const newest = session.steps[session.steps.length - 1];
          if (newest !== undefined && newest !== shown && this.following) await session.request('load', { step: newest });
          this.postSession(session);
        },
        () => undefined, // no checkpoint yet: the page said so when it opened
      )
      .finally(() => {
        this.checking = undefined;
        if (this.checkAgain) {
          this.checkAgain = false;
          this.followNewest();
        }
      });
  }

  onReady(): Promise<void> {
    if (this.runId) {
      try {
        this.notify('metrics', { series: seriesOf(this.deps.runs.readMetrics(this.runId)), replace: true });
      } catch (error) {
        this.notify('error', { message: `metrics of run ${this.runId}: ${errorMessage(error)}` });
      }
    }
    return this.reload((session) => session.request('steps', {})); // a run still training may have saved more
  }

  /** Loads a step (or the list of steps) in the session, then tells the page where the session is. */
  private reload(load: (session: SessionClient) => Promise<unknown>): Promise<void> {
    return this.session.relay(
      async (session) => {
        await load(session);
        this.postSession(session);
      },
      (message) => this.notify('error', { message }),
    );
  }

  private postSession(session: SessionClient): void {
    const runId = this.runId ?? '';
    const run = this.runId ? this.deps.runs.readRun(this.runId) : undefined;
    let spec: unknown;
    try {
      spec = this.runId ? this.deps.runs.readSpec(this.runId) : undefined;
    } catch {
      spec = undefined; // the session opened, so the spec was readable a moment ago; the info says '?'
    }
    const learned = this.runId ? learnedOf(this.deps.runs, this.runId) : {};
    this.notify('session', { run: { ...samplerRunInfo(runId, run ? runDisplayName(run) : runId, spec), ...learned }, step: session.step, steps: session.steps });
  }

  /** To the page, when it listens. */
  private notify<K extends keyof SamplerNotifications & string>(method: K, params: SamplerNotifications[K]['params']): void {
    this.panel.page.channel.notify(method, params);
  }

  dispose(): void {
    for (const subscription of this.subscriptions) subscription.dispose();
    this.session.close();
  }
}
