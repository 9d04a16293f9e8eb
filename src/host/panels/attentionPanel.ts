/**
 * Host side of the Attention composition panel (webview/attention): one editor panel showing one
 * or two retrieval-model runs side by side. Each column owns an inference session in a worker
 * (EngineHost.openSession) on one of the run's checkpoints; the worker computes the example and
 * the selection summary (src/core/retrieval/attentionSummary.ts), the host forwards them. The panel state
 * (runs, split, example) survives hide/show (replayed on 'ready') and window reloads (serializer).
 */
import * as vscode from 'vscode';
import type { SessionClient } from '../../engine/engine';
import type { RunSummary } from '../../protocol';
import {
  DEFAULT_SUMMARY_EXAMPLES,
  type AttentionColumn,
  type AttentionPanelState,
  type AttentionSelection,
  type FromAttentionPage,
  type ToAttentionPage,
} from '../../protocol/attention';
import type { SpecNames } from '../../core/labManifest';
import { labOf } from '../../core/labList';
import { learnedOf } from './learned';
import { retrievalLab } from '../../core/retrieval/manifest';
import { registerTrainComparison } from '../training/attentionComparison';
import type { EngineHost } from '../training/engineHost';
import { errorMessage } from '../../shared/errors';
import { runDisplayName } from '../../shared/runs';
import type { Log } from '../output';
import type { RunRegistry } from '../runs/runRegistry';
import { runDescription, runIdOfCommandArg } from '../runs/runsTreeModel';
import { ensureTrustedToLookInside } from '../trust';
import type { PanelContext, PanelController, PanelProvider } from './panelHost';
import { panelHost, registerPanel, type DrawMiniature, type PanelModule, type PanelRegistration } from './registration';

export interface AttentionDeps {
  registry: RunRegistry;
  engineHost: EngineHost;
  log: Log;
}

/** What a panel shows: one or two runs (left, right); restored with the selection it had. */
interface AttentionTarget {
  runIds: string[];
  selection?: AttentionSelection;
}

/** Registers the commands, the Train Comparison command and the panel serializer. */
export const registerAttentionPanel: PanelRegistration = (deps) => {
  const { registry } = deps;
  const host = panelHost(deps, attentionProvider(deps));
  const columns = (runs: RunSummary[]): AttentionTarget => ({ runIds: [...new Set(runs.map((run) => run.id))].slice(0, 2) });
  return [
    ...registerPanel(deps, host, {
      'modelLab.openAttention': async (arg?: unknown) => {
        if (!ensureTrustedToLookInside()) return undefined;
        const run = await runFromArg(registry, arg, 'Select a compositional or multi-head attention run to inspect');
        return run && columns([run]);
      },
      'modelLab.compareAttention': async (arg?: unknown, selected?: unknown) => {
        if (!ensureTrustedToLookInside()) return undefined;
        const fromTree = selectedRuns(registry, selected).filter((run) => problemOf(registry, run) === undefined);
        if (fromTree.length >= 2) return columns(fromTree.slice(0, 2));
        const first = await runFromArg(registry, arg, 'Select the first run (left column)');
        if (!first) return undefined;
        const second = await pickRetrievalRun(registry, `Select the run to show beside ${runDisplayName(first)} (same example, right column)`, [first.id]);
        return second && columns([first, second]);
      },
    }),
    registerTrainComparison(deps),
  ];
};

/** The Attention panel in the panel list, with its lab's picture in the Live view. */
export const attentionPanel: PanelModule = {
  register: registerAttentionPanel,
  miniature: { lab: retrievalLab.id, draw: drawSelectionMiniature },
};

/** The Live view's picture of a retrieval run: the retrieval each search picks, per token, in example 0. */
async function drawSelectionMiniature(session: SessionClient, spec: SpecNames): ReturnType<DrawMiniature> {
  const splits = await session.request('splits', {});
  // The held-out split, as the Attention panel opens: that is where composition shows.
  const split = splits[splits.length - 1];
  const example = await session.request('attentionExample', { split, index: 0 });
  return {
    caption: `retrieval selection, ${split} example 0, step ${session.step}`,
    picture: {
      kind: 'attention',
      matrix: example.selection.map((token) => token.flat()),
      searches: example.searches,
      retrievals: example.retrievals,
      groupPrefix: spec.model.name === 'multi-head-attention' ? 'h' : 's',
    },
  };
}

type AttentionNotifications = ToAttentionPage['notifications'];

export function attentionProvider(deps: AttentionDeps): PanelProvider<AttentionTarget, ToAttentionPage, FromAttentionPage> {
  return {
    viewType: retrievalLab.panel.viewType,
    title: retrievalLab.panel.title,
    page: { bundle: 'attention', title: 'Attention composition', name: 'Attention panel' },
    targetFromState: (state) => {
      const saved = state as Partial<AttentionPanelState> | undefined;
      const runIds = Array.isArray(saved?.runIds) ? saved.runIds.filter((id): id is string => typeof id === 'string') : [];
      return { runIds, selection: saved?.selection };
    },
    keyOf: (target) => target.runIds.join('\n'),
    create: (target, panel) => new AttentionPanel(panel, deps, target),
  };
}

// ------------------------------------------------------------------ picking runs

function selectedRuns(registry: RunRegistry, selected: unknown): RunSummary[] {
  if (!Array.isArray(selected)) return [];
  return selected.flatMap((node) => {
    const id = runIdOfCommandArg(node);
    const run = id === undefined ? undefined : registry.readRun(id);
    return run ? [run] : [];
  });
}

function modelOf(registry: RunRegistry, runId: string): { name?: string; options: Record<string, unknown> } {
  const spec = registry.readSpec(runId) as { model?: Record<string, unknown> } | undefined;
  const model = spec?.model ?? {};
  return { name: typeof model.name === 'string' ? model.name : undefined, options: model };
}

/** Why a run cannot be shown in the panel, or undefined. */
function problemOf(registry: RunRegistry, run: RunSummary): string | undefined {
  const model = modelOf(registry, run.id).name;
  if (model === undefined) return `the experiment of run "${runDisplayName(run)}" cannot be read`;
  if (labOf(registry.readSpec(run.id))?.id !== retrievalLab.id) {
    const models = retrievalLab.models.map((m) => m.name).join(' and ');
    return `run "${runDisplayName(run)}" uses model '${model}'; the Attention composition panel shows ${models} runs`;
  }
  return undefined;
}

async function runFromArg(registry: RunRegistry, arg: unknown, placeHolder: string): Promise<RunSummary | undefined> {
  const id = runIdOfCommandArg(arg);
  if (id === undefined) return pickRetrievalRun(registry, placeHolder, []);
  const run = registry.readRun(id);
  if (!run) {
    void vscode.window.showWarningMessage(`Model Lab: run ${id} no longer exists.`);
    return undefined;
  }
  const problem = problemOf(registry, run);
  if (problem) {
    void vscode.window.showWarningMessage(`Model Lab: ${problem}.`);
    return undefined;
  }
  return run;
}

async function pickRetrievalRun(registry: RunRegistry, placeHolder: string, exclude: string[]): Promise<RunSummary | undefined> {
  const runs = registry.listRuns().filter((run) => !exclude.includes(run.id) && problemOf(registry, run) === undefined);
  if (runs.length === 0) {
    void vscode.window.showInformationMessage(
      `Model Lab: no ${exclude.length ? 'other ' : ''}compositional or multi-head attention run yet. Train one (e.g. examples/compare-attention) first.`,
    );
    return undefined;
  }
  const picks = runs.map((run) => ({
    label: runDisplayName(run),
    description: `${modelOf(registry, run.id).name} · ${runDescription(run)}`,
    detail: run.experiment,
    run,
  }));
  return (await vscode.window.showQuickPick(picks, { placeHolder, matchOnDescription: true, matchOnDetail: true }))?.run;
}

/** One line on the model's shape, from its resolved spec. */
function modelDetail(options: Record<string, unknown>): string {
  if (options.name === 'multi-head-attention') {
    return `${options.heads} heads, width ${options.dim}: head h always retrieves with value block h`;
  }
  const extras = [options.concat ? 'concat' : '', options.gumbel ? 'Gumbel-softmax' : '', options.separateValueKeys ? 'separate value keys' : '']
    .filter(Boolean)
    .join(', ');
  return `${options.searches} searches x ${options.retrievals} retrievals, width ${options.dim}${extras ? `, ${extras}` : ''}`;
}

// ------------------------------------------------------------------ the panel

/** One shown run: its inference session and the column the webview draws. */
interface Column {
  runId: string;
  session?: SessionClient;
  opening?: Promise<void>;
  problem?: string;
  /** Bumped by every new request, so a slow answer for an old selection is dropped. */
  generation: number;
  /** Summary of (step, split, examples) already sent, so moving the example index does not redo it. */
  summaryKey?: string;
  /** When the run's checkpoints were last listed (throttles progress events). */
  checkedAt?: number;
}

const STEPS_CHECK_MS = 2_000;

/** One open Attention panel: a column (and an inference session) per shown run. */
class AttentionPanel implements PanelController {
  private columns: Column[];
  private splits: string[] = [];
  private selection: AttentionSelection;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly panel: PanelContext<AttentionTarget, ToAttentionPage, FromAttentionPage>,
    private readonly deps: AttentionDeps,
    target: AttentionTarget,
  ) {
    this.columns = target.runIds.map((runId) => ({ runId, generation: 0 }));
    this.selection = target.selection ?? { split: '', index: 0, summaryExamples: DEFAULT_SUMMARY_EXAMPLES };
    this.updateTitle();
    const page = panel.page.channel;
    this.disposables.push(
      this.deps.registry.onRunChanged((run) => this.onRunChanged(run)),
      page.onNotification('select', ({ selection }) => {
        if (!isSelection(selection)) return;
        this.selection = selection;
        for (const column of this.columns) void this.refresh(column);
      }),
      page.onNotification('loadStep', ({ runId, step }) => {
        const column = this.columns.find((c) => c.runId === runId);
        if (column) void this.loadStep(column, step);
      }),
      page.onNotification('addRun', () => void this.addRun()),
      page.onNotification('removeRun', ({ runId }) => this.removeRun(runId)),
    );
    for (const column of this.columns) void this.open(column);
  }

  onReady(): void {
    this.sendState();
    for (const column of this.columns) {
      column.summaryKey = undefined;
      void this.refresh(column);
    }
  }

  /** To the page, when it listens. */
  private notify<K extends keyof AttentionNotifications & string>(method: K, params: AttentionNotifications[K]['params']): void {
    this.panel.page.channel.notify(method, params);
  }

  private columnState(column: Column): AttentionColumn {
    const run = this.deps.registry.readRun(column.runId);
    const model = modelOf(this.deps.registry, column.runId);
    return {
      runId: column.runId,
      runName: run ? runDisplayName(run) : column.runId,
      model: model.name ?? 'unknown model',
      modelDetail: model.name ? modelDetail(model.options) : '',
      state: run?.state ?? 'failed',
      step: column.session?.step,
      steps: column.session?.steps ?? [],
      ...(column.problem ? { problem: column.problem } : {}),
      ...learnedOf(this.deps.registry, column.runId),
    };
  }

  private sendState(): void {
    this.notify('state', { columns: this.columns.map((c) => this.columnState(c)), splits: this.splits, selection: this.selection });
  }

  private sendColumn(column: Column): void {
    this.notify('column', { column: this.columnState(column) });
  }

  /** Opens the column's session (once at a time); records why when it cannot. */
  private open(column: Column): Promise<void> {
    column.opening ??= (async () => {
      const run = this.deps.registry.readRun(column.runId);
      column.problem = !run ? `Run ${column.runId} no longer exists.` : problemOf(this.deps.registry, run);
      if (column.problem || !run) return;
      try {
        column.session = await this.deps.engineHost.openSession(run.dir);
        if (!this.columns.includes(column)) {
          column.session.close(); // removed while opening
          return;
        }
        if (this.splits.length === 0) {
          this.splits = await column.session.request('splits', {});
          if (!this.selection.split || !this.splits.includes(this.selection.split)) {
            // The held-out split when there is one: that is where composition shows.
            this.selection = { ...this.selection, split: this.splits[this.splits.length - 1] };
          }
          this.sendState();
        }
      } catch (error) {
        column.session = undefined;
        column.problem = `Cannot load a checkpoint of "${runDisplayName(run)}": ${errorMessage(error)}`;
      }
    })().finally(() => {
      column.opening = undefined;
      this.sendColumn(column);
    });
    return column.opening;
  }

  /** Asks the column's session for the selected example and, when it changed, the summary. */
  private async refresh(column: Column): Promise<void> {
    if (!column.session) {
      await (column.opening ?? this.open(column));
      if (!column.session) return;
    }
    const session = column.session;
    const generation = ++column.generation;
    const { split, index, summaryExamples } = this.selection;
    if (!split) return;
    this.notify('busy', { runId: column.runId, what: 'example' });
    try {
      const example = await session.request('attentionExample', { split, index });
      if (generation !== column.generation) return;
      this.notify('example', { runId: column.runId, example });
      const key = `${session.step}\n${split}\n${summaryExamples}`;
      if (column.summaryKey === key) return;
      this.notify('busy', { runId: column.runId, what: 'summary' });
      const summary = await session.request('selectionSummary', { split, examples: summaryExamples });
      if (generation !== column.generation) return;
      column.summaryKey = key;
      this.notify('summary', { runId: column.runId, summary });
    } catch (error) {
      if (generation === column.generation) this.notify('error', { runId: column.runId, message: errorMessage(error) });
    }
  }

  private async loadStep(column: Column, step: number): Promise<void> {
    if (!column.session || !Number.isInteger(step)) return;
    try {
      await column.session.request('load', { step });
    } catch (error) {
      this.notify('error', { runId: column.runId, message: `Cannot load step ${step}: ${errorMessage(error)}` });
      return;
    }
    column.summaryKey = undefined;
    this.sendColumn(column);
    await this.refresh(column);
  }

  /** While a shown run trains, new checkpoints join the scrubber (and a run without one gets its first). */
  private onRunChanged(run: RunSummary): void {
    const column = this.columns.find((c) => c.runId === run.id);
    if (!column) return;
    this.updateTitle();
    const now = Date.now();
    // Progress events come several times a second; the checkpoint list changes far less often.
    if (now - (column.checkedAt ?? 0) < STEPS_CHECK_MS && run.state === 'running') return;
    column.checkedAt = now;
    if (!column.session) {
      if (!column.opening && column.problem?.startsWith('Cannot load a checkpoint')) void this.open(column).then(() => this.refresh(column));
      else this.sendColumn(column);
      return;
    }
    // The answer updates session.steps (SessionClient keeps them in step); the badge may change too.
    void column.session.request('steps', {}).then(() => this.sendColumn(column), () => undefined);
  }

  private async addRun(): Promise<void> {
    if (this.columns.length >= 2) return;
    const run = await pickRetrievalRun(this.deps.registry, 'Select the run to show beside this one (same example)', this.columns.map((c) => c.runId));
    if (!run || this.columns.length >= 2) return;
    const column: Column = { runId: run.id, generation: 0 };
    this.columns.push(column);
    this.updateTitle();
    this.sendState();
    await this.open(column);
    await this.refresh(column);
  }

  private removeRun(runId: string): void {
    if (this.columns.length < 2) return;
    const column = this.columns.find((c) => c.runId === runId);
    if (!column) return;
    this.columns = this.columns.filter((c) => c !== column);
    column.session?.close();
    this.updateTitle();
    this.sendState();
    for (const other of this.columns) {
      other.summaryKey = undefined;
      void this.refresh(other);
    }
  }

  /** The tab's title, and the target the panel host finds this panel under, follow the columns. */
  private updateTitle(): void {
    const names = this.columns.map((c) => {
      const run = this.deps.registry.readRun(c.runId);
      return run ? runDisplayName(run) : c.runId;
    });
    this.panel.setTitle(names.length === 0 ? 'Attention' : `Attention: ${names.join(' vs ')}`);
    this.panel.setTarget({ runIds: this.columns.map((c) => c.runId) });
  }

  dispose(): void {
    for (const column of this.columns) column.session?.close();
    this.columns = [];
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}

function isSelection(value: unknown): value is AttentionSelection {
  const s = value as Partial<AttentionSelection> | undefined;
  return (
    typeof s?.split === 'string' &&
    Number.isInteger(s.index) && (s.index as number) >= 0 &&
    Number.isInteger(s.summaryExamples) && (s.summaryExamples as number) >= 1
  );
}
