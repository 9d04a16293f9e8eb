/**
 * The host's end of a webview as a Channel `Port` (src/protocol/channel.ts): envelopes go out
 * through `postMessage` and come in through `onDidReceiveMessage`. `whenReady` wraps a port so
 * nothing is posted while the page is not listening (loading, or torn down while hidden): the
 * page replays the full state on its next 'ready' instead.
 */
import type * as vscode from 'vscode';
import type { Envelope, Port } from '../../protocol/channel';

export function webviewPort(webview: Pick<vscode.Webview, 'postMessage' | 'onDidReceiveMessage'>): Port {
  return {
    post: (envelope: Envelope) => void webview.postMessage(envelope),
    onReceive: (listener) => webview.onDidReceiveMessage(listener),
  };
}

/** `port` that drops what is posted while `isReady()` is false. */
export function whenReady(port: Port, isReady: () => boolean): Port {
  return {
    post: (envelope) => {
      if (isReady()) port.post(envelope);
    },
    onReceive: (listener) => port.onReceive(listener),
  };
}
