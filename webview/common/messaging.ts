/**
 * The webview's only door to the host: typed postMessage both ways (src/protocol.ts) and the
 * small persisted view state (getState/setState survives hide/show and window reloads).
 */
import type { FromWebview, ToWebview } from '../../src/protocol';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

// acquireVsCodeApi may be called only once per page load.
let api: VsCodeApi | undefined;
function vscodeApi(): VsCodeApi {
  api ??= acquireVsCodeApi();
  return api;
}

export function post(message: FromWebview): void {
  vscodeApi().postMessage(message);
}

/** Listens to host messages, then says `ready` so the host (re)sends the full state. */
export function connect(onMessage: (message: ToWebview) => void): void {
  window.addEventListener('message', (event: MessageEvent) => {
    const message = event.data as ToWebview | undefined;
    if (message && typeof message === 'object' && typeof message.type === 'string') onMessage(message);
  });
  post({ type: 'ready' });
}

export function loadState<T extends object>(defaults: T): T {
  const saved = vscodeApi().getState();
  return saved && typeof saved === 'object' ? { ...defaults, ...(saved as Partial<T>) } : { ...defaults };
}

export function saveState<T extends object>(state: T): void {
  vscodeApi().setState(state);
}
