/**
 * A minimal fake of the parts of the `vscode` API a webview panel uses: `window`
 * (createWebviewPanel, registerWebviewPanelSerializer), WebviewPanel, Webview and Uri. Enough to
 * drive src/host/panels/panelHost.ts without VS Code. Events fire synchronously; every listener
 * registration is counted so a test can check that everything a panel owned was disposed.
 *
 * A `FakePage` stands for the page inside a webview: it "loads" (asynchronously, as a browser
 * does) each time HTML is written while the panel is visible, or when a hidden panel is shown
 * again; hiding the panel tears it down.
 */
import type * as vscode from 'vscode';

type Listener<T> = (value: T) => void;

/** An event emitter that counts its live listeners. */
export class FakeEvent<T> {
  private readonly listeners = new Set<Listener<T>>();
  readonly event = (listener: Listener<T>): vscode.Disposable => {
    this.listeners.add(listener);
    return { dispose: () => void this.listeners.delete(listener) };
  };
  fire(value: T): void {
    for (const listener of [...this.listeners]) listener(value);
  }
  get size(): number {
    return this.listeners.size;
  }
}

export interface FakeUri {
  readonly path: string;
  with(change: { path?: string }): FakeUri;
  toString(): string;
}

export function fakeUri(path: string): FakeUri {
  return { path, with: (change) => fakeUri(change.path ?? path), toString: () => `fake-resource:${path}` };
}

export class FakeWebview {
  options: vscode.WebviewOptions = {};
  readonly cspSource = 'fake-csp-source';
  /** Every HTML document written, in order. */
  readonly htmlWrites: string[] = [];
  /** Every message the host posted, delivered or not. */
  readonly posted: unknown[] = [];
  readonly fromPage = new FakeEvent<unknown>();
  readonly toPage = new FakeEvent<unknown>();
  readonly onDidReceiveMessage = this.fromPage.event;
  /** Told when HTML is written (the page loads from it). */
  onHtml: () => void = () => undefined;

  get html(): string {
    return this.htmlWrites[this.htmlWrites.length - 1] ?? '';
  }
  set html(value: string) {
    this.htmlWrites.push(value);
    this.onHtml();
  }
  asWebviewUri(uri: FakeUri): FakeUri {
    return uri;
  }
  postMessage(message: unknown): Thenable<boolean> {
    this.posted.push(message);
    this.toPage.fire(structuredClone(message));
    return Promise.resolve(true);
  }
}

export class FakeWebviewPanel {
  readonly webview = new FakeWebview();
  visible = true;
  reveals = 0;
  disposed = false;
  readonly viewStateChanged = new FakeEvent<unknown>();
  readonly disposedEvent = new FakeEvent<void>();
  readonly onDidChangeViewState = this.viewStateChanged.event;
  readonly onDidDispose = this.disposedEvent.event;
  /** The page inside (not a host listener, so not counted): told when the panel is shown or hidden. */
  onVisibility: (visible: boolean) => void = () => undefined;

  constructor(
    readonly viewType: string,
    public title: string,
  ) {}

  reveal(): void {
    this.reveals += 1;
    this.setVisible(true);
  }
  /** Another tab came to the front: the webview is torn down. */
  hide(): void {
    this.setVisible(false);
  }
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.visible = false;
    this.disposedEvent.fire();
  }
  private setVisible(visible: boolean): void {
    if (visible === this.visible) return;
    this.visible = visible;
    this.onVisibility(visible);
    this.viewStateChanged.fire({ webviewPanel: this });
  }
  /** Listeners the host still holds on this panel and its webview. */
  get liveListeners(): number {
    return this.viewStateChanged.size + this.disposedEvent.size + this.webview.fromPage.size;
  }
}

/** The `window` of the fake: what panelHost.ts calls. */
export class FakeWindow {
  readonly panels: FakeWebviewPanel[] = [];
  readonly serializers = new Map<string, vscode.WebviewPanelSerializer>();
  /** Called for every panel created or restored (e.g. to put a page in it). */
  onPanel: (panel: FakeWebviewPanel) => void = () => undefined;

  createWebviewPanel(viewType: string, title: string): FakeWebviewPanel {
    const panel = new FakeWebviewPanel(viewType, title);
    this.panels.push(panel);
    this.onPanel(panel);
    return panel;
  }

  registerWebviewPanelSerializer(viewType: string, serializer: vscode.WebviewPanelSerializer): vscode.Disposable {
    this.serializers.set(viewType, serializer);
    return { dispose: () => void this.serializers.delete(viewType) };
  }

  /** What VS Code does after a window reload: a panel of `viewType` comes back with its saved state. */
  async restore(viewType: string, state: unknown, title = 'restored'): Promise<FakeWebviewPanel> {
    const serializer = this.serializers.get(viewType);
    if (!serializer) throw new Error(`no serializer for ${viewType}`);
    const panel = new FakeWebviewPanel(viewType, title);
    this.panels.push(panel);
    this.onPanel(panel);
    await serializer.deserializeWebviewPanel(panel as unknown as vscode.WebviewPanel, state);
    return panel;
  }

  /** Typed as the real window for code under test. */
  get asWindow(): Pick<typeof vscode.window, 'createWebviewPanel' | 'registerWebviewPanelSerializer'> {
    return this as unknown as Pick<typeof vscode.window, 'createWebviewPanel' | 'registerWebviewPanelSerializer'>;
  }
}
