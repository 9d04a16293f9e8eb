/**
 * Host side of the "Live" side bar view (webview/live): one run at a glance. It follows the run
 * the user selected (`showRun(id)`), or with no selection the active run (else the newest).
 * When another run starts training while the shown one is idle, the view switches to it.
 */
import * as vscode from 'vscode';
import type { BackendInfo, FromWebview, RunSummary, ToWebview } from '../protocol';
import { DashboardPanel, type Disposable, type RunDataSource } from './dashboardPanel';
import { buildWebviewHtml, WebviewPageLoader, webviewOptions } from './webviewHtml';

export const LIVE_VIEW_ID = 'modelLab.live';

const isActive = (run: RunSummary | undefined): boolean => run?.state === 'running' || run?.state === 'queued';

export class LiveViewProvider implements vscode.WebviewViewProvider {
  private view: vscode.WebviewView | undefined;
  /** The page in `view`; its `ready` says whether messages reach it. */
  private page: WebviewPageLoader | undefined;
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
    this.page?.dispose();
    this.view = view;
    view.webview.options = webviewOptions(this.context.extensionUri);
    const page = new WebviewPageLoader({
      render: () => (view.webview.html = buildWebviewHtml(view.webview, this.context.extensionUri, 'live', 'Model Lab Live')),
      isVisible: () => view.visible,
      onReload: (reload, waitedMs) =>
        console.warn(`Model Lab: the Live view did not load within ${waitedMs} ms; loading it again (reload ${reload})`),
    });
    this.page = page;
    view.webview.onDidReceiveMessage((message: FromWebview) => this.onMessage(message));
    // A hidden view's webview is torn down; it says 'ready' again when shown.
    view.onDidChangeVisibility(() => page.visibilityChanged());
    view.onDidDispose(() => {
      page.dispose();
      if (this.page === page) {
        this.view = undefined;
        this.page = undefined;
      }
    });
    page.load();
    this.refresh(); // names the shown run in the view's header while the page loads
  }

  /** Show this run; undefined follows the active (else newest) run. */
  showRun(runId: string | undefined): void {
    this.selectedRunId = runId;
    this.refresh();
  }

  dispose(): void {
    this.page?.dispose();
    for (const s of this.subscriptions.splice(0)) s.dispose();
  }

  private onMessage(message: FromWebview): void {
    switch (message?.type) {
      case 'ready':
        this.page?.markReady();
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
    if (!this.page?.ready) return;
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
    if (this.page?.ready && this.view) void this.view.webview.postMessage(message);
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
