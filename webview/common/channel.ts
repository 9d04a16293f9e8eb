/**
 * A page's only door to the host: the one `acquireVsCodeApi()` call of the page, a Channel
 * (src/protocol/channel.ts) over it typed with the page's vocabulary (src/protocol/<panel>.ts),
 * and the small persisted view state (getState/setState survives hide/show and window reloads).
 */
import { Channel, type Messages, type Port } from '../../src/protocol/channel';

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

/** Posts through VS Code; receives what the host posts to the page's window. */
const hostPort: Port = {
  post: (envelope) => vscodeApi().postMessage(envelope),
  onReceive: (listener) => {
    const receive = (event: MessageEvent) => listener(event.data);
    window.addEventListener('message', receive);
    return { dispose: () => window.removeEventListener('message', receive) };
  },
};

/**
 * The page's channel to the host. `Local`: what the page tells and asks (src/protocol's
 * `From<Panel>Page`); `Remote`: what the host tells it. Register the handlers, then notify
 * `ready`: the host answers with the full state.
 */
export function pageChannel<Local extends Messages, Remote extends Messages>(): Channel<Local, Remote> {
  // Anything else posted to the window (not an envelope, or a method the page does not handle) is
  // ignored quietly, as the pages always did: only the host posts here.
  return new Channel<Local, Remote>(hostPort);
}

/** The state this page saved last (an object of the page's own shape), if any; check its fields before use. */
export function savedState<T extends object>(): Partial<T> | undefined {
  const saved = vscodeApi().getState();
  return saved && typeof saved === 'object' ? (saved as Partial<T>) : undefined;
}

/** The saved state over `defaults`. */
export function loadState<T extends object>(defaults: T): T {
  return { ...defaults, ...savedState<T>() };
}

export function saveState<T extends object>(state: T): void {
  vscodeApi().setState(state);
}
