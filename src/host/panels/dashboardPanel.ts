/**
 * Host side of the training dashboard (webview/dashboard): one editor panel per set of shown
 * runs. The host owns the data: it replays the full state whenever the webview (re)loads
 * ('ready'), streams new metrics while a run trains, and answers the export intents with save
 * dialogs. Data comes through the injected `RunDataSource`, so this file knows nothing about
 * the engine or the run folder format.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { BackendInfo, MetricRecord, RunSummary } from '../../protocol';
import { DASHBOARD_VIEW_TYPE, type FromDashboardPage, type RunsState, type ToDashboardPage } from '../../protocol/dashboard';
import { buildMetricsCsv } from '../../shared/csv';
import type { Disposable } from '../../shared/disposable';
import { errorMessage } from '../../shared/errors';
import { recordTimeAtStep, runContinues, runDisplayName, type RunContinues } from '../../shared/runs';
import type { PanelContext, PanelController, PanelProvider } from './panelHost';
import { registerPanel, type PanelModule, type PanelRegistration } from './registration';

export { DASHBOARD_VIEW_TYPE };

/** Everything the dashboard and the Live view read or ask for. */
export interface RunDataSource {
  /** Newest first. */
  listRuns(): RunSummary[];
  /** undefined when the run does not exist (any more). */
  readRun(runId: string): RunSummary | undefined;
  readMetrics(runId: string): MetricRecord[];
  readSpec(runId: string): unknown;
  /** Records appended to a run's metrics after the last `readMetrics`/event (each record once). */
  onMetrics(listener: (runId: string, records: MetricRecord[]) => void): Disposable;
  onRunChanged(listener: (run: RunSummary) => void): Disposable;
  stopRun(runId: string): void;
  resumeRun(runId: string): void;
  /** Optional: any change of the run list. Lets an open view notice that a run folder was deleted. */
  onDidChange?(listener: () => void): Disposable;
  /** Optional: the backend a run trains or trained on (its recorded environment). */
  readBackend?(runId: string): BackendInfo | undefined;
}

/**
 * The serializer that restores dashboards after a window reload. The dashboards' host itself is
 * a dependency of every panel (`deps.dashboards`): the Live view, commands and Train Comparison
 * open dashboards.
 */
export const registerDashboardPanel: PanelRegistration = (deps) => registerPanel(deps, deps.dashboards);

/** The dashboard in the panel list. */
export const dashboardPanel: PanelModule = { register: registerDashboardPanel };

/** A dashboard shows a set of runs (their ids); the same set in another order is the same dashboard. */
export function dashboardProvider(context: vscode.ExtensionContext, source: RunDataSource): PanelProvider<string[], ToDashboardPage, FromDashboardPage> {
  return {
    viewType: DASHBOARD_VIEW_TYPE,
    title: 'Model Lab Dashboard',
    page: { bundle: 'dashboard', title: 'Model Lab Dashboard', name: 'dashboard' },
    targetFromState: (state, open) => {
      const saved = runIdsOfState(state);
      return saved.length > 0 ? saved : unrevivedRunIds(context, open);
    },
    keyOf: (runIds) => [...new Set(runIds)].sort().join('\n'),
    create: (runIds, panel) => new DashboardPanel(panel, context, source, [...new Set(runIds)]),
  };
}

const OPEN_DASHBOARDS_KEY = 'modelLab.openDashboards';

/**
 * The workbench saves a webview's own state lazily, so a reload soon after a panel opened can
 * restore it without state. The host therefore also remembers the run ids of open dashboards
 * (workspace state) and hands a stateless revived panel the first set not shown yet.
 */
function unrevivedRunIds(context: vscode.ExtensionContext, open: readonly string[][]): string[] {
  const remembered = context.workspaceState.get<string[][]>(OPEN_DASHBOARDS_KEY, []);
  return remembered.find((ids) => !open.some((shown) => sameSet(shown, ids))) ?? [];
}

function remember(context: vscode.ExtensionContext, open: readonly string[][]): void {
  void context.workspaceState.update(OPEN_DASHBOARDS_KEY, open.filter((ids) => ids.length > 0));
}

/** The run ids the webview saved with setState; anything else (old or broken state) shows nothing. */
function runIdsOfState(state: unknown): string[] {
  const ids = (state as { runIds?: unknown } | undefined)?.runIds;
  return Array.isArray(ids) ? ids.filter((id): id is string => typeof id === 'string') : [];
}

/** One open dashboard: replays its runs on 'ready', streams their metrics while they train. */
class DashboardPanel implements PanelController {
  /** Names of runs seen, to name a run in the message after its folder is gone. */
  private readonly knownNames = new Map<string, string>();
  /** Runs that were missing when the state was last sent. */
  private missing: string[] = [];
  private readonly disposables: Disposable[] = [];

  constructor(
    private readonly panel: PanelContext<string[], ToDashboardPage, FromDashboardPage>,
    private readonly context: vscode.ExtensionContext,
    private readonly source: RunDataSource,
    private readonly runIds: string[],
  ) {
    remember(context, panel.openTargets());
    this.updateTitle();
    this.disposables.push(
      source.onMetrics((runId, records) => {
        if (this.runIds.includes(runId)) this.page.notify('metrics', { runId, records });
      }),
      source.onRunChanged((run) => {
        if (!this.runIds.includes(run.id)) return;
        this.knownNames.set(run.id, runDisplayName(run));
        if (this.missing.includes(run.id)) this.sendState(); // it came back
        else this.page.notify('runStatus', { run });
        this.updateTitle();
      }),
    );
    if (source.onDidChange) this.disposables.push(source.onDidChange(() => this.checkAvailability()));
    this.disposables.push(...this.listen());
  }

  onReady(): void {
    this.sendState();
  }

  /** The page's intents. */
  private listen(): Disposable[] {
    const page = this.page;
    return [
      page.onNotification('exportCsv', () => void this.exportCsv().catch((error) => showError('Could not export the metrics', error))),
      page.onNotification('saveImage', (image) => void this.saveImage(image).catch((error) => showError('Could not save the image', error))),
      page.onNotification('stopRun', ({ runId }) => {
        if (this.runIds.includes(runId)) this.source.stopRun(runId);
      }),
      page.onNotification('resumeRun', ({ runId }) => {
        if (this.runIds.includes(runId)) this.source.resumeRun(runId);
      }),
      page.onNotification('openParent', ({ runId }) => {
        const isParent = this.shownRuns().some((run) => run.init?.run === runId);
        if (isParent && attempt(() => this.source.readRun(runId))) void vscode.commands.executeCommand('modelLab.openRun', runId);
      }),
    ];
  }

  private get page(): PanelContext<string[], ToDashboardPage, FromDashboardPage>['page']['channel'] {
    return this.panel.page.channel;
  }

  /** Reads every shown run from the source and replays it; reports runs that are gone. */
  private sendState(): void {
    const runs: RunSummary[] = [];
    const metrics: Record<string, MetricRecord[]> = {};
    const specs: Record<string, unknown> = {};
    const backends: Record<string, BackendInfo> = {};
    const continues: Record<string, RunContinues> = {};
    const problems: string[] = [];
    // A continued run's wall-clock offset reads its ancestors' metrics: each file once per state.
    const metricsRead = new Map<string, MetricRecord[]>();
    const metricsOf = (id: string): MetricRecord[] => {
      if (!metricsRead.has(id)) metricsRead.set(id, attempt(() => this.source.readMetrics(id)) ?? []);
      return metricsRead.get(id)!;
    };
    this.missing = [];
    for (const id of this.runIds) {
      const run = attempt(() => this.source.readRun(id));
      if (!run) {
        this.missing.push(id);
        const name = this.knownNames.get(id);
        problems.push(`Run ${name ? `"${name}" (${id})` : id} is no longer available: its folder was deleted or cannot be read.`);
        continue;
      }
      this.knownNames.set(id, runDisplayName(run));
      runs.push(run);
      metrics[id] = metricsOf(id);
      specs[id] = attempt(() => this.source.readSpec(id));
      const backend = attempt(() => this.source.readBackend?.(id));
      if (backend) backends[id] = backend;
      const parent = runContinues(run, (runId) => attempt(() => this.source.readRun(runId)), (runId, step) => recordTimeAtStep(metricsOf(runId), step));
      if (parent) continues[id] = parent;
    }
    const state: RunsState = { runs, metrics, specs, backends, continues };
    this.page.notify('state', state);
    for (const message of problems) this.page.notify('error', { message });
    this.updateTitle();
  }

  /** After a change of the run list: resend when a shown run disappeared (or reappeared). */
  private checkAvailability(): void {
    const missing = this.runIds.filter((id) => !attempt(() => this.source.readRun(id)));
    if (missing.join('\n') !== this.missing.join('\n')) this.sendState();
  }

  private updateTitle(): void {
    const names = this.runIds.map((id) => this.knownNames.get(id) ?? id);
    this.panel.setTitle(names.length === 1 ? `Dashboard: ${names[0]}` : names.length === 0 ? 'Model Lab Dashboard' : `Compare ${names.length} runs`);
  }

  private shownRuns(): RunSummary[] {
    return this.runIds.flatMap((id) => attempt(() => this.source.readRun(id)) ?? []);
  }

  /** CSV from the host's own data (fresh from the source), written where the user chooses. */
  private async exportCsv(): Promise<void> {
    const runs = this.shownRuns();
    if (runs.length === 0) {
      void vscode.window.showWarningMessage('Model Lab: none of the shown runs exists any more; nothing to export.');
      return;
    }
    const metrics = Object.fromEntries(runs.map((r) => [r.id, this.source.readMetrics(r.id)]));
    const csv = buildMetricsCsv(runs, metrics);
    const base = runs.length === 1 ? runDisplayName(runs[0]) : `compare-${runs.length}-runs`;
    const target = await vscode.window.showSaveDialog({
      title: 'Export metrics as CSV',
      defaultUri: defaultSaveUri(runs[0], `${fileSafe(base)}-metrics.csv`),
      filters: { 'CSV files': ['csv'] },
      saveLabel: 'Export',
    });
    if (!target) return;
    await vscode.workspace.fs.writeFile(target, Buffer.from(csv, 'utf8'));
    void vscode.window.showInformationMessage(`Model Lab: metrics exported to ${target.fsPath}`);
  }

  private async saveImage(message: FromDashboardPage['notifications']['saveImage']['params']): Promise<void> {
    if (message.format !== 'png') {
      // The charts are canvases (uPlot): there is no vector drawing to save.
      void vscode.window.showWarningMessage('Model Lab: charts can be saved as PNG only.');
      return;
    }
    const match = /^data:image\/png;base64,([A-Za-z0-9+/=]+)$/.exec(typeof message.data === 'string' ? message.data : '');
    if (!match) {
      void vscode.window.showErrorMessage('Model Lab: the chart image sent by the dashboard is not a PNG data URL.');
      return;
    }
    const runs = this.shownRuns();
    const base = [runs.length === 1 ? runDisplayName(runs[0]) : 'compare', message.name].filter(Boolean).join('-');
    const target = await vscode.window.showSaveDialog({
      title: 'Save chart as PNG',
      defaultUri: defaultSaveUri(runs[0], `${fileSafe(base || 'chart')}.png`),
      filters: { 'PNG images': ['png'] },
      saveLabel: 'Save',
    });
    if (!target) return;
    await vscode.workspace.fs.writeFile(target, Buffer.from(match[1], 'base64'));
    void vscode.window.showInformationMessage(`Model Lab: chart saved to ${target.fsPath}`);
  }

  dispose(): void {
    for (const d of this.disposables.splice(0)) d.dispose();
    remember(this.context, this.panel.openTargets()); // without this one: it left the open set
  }
}

/** Beside the workspace (not inside the run folder, which belongs to the run store). */
function defaultSaveUri(run: RunSummary | undefined, fileName: string): vscode.Uri | undefined {
  const folder = run ? vscode.workspace.getWorkspaceFolder(vscode.Uri.file(run.dir)) : undefined;
  const base = folder?.uri ?? vscode.workspace.workspaceFolders?.[0]?.uri ?? (run ? vscode.Uri.file(path.dirname(run.dir)) : undefined);
  return base ? vscode.Uri.joinPath(base, fileName) : undefined;
}

function fileSafe(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '') || 'export';
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((id) => b.includes(id));
}

/** Source reads touch the disk; a broken or vanished run must not break the panel. */
function attempt<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}

function showError(what: string, error: unknown): void {
  void vscode.window.showErrorMessage(`Model Lab: ${what}: ${errorMessage(error)}`);
}
