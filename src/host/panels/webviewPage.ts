/**
 * One webview page as the host sees it, for an editor panel (panelHost.ts) and for the Live side
 * bar view alike: the HTML written by the page loader (with its 'ready' watchdog), the page's
 * 'ready' handshake, and the messages both ways over a Channel.
 *
 * Messages reach the page only while it is ready: a hidden webview is torn down and loads anew
 * when shown, says 'ready' again, and its owner then replays the FULL state (`onReady`). So
 * nothing posted in between needs queuing, and a page never sees half a state.
 */
import type * as vscode from 'vscode';
import { Channel, type Messages, type Notification } from '../../protocol/channel';
import type { Disposable } from '../../shared/disposable';
import type { Log } from '../../shared/log';
import { buildWebviewHtml, WebviewPageLoader, webviewOptions } from './webviewHtml';
import { webviewPort, whenReady } from './webviewPort';

/** What every page tells the host: `ready` once it listens (after each load). */
export interface PageMessages extends Messages {
  notifications: { ready: Notification<unknown> };
}

export interface WebviewPageOptions {
  webview: vscode.Webview;
  extensionUri: vscode.Uri;
  /** The page's bundle: webview/<bundle>/main.ts. */
  bundle: string;
  /** The HTML document's title. */
  title: string;
  /** Names the page in log lines, e.g. 'Attention panel'. */
  name: string;
  /** Whether the webview has a document now (a hidden view or background panel has none). */
  isVisible: () => boolean;
  /** The page (re)loaded and listens: send it the full state. */
  onReady: () => void;
  log?: Log;
}

export class WebviewPage<Local extends Messages = Messages, Remote extends PageMessages = PageMessages> {
  /** To and from the page; posts nothing while the page is not ready. */
  readonly channel: Channel<Local, Remote>;
  private readonly loader: WebviewPageLoader;
  private readonly subscriptions: Disposable[] = [];

  constructor(private readonly options: WebviewPageOptions) {
    const { webview, extensionUri } = options;
    webview.options = webviewOptions(extensionUri); // a revived panel comes with none
    this.loader = new WebviewPageLoader({
      render: () => (webview.html = buildWebviewHtml(webview, extensionUri, options.bundle, options.title)),
      isVisible: options.isVisible,
      onReload: (reload, waitedMs) => this.warn(`The ${options.name} did not load within ${waitedMs} ms; loading it again (reload ${reload}).`),
    });
    const port = whenReady(webviewPort(webview), () => this.loader.ready);
    this.channel = new Channel<Local, Remote>(port, { onProblem: (problem) => this.warn(`${options.name}: ${problem}`) });
    this.subscriptions.push(this.loader, this.channel, this.channel.onNotification('ready', () => this.pageSaidReady()));
  }

  /** True between the page's 'ready' and its teardown (hidden) or next load. */
  get ready(): boolean {
    return this.loader.ready;
  }

  /** Writes the page (a fresh document) and waits for its 'ready'. */
  load(): void {
    this.loader.load();
  }

  /** Call on the panel's or view's visibility events: hidden, the page is gone; shown, it loads anew. */
  visibilityChanged(): void {
    this.loader.visibilityChanged();
  }

  dispose(): void {
    for (const subscription of this.subscriptions.splice(0)) subscription.dispose();
  }

  private pageSaidReady(): void {
    this.loader.markReady();
    this.options.onReady();
  }

  private warn(message: string): void {
    if (this.options.log) this.options.log('warn', message);
    else console.warn(`Model Lab: ${message}`);
  }
}
