/**
 * Host side of the "Live" side bar view (webview/live): one run at a glance. It follows the run
 * the user selected (`showRun(id)`), or with no selection the active run (else the newest).
 * When another run starts training while the shown one is idle, the view switches to it.
 */
import * as vscode from 'vscode';
import type { BackendInfo, FromWebview, RunSummary, ToWebview } from '../protocol';
import { DashboardPanel, type Disposable, type RunDataSource } from './dashboardPanel';
import { buildWebviewHtml, webviewOptions } from './webviewHtml';

export const LIVE_VIEW_ID = 'modelLab.live';

const isActive = (run: RunSummary | undefined): boolean => run?.state === 'running' || run?.state === 'queued';

export class LiveViewProvider implements vscode.WebviewViewProvider {
  private view: vscode.WebviewView | undefined;
  private ready = false;
  /** The run the user picked; undefined = follow the active run. */
  private selectedRunId: string | undefined;
  private shown: RunSummary | undefined;
  private readonly subscriptions: Disposable[] = [];

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly source: RunDataSource,
  ) {
    this.subscriptions.push(
      source.onMetrics((runId, records) => {
        if (runId === this.shown?.id) this.post({ type: 'metrics', runId, records });
      }),
      source.onRunChanged((run) => this.onRunChanged(run)),
    );
    if (source.onDidChange) this.subscriptions.push(source.onDidChange(() => this.onListChanged()));
    context.subscriptions.push({ dispose: () => this.dispose() });
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.view = view;
    this.ready = false;
    view.webview.options = webviewOptions(this.context.extensionUri);
    view.webview.html = buildWebviewHtml(view.webview, this.context.extensionUri, 'live', 'Model Lab Live');
    view.webview.onDidReceiveMessage((message: FromWebview) => this.onMessage(message));
    // A hidden view's webview is torn down; it says 'ready' again when shown.
    view.onDidChangeVisibility(() => {
      if (!view.visible) this.ready = false;
    });
    view.onDidDispose(() => {
      this.view = undefined;
      this.ready = false;
    });
  }

  /** Show this run; undefined follows the active (else newest) run. */
  showRun(runId: string | undefined): void {
    this.selectedRunId = runId;
    this.refresh();
  }

  dispose(): void {
    for (const s of this.subscriptions.splice(0)) s.dispose();
  }

  private onMessage(message: FromWebview): void {
    switch (message?.type) {
      case 'ready':
        this.ready = true;
        this.refresh();
        break;
      case 'openDashboard': {
        const runId = message.runId ?? this.shown?.id;
        if (runId) DashboardPanel.show(this.context, this.source, [runId]);
        break;
      }
      case 'stopRun':
        this.source.stopRun(message.runId);
        break;
      case 'resumeRun':
        this.source.resumeRun(message.runId);
        break;
    }
  }

  private onRunChanged(run: RunSummary): void {
    if (run.id === this.shown?.id) {
      this.shown = run;
      this.post({ type: 'runStatus', run });
      this.updateDescription();
    } else if (!this.shown || (isActive(run) && !isActive(this.shown))) {
      // A run just started while the shown one is idle (or nothing is shown): follow it.
      if (isActive(run)) this.selectedRunId = undefined;
      this.refresh();
    }
  }

  private onListChanged(): void {
    const gone = this.shown && !attempt(() => this.source.readRun(this.shown!.id));
    if (gone || !this.shown) this.refresh();
  }

  /** Picks the run to show and replays its full state. */
  private refresh(): void {
    let notice: string | undefined;
    let run: RunSummary | undefined;
    if (this.selectedRunId) {
      run = attempt(() => this.source.readRun(this.selectedRunId!));
      if (!run) {
        notice = `Run ${this.selectedRunId} is no longer available: its folder was deleted or cannot be read.`;
        this.selectedRunId = undefined;
      }
    }
    if (!run) {
      const runs = attempt(() => this.source.listRuns()) ?? [];
      run = runs.find(isActive) ?? runs[0];
    }
    this.shown = run;
    this.updateDescription();
    if (!this.ready) return;
    const backends: Record<string, BackendInfo> = {};
    const backend = run && attempt(() => this.source.readBackend?.(run.id));
    if (run && backend) backends[run.id] = backend;
    this.post({
      type: 'state',
      runs: run ? [run] : [],
      metrics: run ? { [run.id]: attempt(() => this.source.readMetrics(run.id)) ?? [] } : {},
      specs: {},
      backends,
    });
    if (notice) this.post({ type: 'error', message: notice });
  }

  private updateDescription(): void {
    if (this.view) this.view.description = this.shown?.name;
  }

  private post(message: ToWebview): void {
    if (this.ready && this.view) void this.view.webview.postMessage(message);
  }
}

/** Registers the provider for the `modelLab.live` webview view and returns it (for showRun). */
export function registerLiveView(context: vscode.ExtensionContext, source: RunDataSource): LiveViewProvider {
  const provider = new LiveViewProvider(context, source);
  context.subscriptions.push(vscode.window.registerWebviewViewProvider(LIVE_VIEW_ID, provider));
  return provider;
}

function attempt<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}
