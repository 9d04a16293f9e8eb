/**
 * The similarity panel (webview/similarity), command "Model Lab: Open Similarity":
 * - on a run: one trial of a split at a time (objects, the matrix the decoder reads, prediction
 *   against truth) and the class-average matrices, served by an inference session in a worker
 *   on the run's latest checkpoint;
 * - on a sweep: the grid of held-out accuracy over m per model and task, with spread over seeds,
 *   read from the members' metrics (live while they train).
 */
import * as vscode from 'vscode';
import { sweepGrid, trialView } from '../../core/relational/panelData';
import type { ResolvedSpec } from '../../core/spec/types';
import type { SessionClient } from '../../engine/engine';
import type { EngineHost } from '../training/engineHost';
import { logError, type Log } from '../output';
import type { RunRegistry } from '../runs/runRegistry';
import { runPickItem } from '../runs/runsTreeModel';
import { runDisplayName } from '../../shared/runs';
import {
  type FromSimilarityPage,
  type SimilarityRunInfo,
  type SimilarityTarget,
  type ToSimilarityPage,
} from '../../protocol/similarity';
import type { SweepSummary } from '../../runs/sweeps';
import { ensureTrusted, ensureTrustedToLookInside } from '../trust';
import { learnedOf } from './learned';
import { labOf } from '../../core/labList';
import { hasSimilarityMatrix, relationalLab, unseenSimilarity } from '../../core/relational/manifest';
import type { PanelContext, PanelController, PanelProvider } from './panelHost';
import { panelHost, registerPanel, type DrawMiniature, type PanelModule, type PanelRegistration } from './registration';

type SimilarityNotifications = ToSimilarityPage['notifications'];
const COMMAND = 'modelLab.openSimilarity';
/** Trials per kind averaged for the class-average matrices. */
const TRIALS_PER_KIND = 64;

export interface SimilarityDeps {
  registry: RunRegistry;
  engineHost: EngineHost;
  log: Log;
}

/** The command and the serializer that restores open panels after a reload. */
export const registerSimilarityPanel: PanelRegistration = (deps) => {
  const host = panelHost(deps, similarityProvider(deps, (target) => host.show(target)));
  return registerPanel(deps, host, {
    [COMMAND]: async (arg?: unknown) => {
      if (!ensureTrustedToLookInside()) return undefined;
      return targetOf(arg, deps.registry) ?? (await pickTarget(deps.registry));
    },
  });
};

/** The Similarity panel in the panel list, with its lab's picture in the Live view. */
export const similarityPanel: PanelModule = {
  register: registerSimilarityPanel,
  miniature: { lab: relationalLab.id, draw: drawSimilarityMiniature },
};

/** The Live view's picture of a relational run: the similarity matrix of trial 0 (the manifest says which models have one). */
async function drawSimilarityMiniature(session: SessionClient): ReturnType<DrawMiniature> {
  const splits = await session.request('splits', {});
  const split = splits.includes('test') ? 'test' : splits[0];
  const trial = trialView(await session.request('example', { split, index: 0 }));
  if (!trial.similarity) throw new Error('the model returned no similarity matrix');
  return {
    caption: `similarity matrix, ${split} trial 0${trial.kind ? ` (${trial.kind})` : ''}, step ${session.step}`,
    picture: { kind: 'similarity', matrix: trial.similarity },
  };
}

/** `show` opens another panel of this kind (a sweep's member). */
export function similarityProvider(
  deps: SimilarityDeps,
  show: (target: SimilarityTarget) => void,
): PanelProvider<SimilarityTarget, ToSimilarityPage, FromSimilarityPage> {
  return {
    viewType: relationalLab.panel.viewType,
    title: relationalLab.panel.title,
    page: { bundle: 'similarity', title: 'Similarity', name: 'Similarity panel' },
    targetFromState: (state) => {
      const target = (state as { target?: SimilarityTarget } | undefined)?.target;
      return target && (target.kind === 'run' || target.kind === 'sweep') ? target : undefined;
    },
    keyOf: (target) => JSON.stringify(target),
    create: (target, panel) => new SimilarityPanel(panel, deps, target, show),
  };
}

/** A tree node (run or sweep), `{ sweepId }`, `{ runId }`, or a run id. */
function targetOf(arg: unknown, registry: RunRegistry): SimilarityTarget | undefined {
  if (typeof arg === 'string') return registry.readSweep(arg) ? { kind: 'sweep', sweepId: arg } : { kind: 'run', runId: arg };
  if (!arg || typeof arg !== 'object') return undefined;
  const node = arg as { kind?: string; run?: { id: string }; sweep?: { sweepId: string }; sweepId?: unknown; runId?: unknown; id?: unknown };
  if (node.kind === 'sweep' && node.sweep) return { kind: 'sweep', sweepId: node.sweep.sweepId };
  if (node.kind === 'run' && node.run) return { kind: 'run', runId: node.run.id };
  if (typeof node.sweepId === 'string') return { kind: 'sweep', sweepId: node.sweepId };
  if (typeof node.runId === 'string') return { kind: 'run', runId: node.runId };
  if (typeof node.id === 'string') return { kind: 'run', runId: node.id };
  return undefined;
}

async function pickTarget(registry: RunRegistry): Promise<SimilarityTarget | undefined> {
  const sweeps = registry.listSweeps().map((sweep) => ({
    label: `$(layers) ${sweep.record.name}`,
    description: `sweep of ${sweep.record.members.length} runs`,
    detail: sweep.id,
    target: { kind: 'sweep', sweepId: sweep.id } as SimilarityTarget,
  }));
  const runs = registry
    .listRuns()
    .filter((run) => labOf(registry.readSpec(run.id))?.id === relationalLab.id)
    .map((run) => ({ ...runPickItem(run), target: { kind: 'run', runId: run.id } as SimilarityTarget }));
  if (sweeps.length + runs.length === 0) {
    void vscode.window.showInformationMessage('Model Lab: there is no relational run or sweep yet (train a relational-* template or sweep first).');
    return undefined;
  }
  const pick = await vscode.window.showQuickPick([...sweeps, ...runs], {
    placeHolder: 'Select a relational run (one trial and class averages) or a sweep (accuracy over m)',
    matchOnDetail: true,
  });
  return pick?.target;
}

/** One open Similarity panel: a run's inference session, or a sweep's grid kept up to date. */
class SimilarityPanel implements PanelController {
  private session?: Promise<SessionClient>;
  private averagesFor?: string;
  private sweepTimer?: NodeJS.Timeout;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly panel: PanelContext<SimilarityTarget, ToSimilarityPage, FromSimilarityPage>,
    private readonly deps: SimilarityDeps,
    private readonly target: SimilarityTarget,
    private readonly show: (target: SimilarityTarget) => void,
  ) {
    panel.setTitle(this.title());
    const page = panel.page.channel;
    this.disposables.push(
      page.onNotification('showTrial', ({ split, index }) => void this.reporting(() => this.sendTrial(split, index))),
      page.onNotification('openRun', ({ runId }) => this.show({ kind: 'run', runId })),
    );
    if (target.kind === 'sweep') {
      const refresh = (runId: string) => this.sweepMemberChanged(runId);
      this.disposables.push(
        deps.registry.onMetrics((runId) => refresh(runId)),
        deps.registry.onRunChanged((run) => refresh(run.id)),
      );
    }
  }

  private title(): string {
    if (this.target.kind === 'sweep') return `Sweep: ${this.deps.registry.readSweep(this.target.sweepId)?.record.name ?? this.target.sweepId}`;
    const run = this.deps.registry.readRun(this.target.runId);
    return `Similarity: ${run ? runDisplayName(run) : this.target.runId}`;
  }

  /** The page (re)loaded: the run's trial (and averages, recomputed), or the sweep's grid. */
  onReady(): Promise<void> {
    return this.reporting(async () => {
      this.averagesFor = undefined;
      if (this.target.kind === 'sweep') this.sendSweep();
      else await this.sendRun();
    });
  }

  /** Any failure goes to the page as a message, never a stack trace. */
  private async reporting(work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (error) {
      this.notify('status', { message: '' });
      this.notify('error', { message: logError(this.deps.log, 'Similarity panel', error) });
    }
  }

  /** To the page, when it listens. */
  private notify<K extends keyof SimilarityNotifications & string>(method: K, params: SimilarityNotifications[K]['params']): void {
    this.panel.page.channel.notify(method, params);
  }

  // ------------------------------------------------------------------ a run

  private async sendRun(): Promise<void> {
    if (this.target.kind !== 'run') return;
    const run = this.deps.registry.readRun(this.target.runId);
    if (!run) throw new Error(`run ${this.target.runId} no longer exists`);
    const spec = this.deps.registry.readSpec(run.id) as ResolvedSpec | undefined;
    if (!spec || labOf(spec)?.id !== relationalLab.id) {
      throw new Error(`run "${runDisplayName(run)}" is not a relational run (task ${spec?.task.name ?? 'unknown'}): the similarity panel shows same-diff, rmts, dist3 and identity-rules runs`);
    }
    const folder = imageFolderOf(spec);
    if (folder && !ensureTrusted('read object images', `this run's objects are the PNG images of ${folder}, outside Model Lab's own files. Trust this workspace to show them.`)) {
      this.notify('status', { message: `Restricted Mode: this run's objects come from ${folder}; trust the workspace to show them.` });
      return;
    }
    this.notify('status', { message: 'Loading the latest checkpoint in a worker…' });
    this.session ??= this.deps.engineHost.openSession(run.dir);
    const session = await this.session.catch((error: unknown) => {
      this.session = undefined;
      throw error;
    });
    const splits = await session.request('splits', {});
    const info: SimilarityRunInfo = {
      runId: run.id,
      name: runDisplayName(run),
      model: spec.model.name,
      task: spec.task.name,
      ...(typeof spec.task.m === 'number' ? { m: spec.task.m } : {}),
      step: session.step,
      splits,
      classNames: classNames(spec.task.name),
      unseen: unseenSimilarity(spec),
      hasSimilarity: hasSimilarityMatrix(spec),
      ...learnedOf(this.deps.registry, run.id),
    };
    this.notify('run', { run: info });
    await this.sendTrial(splits.includes('test') ? 'test' : splits[0], 0);
  }

  private async sendTrial(split: string, index: number): Promise<void> {
    if (this.target.kind !== 'run' || !this.session) return;
    if (!Number.isSafeInteger(index) || index < 0) throw new Error(`the trial index must be a whole number >= 0, got ${index}`);
    const session = await this.session;
    const example = await session.request('example', { split, index });
    this.notify('trial', { trial: trialView(example) });
    const spec = this.deps.registry.readSpec(this.target.runId) as ResolvedSpec | undefined;
    const hasSimilarity = spec !== undefined && hasSimilarityMatrix(spec);
    if (hasSimilarity && this.averagesFor !== split) {
      this.averagesFor = split;
      this.notify('status', { message: `Averaging the similarity matrix over ${TRIALS_PER_KIND} ${split} trials of each kind…` });
      const averages = await session.request('similarityAverages', { split, perKind: TRIALS_PER_KIND });
      this.notify('averages', { split, averages });
      this.notify('status', { message: '' });
    } else if (!hasSimilarity) {
      this.notify('status', { message: '' });
    }
  }

  // ------------------------------------------------------------------ a sweep

  private sweepMemberChanged(runId: string): void {
    const sweep = this.sweep();
    if (!sweep?.record.members.some((m) => m.runId === runId) || this.sweepTimer) return;
    // Members log often while they train: redraw at most once a second.
    this.sweepTimer = setTimeout(() => {
      this.sweepTimer = undefined;
      this.sendSweep();
    }, 1_000);
  }

  private sweep(): SweepSummary | undefined {
    return this.target.kind === 'sweep' ? this.deps.registry.readSweep(this.target.sweepId) : undefined;
  }

  private sendSweep(): void {
    if (this.target.kind !== 'sweep') return;
    const sweep = this.sweep();
    if (!sweep) {
      this.notify('error', { message: `The sweep ${this.target.sweepId} no longer exists (its folder was deleted or cannot be read).` });
      return;
    }
    const { registry } = this.deps;
    const members = sweep.record.members.map((member) => ({
      runId: member.runId,
      label: member.label,
      point: member.point,
      state: registry.readRun(member.runId)?.state ?? 'missing',
      records: registry.readRun(member.runId) ? registry.readMetrics(member.runId) : [],
    }));
    const grid = sweepGrid(sweep.record.sweep.grid, members, sweep.record.sweep.report?.metric ?? 'eval/test/accuracy');
    this.notify('sweep', {
      sweepId: sweep.id,
      name: sweep.record.name,
      grid,
      members: members.map(({ runId, label, state }) => ({ runId, label, state })),
    });
  }

  dispose(): void {
    if (this.sweepTimer) clearTimeout(this.sweepTimer);
    void this.session?.then((session) => session.close()).catch(() => undefined);
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}

/** The folder a relational run reads its object images from, when it is not the procedural set. */
function imageFolderOf(spec: ResolvedSpec): string | undefined {
  const objectSet = spec.task.objectSet;
  return typeof objectSet === 'object' && objectSet !== null && 'folder' in objectSet ? String(objectSet.folder) : undefined;
}

function classNames(task: string): string[] {
  switch (task) {
    case 'same-diff':
      return ['same', 'different'];
    case 'rmts':
      return ['candidate pair 1', 'candidate pair 2'];
    default:
      return ['option 1', 'option 2', 'option 3', 'option 4'];
  }
}
