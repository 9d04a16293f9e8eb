/**
 * The HTML shell shared by Model Lab's webviews: strict Content-Security-Policy with a fresh
 * nonce per load, assets only from dist/webview (the one local resource root), the
 * vscode-elements bundle, codicons and uPlot's stylesheet, then the view's own bundle.
 *
 * `renderWebviewPage` is pure (no `vscode` at run time) so the browser harness under
 * test/harness renders the very same page and policy. `WebviewPageLoader` writes the page into a
 * webview and writes it again when the page never says 'ready' (see there why).
 */
import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import type * as vscode from 'vscode';

/** Folder (relative to the extension root) that holds every webview asset. */
export const WEBVIEW_ASSET_DIR = 'dist/webview';

export interface WebviewPageParts {
  /** `webview.cspSource`: the origin the policy allows for styles, fonts and images. */
  cspSource: string;
  nonce: string;
  title: string;
  /** URI of an asset file in dist/webview, as the webview must load it. */
  assetUri: (file: string) => string;
  /** Bundle name: webview/<name>/main.ts -> dist/webview/<name>.js (+ <name>.css). */
  bundle: string;
}

export function createNonce(): string {
  return randomBytes(18).toString('base64');
}

export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  // No 'unsafe-inline' for styles: uPlot and the Lit elements set styles through the CSSOM
  // (element.style, adopted style sheets), which the policy does not restrict.
  return [
    "default-src 'none'",
    `img-src ${cspSource} data:`,
    `style-src ${cspSource}`,
    `font-src ${cspSource}`,
    `script-src 'nonce-${nonce}'`,
  ].join('; ');
}

const escapeAttr = (text: string): string =>
  text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function renderWebviewPage(parts: WebviewPageParts): string {
  const { nonce, assetUri } = parts;
  const attr = (file: string) => escapeAttr(assetUri(file));
  return `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <meta http-equiv="Content-Security-Policy" content="${escapeAttr(contentSecurityPolicy(parts.cspSource, nonce))}">
  <meta name="viewport" content="width=device-width, initial-scale=1.0">
  <title>${escapeAttr(parts.title)}</title>
  <link rel="stylesheet" href="${attr('codicon.css')}" id="vscode-codicon-stylesheet">
  <link rel="stylesheet" href="${attr('uPlot.min.css')}">
  <link rel="stylesheet" href="${attr(`${parts.bundle}.css`)}">
  <script type="module" nonce="${nonce}" src="${attr('elements.js')}"></script>
  <script type="module" nonce="${nonce}" src="${attr(`${parts.bundle}.js`)}"></script>
</head>
<body>
  <main id="app"></main>
</body>
</html>`;
}

/** Options for a panel or view: scripts on, local files only from dist/webview. */
export function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
  return { enableScripts: true, localResourceRoots: [assetDir(extensionUri)] };
}

/** The full HTML of a webview showing bundle `bundle`, with a fresh nonce. */
export function buildWebviewHtml(webview: vscode.Webview, extensionUri: vscode.Uri, bundle: string, title: string): string {
  const dir = assetDir(extensionUri);
  return renderWebviewPage({
    cspSource: webview.cspSource,
    nonce: createNonce(),
    title,
    bundle,
    assetUri: (file) => webview.asWebviewUri(dir.with({ path: posix.join(dir.path, file) })).toString(),
  });
}

function assetDir(extensionUri: vscode.Uri): vscode.Uri {
  return extensionUri.with({ path: posix.join(extensionUri.path, WEBVIEW_ASSET_DIR) });
}

// ------------------------------------------------------------------ loading, with a watchdog

/** Waits for 'ready' after each load before the page is written again; then it is left as is. */
export const READY_TIMEOUTS_MS: readonly number[] = [5_000, 10_000, 20_000];

export interface PageLoaderOptions {
  /** Writes a fresh page into the webview (a new nonce, so VS Code loads it anew). */
  render: () => void;
  /** Whether the webview has a document now: a hidden view or background panel has none. */
  isVisible: () => boolean;
  /** Told each time the page is written again because it did not say 'ready' in time. */
  onReload?: (reload: number, waitedMs: number) => void;
  timeoutsMs?: readonly number[];
}

/**
 * Loads a page into a webview and tracks the page's 'ready' handshake; writes the page again
 * when a visible page stays silent.
 *
 * Why: in VS Code for the Web (code-server) every webview registers the shared resource service
 * worker under its own URL. When two webviews load at the same moment (after a window reload: the
 * restored dashboard and the Live view) the worker is replaced while one of them fetches its
 * scripts and styles; those requests fail (net::ERR_NAME_NOT_RESOLVED) and that page stays blank
 * for good. Written again, the page loads through the settled worker.
 */
export class WebviewPageLoader {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private pageReady = false;
  private reloads = 0;
  private wasVisible: boolean;

  constructor(private readonly options: PageLoaderOptions) {
    this.wasVisible = options.isVisible();
  }

  /** True between the page's 'ready' and its teardown (hidden) or next load. */
  get ready(): boolean {
    return this.pageReady;
  }

  /** Writes the page and waits for its 'ready'. */
  load(): void {
    this.reloads = 0;
    this.write();
  }

  /** The page said 'ready'. */
  markReady(): void {
    this.pageReady = true;
    this.stopWaiting();
  }

  /** Call on visibility events: a hidden page is torn down, a shown one loads anew from its HTML. */
  visibilityChanged(): void {
    const visible = this.options.isVisible();
    if (visible === this.wasVisible) return;
    this.wasVisible = visible;
    this.pageReady = false;
    this.reloads = 0;
    this.waitForReady();
  }

  dispose(): void {
    this.stopWaiting();
    this.pageReady = false;
  }

  private write(): void {
    this.pageReady = false;
    this.wasVisible = this.options.isVisible();
    this.options.render();
    this.waitForReady();
  }

  private waitForReady(): void {
    this.stopWaiting();
    const timeoutMs = (this.options.timeoutsMs ?? READY_TIMEOUTS_MS)[this.reloads];
    if (timeoutMs === undefined || !this.options.isVisible()) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.pageReady || !this.options.isVisible()) return;
      this.reloads += 1;
      this.options.onReload?.(this.reloads, timeoutMs);
      this.write();
    }, timeoutMs);
  }

  private stopWaiting(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
