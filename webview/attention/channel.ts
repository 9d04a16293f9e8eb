/**
 * The Attention panel's door to the host: its own typed messages (src/host/attentionProtocol.ts)
 * and the persisted view state. (webview/common/messaging.ts is typed for the dashboard's messages.)
 */
import type { AttentionPanelState, FromAttentionWebview, ToAttentionWebview } from '../../src/host/attentionProtocol';

interface VsCodeApi {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

const api: VsCodeApi = acquireVsCodeApi(); // once per page load

export function post(message: FromAttentionWebview): void {
  api.postMessage(message);
}

/** Listens to the host, then says 'ready' so the host (re)sends the full state. */
export function connect(onMessage: (message: ToAttentionWebview) => void): void {
  window.addEventListener('message', (event: MessageEvent) => {
    const message = event.data as ToAttentionWebview | undefined;
    if (message && typeof message === 'object' && typeof message.type === 'string') onMessage(message);
  });
  post({ type: 'ready' });
}

export function loadPanelState(): AttentionPanelState {
  const saved = api.getState() as Partial<AttentionPanelState> | undefined;
  return { runIds: Array.isArray(saved?.runIds) ? saved.runIds : [], ...(saved?.selection ? { selection: saved.selection } : {}) };
}

export function savePanelState(state: AttentionPanelState): void {
  api.setState(state);
}
