/**
 * Host side of the runs table (webview/runsTable): one editor panel listing every run of the
 * workspace, with a tab for the HParams view. The host sends the rows (src/host/runs/
 * runsTableRows.ts) on 'ready' and when runs come or go; while runs progress or log metrics,
 * only their rows, coalesced; the page sorts, filters and draws. Its one intent, "overlay these runs", is checked
 * (known run ids, bounded count) and opens the dashboard with them.
 */
import * as vscode from 'vscode';
import { MAX_OVERLAY_RUNS, RUNS_TABLE_VIEW_TYPE, type FromRunsTablePage, type ToRunsTablePage } from '../../protocol/runsTable';
import type { Disposable } from '../../shared/disposable';
import { RunsTableRows, type RunsTableSource } from '../runs/runsTableRows';
import type { RunDataSource } from './dashboardPanel';
import type { PanelContext, PanelController, PanelProvider } from './panelHost';
import { panelHost, registerPanel, type PanelDeps, type PanelModule } from './registration';

export const OPEN_RUNS_TABLE_COMMAND = 'modelLab.openRunsTable';

/** Live changes arrive in bursts (a message per logged step of every training run): one resend per this many ms. */
const RESEND_AFTER_MS = 300;

/** There is one runs table: its target is the workspace. */
type RunsTableTarget = 'workspace';

export interface RunsTableDeps {
  runs: RunsTableSource & Pick<RunDataSource, 'readRun'>;
  dashboards: Pick<PanelDeps['dashboards'], 'show'>;
}

/** The runs table in the panel list: its serializer and its open command. */
export const runsTablePanel: PanelModule = {
  register: (deps) => {
    const host = panelHost(deps, runsTableProvider({ runs: deps.registry, dashboards: deps.dashboards }));
    return registerPanel(deps, host, { [OPEN_RUNS_TABLE_COMMAND]: async () => 'workspace' as const });
  },
};

export function runsTableProvider(deps: RunsTableDeps): PanelProvider<RunsTableTarget, ToRunsTablePage, FromRunsTablePage> {
  return {
    viewType: RUNS_TABLE_VIEW_TYPE,
    title: 'Model Lab Runs',
    page: { bundle: 'runsTable', title: 'Model Lab Runs', name: 'runs table' },
    targetFromState: () => 'workspace',
    keyOf: () => 'workspace',
    create: (_target, panel) => new RunsTablePanel(panel, deps),
  };
}

class RunsTablePanel implements PanelController {
  private readonly rows: RunsTableRows;
  private readonly disposables: Disposable[] = [];
  private resendTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly panel: PanelContext<RunsTableTarget, ToRunsTablePage, FromRunsTablePage>,
    private readonly deps: RunsTableDeps,
  ) {
    panel.setTitle('Model Lab Runs');
    this.rows = new RunsTableRows(deps.runs, () => this.scheduleResend());
    this.disposables.push(this.rows, panel.page.channel.onNotification('overlay', ({ runIds }) => this.overlay(runIds)));
  }

  onReady(): void {
    this.send();
  }

  private send(): void {
    this.panel.page.channel.notify('rows', { rows: this.rows.rows() });
  }

  private scheduleResend(): void {
    this.resendTimer ??= setTimeout(() => {
      this.resendTimer = undefined;
      const update = this.rows.update();
      if (update.full) this.panel.page.channel.notify('rows', { rows: update.rows });
      else if (update.rows.length > 0) this.panel.page.channel.notify('changedRows', { rows: update.rows });
    }, RESEND_AFTER_MS);
  }

  /** The page's ids are untrusted: only runs that exist, at most MAX_OVERLAY_RUNS of them. */
  private overlay(runIds: unknown): void {
    const ids = Array.isArray(runIds) ? [...new Set(runIds.filter((id): id is string => typeof id === 'string'))] : [];
    const known = ids.filter((id) => this.deps.runs.readRun(id));
    if (known.length === 0) return;
    if (known.length > MAX_OVERLAY_RUNS) {
      void vscode.window.showWarningMessage(`Model Lab: select at most ${MAX_OVERLAY_RUNS} runs to overlay in one dashboard (${known.length} selected).`);
      return;
    }
    this.deps.dashboards.show(known);
  }

  dispose(): void {
    if (this.resendTimer) clearTimeout(this.resendTimer);
    for (const d of this.disposables.splice(0)) d.dispose();
  }
}
