/**
 * Host side of the "Live" side bar view (webview/live): one run at a glance. It follows the run
 * the user selected (`showRun(id)`), or with no selection the active run (else the newest).
 * When another run starts training while the shown one is idle, the view switches to it.
 * For runs of a lab with a panel (attention, posterior, CoRelNet similarity) it also shows the
 * lab's miniature: a key picture computed by an inference session on the latest checkpoint,
 * drawn by the lab's panel module (`PanelModule.miniature`), so the view itself knows no lab.
 */
import * as vscode from 'vscode';
import type { SessionClient } from '../../engine/engine';
import type { BackendInfo, RunSummary } from '../../protocol';
import { runDisplayName } from '../../shared/runs';
import { LIVE_VIEW_ID, type FromLivePage, type LabMiniature, type ToLivePage } from '../../protocol/live';
import type { Disposable } from '../../shared/disposable';
import { errorMessage } from '../../shared/errors';
import type { RunDataSource } from './dashboardPanel';
import type { Log } from '../output';
import { activeByPreference } from '../runs/runsTreeModel';
import type { SpecNames } from '../../core/labManifest';
import { labOf, specNames } from '../../core/labList';
import type { DrawMiniature, PanelDeps, PanelModule } from './registration';
import { WebviewPage } from './webviewPage';

export { LIVE_VIEW_ID };

type LiveNotifications = ToLivePage['notifications'];

const isActive = (run: RunSummary | undefined): boolean => run?.state === 'running' || run?.state === 'queued';

export interface LiveViewDeps {
  /** EngineHost: the lab miniature comes from an inference session in the engine's workers. */
  engine?: { openSession(runDir: string, step?: number): Promise<SessionClient> };
  /** Opens the dashboard of a run (the view's button). */
  dashboards: Pick<PanelDeps['dashboards'], 'show'>;
  /** Each lab's picture of a run, by lab id (the panels' `miniature`). */
  miniatures?: ReadonlyMap<string, DrawMiniature>;
  log?: Log;
}

export class LiveViewProvider implements vscode.WebviewViewProvider {
  private view: vscode.WebviewView | undefined;
  /** The page in `view` (the editor panels' page machinery); its `ready` says whether messages reach it. */
  private page: WebviewPage<ToLivePage, FromLivePage> | undefined;
  /** The run the user picked; undefined = follow the active run. */
  private selectedRunId: string | undefined;
  private shown: RunSummary | undefined;
  private readonly subscriptions: Disposable[] = [];

  private readonly miniatures: LabMiniatureFeed | undefined;

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly source: RunDataSource,
    private readonly deps: LiveViewDeps,
  ) {
    if (deps.engine) {
      const drawings = deps.miniatures ?? new Map<string, DrawMiniature>();
      const miniatures = new LabMiniatureFeed(deps.engine, source, drawings, (message) => this.notify('miniature', message), deps.log);
      this.miniatures = miniatures;
      this.subscriptions.push(miniatures, vscode.workspace.onDidGrantWorkspaceTrust(() => miniatures.show(this.shown, { replay: true })));
    }
    this.subscriptions.push(
      source.onMetrics((runId, records) => {
        if (runId === this.shown?.id) this.notify('metrics', { runId, records });
      }),
      source.onRunChanged((run) => this.onRunChanged(run)),
    );
    if (source.onDidChange) this.subscriptions.push(source.onDidChange(() => this.onListChanged()));
    context.subscriptions.push({ dispose: () => this.dispose() });
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    this.page?.dispose();
    this.view = view;
    const page = new WebviewPage<ToLivePage, FromLivePage>({
      webview: view.webview,
      extensionUri: this.context.extensionUri,
      bundle: 'live',
      title: 'Model Lab Live',
      name: 'Live view',
      isVisible: () => view.visible,
      onReady: () => this.refresh(),
      log: this.deps.log,
    });
    this.page = page;
    this.listen(page);
    // A hidden view's webview is torn down; it says 'ready' again when shown.
    const visibility = view.onDidChangeVisibility(() => page.visibilityChanged());
    const disposal = view.onDidDispose(() => {
      page.dispose();
      visibility.dispose();
      disposal.dispose();
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

  /** The page's intents (its channel closes with the page). */
  private listen(page: WebviewPage<ToLivePage, FromLivePage>): void {
    page.channel.onNotification('openDashboard', (params) => {
      const runId = params.runId ?? this.shown?.id;
      if (runId) this.deps.dashboards.show([runId]);
    });
    page.channel.onNotification('stopRun', ({ runId }) => this.source.stopRun(runId));
    page.channel.onNotification('resumeRun', ({ runId }) => this.source.resumeRun(runId));
    page.channel.onNotification('openLab', ({ runId }) => this.miniatures?.openLab(runId));
  }

  private onRunChanged(run: RunSummary): void {
    if (run.id === this.shown?.id) {
      this.shown = run;
      this.notify('runStatus', { run });
      this.updateDescription();
      if (this.page?.ready) this.miniatures?.show(run);
    } else if (!this.shown || (isActive(run) && !isActive(this.shown)) || (run.state === 'running' && this.shown.state === 'queued')) {
      // A run just started while the shown one is idle or still waiting (a sweep's next member), or nothing is shown: follow it.
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
      run = activeByPreference(runs)[0] ?? runs[0];
    }
    this.shown = run;
    this.updateDescription();
    if (!this.page?.ready) return;
    const backends: Record<string, BackendInfo> = {};
    const backend = run && attempt(() => this.source.readBackend?.(run.id));
    if (run && backend) backends[run.id] = backend;
    this.notify('state', {
      runs: run ? [run] : [],
      metrics: run ? { [run.id]: attempt(() => this.source.readMetrics(run.id)) ?? [] } : {},
      specs: {},
      backends,
    });
    if (notice) this.notify('error', { message: notice });
    this.miniatures?.show(run, { replay: true });
  }

  private updateDescription(): void {
    if (this.view) this.view.description = this.shown && runDisplayName(this.shown);
  }

  /** To the page, when it listens. */
  private notify<K extends keyof LiveNotifications & string>(method: K, params: LiveNotifications[K]['params']): void {
    this.page?.channel.notify(method, params);
  }
}

/** Registers the provider for the `modelLab.live` webview view and returns it (for showRun); `panels` draw their labs' miniatures. */
export function registerLiveView(
  deps: Pick<PanelDeps, 'context' | 'registry' | 'engineHost' | 'dashboards' | 'log'>,
  panels: readonly PanelModule[],
): LiveViewProvider {
  const { context } = deps;
  const miniatures = new Map(panels.flatMap((panel) => (panel.miniature ? [[panel.miniature.lab, panel.miniature.draw] as const] : [])));
  const provider = new LiveViewProvider(context, deps.registry, { engine: deps.engineHost, dashboards: deps.dashboards, miniatures, log: deps.log });
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

// ------------------------------------------------------------------ lab miniature

/** While a run trains, a new checkpoint is looked for at most this often. */
const MINIATURE_REFRESH_MS = 10_000;

/** How a run's lab draws it in the Live view, and the button that opens its panel. */
interface Miniature {
  spec: SpecNames;
  draw: DrawMiniature;
  open: LabMiniature['open'];
}

/** The miniature that fits the run, from its lab's manifest and panel; undefined: none. */
function miniatureOf(spec: unknown, drawings: ReadonlyMap<string, DrawMiniature>): Miniature | undefined {
  const lab = labOf(spec);
  const names = specNames(spec);
  const draw = lab && drawings.get(lab.id);
  if (!lab?.miniature || !lab.panel || !names || !draw) return undefined;
  // E.g. a relational run's miniature is its similarity matrix: CoRelNet's alone has one.
  if (lab.miniature.shows && !lab.miniature.shows(names)) return undefined;
  return { spec: names, draw, open: { command: lab.panel.command, label: lab.miniature.openLabel } };
}

/**
 * Computes the shown run's miniature in an inference session on its latest checkpoint, and again
 * when a newer checkpoint appears (looked for at most every 10 s while the run trains). The
 * session is closed when the shown run changes. A run of another lab, or without a checkpoint
 * yet, has no miniature: the webview hides the slot.
 */
class LabMiniatureFeed implements Disposable {
  private run: RunSummary | undefined;
  private session: Promise<SessionClient> | undefined;
  private latest: LabMiniature | undefined;
  private busy = false;
  /** Another look was asked for while one was in progress. */
  private again = false;
  private lastLook = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  /** The last failure logged, so a run that keeps failing logs once. */
  private lastProblem = '';

  constructor(
    private readonly engine: NonNullable<LiveViewDeps['engine']>,
    private readonly source: RunDataSource,
    private readonly drawings: ReadonlyMap<string, DrawMiniature>,
    private readonly send: (message: LiveNotifications['miniature']['params']) => void,
    private readonly log?: Log,
  ) {}

  /** The view shows `run` (now, or again after a reload when `replay`): send or update its miniature. */
  show(run: RunSummary | undefined, options: { replay?: boolean } = {}): void {
    if (run?.id !== this.run?.id) {
      this.reset();
      this.run = run;
      this.send({ runId: run?.id });
    } else {
      this.run = run;
      if (options.replay) this.send({ runId: run?.id, miniature: this.latest });
    }
    if (run && this.miniatureOf(run)) this.schedule(options.replay === true);
  }

  /** The miniature's button: the lab's full panel for this run. */
  openLab(runId: string): void {
    if (this.latest?.runId !== runId) return;
    void vscode.commands.executeCommand(this.latest.open.command, runId);
  }

  dispose(): void {
    this.reset();
    this.run = undefined;
  }

  private reset(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    void this.session?.then((session) => session.close(), () => undefined);
    this.session = undefined;
    this.latest = undefined;
    this.lastLook = 0;
    this.lastProblem = '';
  }

  /** Looks now, or (while the run trains) once MINIATURE_REFRESH_MS after the last look. */
  private schedule(now: boolean): void {
    if (this.busy) {
      this.again = true;
      return;
    }
    if (this.timer !== undefined) return;
    const wait = now || !isActive(this.run) ? 0 : Math.max(0, this.lastLook + MINIATURE_REFRESH_MS - Date.now());
    if (wait === 0) void this.look();
    else this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.look();
    }, wait);
  }

  private async look(): Promise<void> {
    const run = this.run;
    const lab = run && this.miniatureOf(run);
    // Restricted Mode: no session on a run folder that may have come with the workspace; the
    // miniature appears once the workspace is trusted (see onDidGrantWorkspaceTrust below).
    if (!run || !lab || !vscode.workspace.isTrusted) return;
    this.busy = true;
    this.lastLook = Date.now();
    try {
      const session = await this.openSession(run);
      if (!session || this.run?.id !== run.id) return;
      const steps = await session.request('steps', {});
      const newest = steps[steps.length - 1];
      if (newest !== undefined && newest !== session.step) await session.request('load', { step: newest });
      if (this.latest?.step === session.step) return;
      const miniature: LabMiniature = { runId: run.id, step: session.step, open: lab.open, ...(await lab.draw(session, lab.spec)) };
      if (this.run?.id !== run.id) return;
      this.latest = miniature;
      this.lastProblem = '';
      this.send({ runId: run.id, miniature });
    } catch (error) {
      if (this.run?.id !== run.id) return; // its session was closed because the shown run changed
      if (/inference session (is closed|ended)|engine has been shut down/.test(errorMessage(error))) this.session = undefined;
      this.report(run, error);
    } finally {
      this.busy = false;
      if (this.again) {
        this.again = false;
        this.schedule(false);
      }
    }
  }

  /** The run's session; undefined while it has no checkpoint yet (tried again on the next look). */
  private async openSession(run: RunSummary): Promise<SessionClient | undefined> {
    const opening = (this.session ??= this.engine.openSession(run.dir));
    try {
      return await opening;
    } catch (error) {
      if (this.session === opening) this.session = undefined;
      if (/No checkpoint saved yet/.test(errorMessage(error))) return undefined;
      throw error;
    }
  }

  private miniatureOf(run: RunSummary): Miniature | undefined {
    return miniatureOf(attempt(() => this.source.readSpec(run.id)), this.drawings);
  }

  private report(run: RunSummary, error: unknown): void {
    const problem = `The Live view could not draw the lab miniature of "${runDisplayName(run)}": ${errorMessage(error)}`;
    if (problem === this.lastProblem) return;
    this.lastProblem = problem;
    this.log?.('warn', problem);
  }
}
