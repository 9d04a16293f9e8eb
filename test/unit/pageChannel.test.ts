import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Envelope, Messages, Notification, Request } from '../../src/protocol/channel';
import { loadState, pageChannel, saveState, savedState } from '../../webview/common/channel';

// webview/common/channel.ts runs in a webview: give it the two globals it uses (only once called),
// a window to receive the host's messages on and VS Code's acquireVsCodeApi.
const posted: unknown[] = [];
let state: unknown;
let acquired = 0;
Object.assign(globalThis, {
  window: new EventTarget(),
  acquireVsCodeApi: () => {
    acquired++;
    return { postMessage: (message: unknown) => posted.push(message), getState: () => state, setState: (next: unknown) => (state = next) };
  },
});
const fromHost = (data: unknown) => (globalThis as unknown as { window: EventTarget }).window.dispatchEvent(new MessageEvent('message', { data }));

interface FromPage extends Messages {
  requests: { twice: Request<{ n: number }, number> };
  notifications: { ready: Notification<Record<string, never>> };
}
interface ToPage extends Messages {
  requests: Record<never, never>;
  notifications: { state: Notification<{ runs: string[] }> };
}

test('a page channel posts envelopes through the one VS Code API and hears the host on its window', async () => {
  const host = pageChannel<FromPage, ToPage>();
  const runs: string[][] = [];
  host.onNotification('state', (params) => runs.push(params.runs));
  host.notify('ready', {});
  assert.deepEqual(posted, [{ kind: 'notification', method: 'ready', params: {} } satisfies Envelope]);

  fromHost({ kind: 'notification', method: 'state', params: { runs: ['a'] } });
  fromHost({ type: 'state', runs: ['old shape'] }); // ignored quietly
  assert.deepEqual(runs, [['a']]);

  const answer = host.request('twice', { n: 4 });
  assert.deepEqual(posted[1], { kind: 'request', id: 1, method: 'twice', params: { n: 4 } });
  fromHost({ kind: 'reply', id: 1, result: 8 });
  assert.equal(await answer, 8);

  pageChannel<FromPage, ToPage>().notify('ready', {}); // a second channel shares the API
  assert.equal(acquired, 1, 'acquireVsCodeApi is called once per page load');
});

test('the saved view state: an object of the page\'s own shape over the defaults, anything else ignored', () => {
  state = 'garbage';
  assert.equal(savedState(), undefined);
  assert.deepEqual(loadState({ runIds: [] as string[], smoothing: 0.6 }), { runIds: [], smoothing: 0.6 });
  saveState({ runIds: ['r1'] });
  assert.deepEqual(loadState({ runIds: [] as string[], smoothing: 0.6 }), { runIds: ['r1'], smoothing: 0.6 });
});
