/**
 * The one lifecycle of Model Lab's editor panels (dashboard, attention, posterior, similarity).
 * A panel implements a small `PanelProvider`: its view type and page, how its target (the runs
 * or sweep it shows) is read back from the state the page saved, the key that says two targets
 * are the same panel, and how to create the controller of one open panel. The host does the rest:
 *
 * - show(target): reveals the open panel with that target's key, or creates one;
 * - the serializer: after a window reload VS Code hands back each panel with the state its page
 *   saved (setState); the provider turns it into a target and the panel is revived with it;
 * - the page (webviewPage.ts): loader with its watchdog, the 'ready' handshake, replay of the full
 *   state on every 'ready' (a hidden webview is torn down and loads anew), post-when-ready;
 * - disposal: when the panel closes, its page, listeners and controller are disposed and it
 *   leaves the open set.
 *
 * No `vscode` at run time: the few window functions come in `PanelHostEnv`, so the lifecycle
 * runs in tests against a small fake (test/integration/panelHost.test.ts).
 */
import type * as vscode from 'vscode';
import type { Messages } from '../../protocol/channel';
import { errorDetail } from '../../shared/errors';
import type { Log } from '../../shared/log';
import { WebviewPage, type PageMessages } from './webviewPage';
import { webviewOptions } from './webviewHtml';

/** What the host needs from VS Code: `vscode.window` and the extension's location fit it. */
export interface PanelHostEnv {
  window: Pick<typeof vscode.window, 'createWebviewPanel' | 'registerWebviewPanelSerializer'>;
  extensionUri: vscode.Uri;
  log?: Log;
}

/** One kind of editor panel. `Target` is what a panel shows (run ids, a sweep, ...). */
export interface PanelProvider<Target, Local extends Messages = Messages, Remote extends PageMessages = PageMessages> {
  readonly viewType: string;
  /** The tab's title until the controller names it. */
  readonly title: string;
  /** The page: its bundle (webview/<bundle>/main.ts), its HTML title, its name in log lines. */
  readonly page: { bundle: string; title: string; name: string };
  /**
   * The target of a panel VS Code restores after a reload, from the state its page saved
   * (untrusted: check every field); `open` are the targets of the panels open now.
   * undefined closes the restored panel.
   */
  targetFromState(state: unknown, open: readonly Target[]): Target | undefined;
  /** Panels whose targets have the same key are one panel; undefined: never revealed by `show`. */
  keyOf(target: Target): string | undefined;
  /** The controller of one open panel. */
  create(target: Target, panel: PanelContext<Target, Local, Remote>): PanelController;
}

/** One open panel's own logic. */
export interface PanelController {
  /** The page (re)loaded and listens: send it the full state. */
  onReady(): void | Promise<void>;
  /** The panel closed: release what the controller holds (sessions, timers). */
  dispose(): void;
}

/** What the host gives a controller. */
export interface PanelContext<Target, Local extends Messages = Messages, Remote extends PageMessages = PageMessages> {
  /** Messages to and from the page; posts nothing while the page is not ready. */
  readonly page: Pick<WebviewPage<Local, Remote>, 'channel'>;
  setTitle(title: string): void;
  /** The panel now shows another target (e.g. a run was added): `show` finds it under the new key. */
  setTarget(target: Target): void;
  /** Targets of every open panel of this kind, this one included. */
  openTargets(): Target[];
}

// vscode.ViewColumn.Active and .Beside, without importing 'vscode' at run time (see the header).
const ACTIVE_COLUMN = -1 as vscode.ViewColumn;
const BESIDE_COLUMN = -2 as vscode.ViewColumn;

interface OpenPanel<Target> {
  panel: vscode.WebviewPanel;
  target: Target;
}

export class PanelHost<Target, Local extends Messages = Messages, Remote extends PageMessages = PageMessages> {
  private readonly open = new Set<OpenPanel<Target>>();

  constructor(
    private readonly provider: PanelProvider<Target, Local, Remote>,
    private readonly env: PanelHostEnv,
  ) {}

  /** Registers the serializer that revives this kind's panels after a window reload. */
  register(): vscode.Disposable {
    return this.env.window.registerWebviewPanelSerializer(this.provider.viewType, {
      deserializeWebviewPanel: async (panel: vscode.WebviewPanel, state: unknown) => {
        const target = this.provider.targetFromState(state, this.targets());
        if (target === undefined) panel.dispose();
        else this.attach(panel, target);
      },
    });
  }

  /** Reveals the panel showing `target`, or opens a new one (`beside`: in the editor group beside the active one, to compare). */
  show(target: Target, options: { beside?: boolean } = {}): void {
    const key = this.provider.keyOf(target);
    const existing = key === undefined ? undefined : [...this.open].find((p) => this.provider.keyOf(p.target) === key);
    if (existing) {
      existing.panel.reveal();
      return;
    }
    // No retainContextWhenHidden: a shown page says 'ready' and gets the full state again.
    const column = options.beside ? BESIDE_COLUMN : ACTIVE_COLUMN;
    const panel = this.env.window.createWebviewPanel(this.provider.viewType, this.provider.title, column, webviewOptions(this.env.extensionUri));
    this.attach(panel, target);
  }

  /** Targets of the open panels. */
  targets(): Target[] {
    return [...this.open].map((p) => p.target);
  }

  private attach(panel: vscode.WebviewPanel, target: Target): void {
    const entry: OpenPanel<Target> = { panel, target };
    this.open.add(entry);
    const { provider, env } = this;
    let controller: PanelController | undefined;
    const settle = (work: void | Promise<void> | undefined) => {
      if (work) work.catch((error: unknown) => env.log?.('error', `${provider.page.name}: ${errorDetail(error)}`));
    };
    const page = new WebviewPage<Local, Remote>({
      webview: panel.webview,
      extensionUri: env.extensionUri,
      ...provider.page,
      isVisible: () => panel.visible,
      onReady: () => settle(controller?.onReady()),
      log: env.log,
    });
    const subscriptions = [
      page,
      panel.onDidChangeViewState(() => page.visibilityChanged()),
      panel.onDidDispose(() => {
        this.open.delete(entry);
        for (const subscription of subscriptions.splice(0)) subscription.dispose();
        controller?.dispose();
      }),
    ];
    try {
      controller = provider.create(target, {
        page,
        setTitle: (title) => (panel.title = title),
        setTarget: (next) => (entry.target = next),
        openTargets: () => this.targets(),
      });
    } catch (error) {
      panel.dispose(); // leaves the open set through onDidDispose
      throw error;
    }
    page.load();
  }
}
