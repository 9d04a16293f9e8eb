import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { SessionClient } from '../../src/engine/engine';
import { Channel, CHANNEL_CLOSED, type Envelope, type Messages, type Notification, type Port, type Request } from '../../src/protocol/channel';

// Two vocabularies, as a panel page and its host would have them.
interface FromPage extends Messages {
  requests: { square: Request<{ x: number }, number>; fail: Request<{ why: string }, never>; slow: Request<{}, string> };
  notifications: { ready: Notification<{}>; clicked: Notification<{ at: number }> };
}
interface ToPage extends Messages {
  requests: { title: Request<{}, string> };
  notifications: { state: Notification<{ runs: string[] }> };
}

/** A port whose far end the test drives by hand: `sent` holds what the channel posted. */
function handPort(): { port: Port; sent: Envelope[]; deliver(message: unknown): void; listening(): number } {
  const sent: Envelope[] = [];
  const listeners = new Set<(message: unknown) => void>();
  return {
    sent,
    port: {
      post: (envelope) => void sent.push(envelope),
      onReceive(listener) {
        listeners.add(listener);
        return { dispose: () => void listeners.delete(listener) };
      },
    },
    deliver: (message) => listeners.forEach((listener) => listener(message)),
    listening: () => listeners.size,
  };
}

/** Two ports wired to each other, delivering asynchronously (as postMessage does) and through a structured clone. */
function portPair(): [Port, Port] {
  const listeners: [Set<(message: unknown) => void>, Set<(message: unknown) => void>] = [new Set(), new Set()];
  const end = (mine: 0 | 1): Port => ({
    post: (envelope) => {
      const copy = structuredClone(envelope);
      queueMicrotask(() => listeners[1 - mine].forEach((listener) => listener(copy)));
    },
    onReceive(listener) {
      listeners[mine].add(listener);
      return { dispose: () => void listeners[mine].delete(listener) };
    },
  });
  return [end(0), end(1)];
}

test('a request is posted with an id and resolves with the reply carrying that id', async () => {
  const far = handPort();
  const channel = new Channel<FromPage, ToPage>(far.port);
  const first = channel.request('square', { x: 3 });
  const second = channel.request('square', { x: 4 });
  assert.deepEqual(far.sent, [
    { kind: 'request', id: 1, method: 'square', params: { x: 3 } },
    { kind: 'request', id: 2, method: 'square', params: { x: 4 } },
  ]);
  far.deliver({ kind: 'reply', id: 2, result: 16 }); // out of order: correlated by id
  far.deliver({ kind: 'reply', id: 1, result: 9 });
  assert.equal(await first, 9);
  assert.equal(await second, 16);
});

test('an error reply rejects the request with the remote message', async () => {
  const far = handPort();
  const channel = new Channel<FromPage, ToPage>(far.port);
  const asked = channel.request('fail', { why: 'no checkpoint' });
  far.deliver({ kind: 'reply', id: 1, error: 'run abc has no checkpoint' });
  await assert.rejects(asked, { message: 'run abc has no checkpoint' });
});

test('a request handler that throws answers with its message; an unknown request is answered with an error and reported', async () => {
  const [pagePort, hostPort] = portPair();
  const problems: string[] = [];
  const page = new Channel<FromPage, ToPage>(pagePort);
  const host = new Channel<ToPage, FromPage>(hostPort, { onProblem: (problem) => problems.push(problem) });
  host.onRequest('fail', ({ why }) => {
    throw new Error(`refused: ${why}`);
  });
  await assert.rejects(page.request('fail', { why: 'bad split' }), { message: 'refused: bad split' });
  await assert.rejects(page.request('square', { x: 2 }), { message: "unknown request 'square'" });
  assert.equal(problems.length, 1);
  assert.match(problems[0], /square/);
});

test('malformed messages, unknown notifications and stray replies are ignored and reported, never thrown', () => {
  const far = handPort();
  const problems: string[] = [];
  const channel = new Channel<ToPage, FromPage>(far.port, { onProblem: (problem) => problems.push(problem) });
  const clicks: number[] = [];
  channel.onNotification('clicked', ({ at }) => clicks.push(at));
  const malformed: unknown[] = [
    undefined,
    null,
    42,
    'ready',
    { type: 'ready' }, // the old shape
    { kind: 'notification' }, // no method
    { kind: 'request', id: 'one', method: 'title' }, // id not a number
    { kind: 'request', id: 1.5, method: 'title' },
    { kind: 'reply', id: 1, error: { message: 'x' } }, // error not a string
    { kind: 'broadcast', method: 'clicked' },
    { kind: 'notification', method: 'scrolled', params: {} }, // unknown method
    { kind: 'notification', method: '__proto__', params: {} },
    { kind: 'notification', method: 'toString', params: {} },
    { kind: 'reply', id: 99, result: 1 }, // nobody waits for it
  ];
  for (const message of malformed) assert.doesNotThrow(() => far.deliver(message));
  assert.equal(problems.length, malformed.length);
  assert.deepEqual(far.sent, []);
  far.deliver({ kind: 'notification', method: 'clicked', params: { at: 7 } });
  assert.deepEqual(clicks, [7]);
});

test('a notification handler that throws on the params it got is reported, and the other handlers still run', () => {
  const far = handPort();
  const problems: string[] = [];
  const channel = new Channel<ToPage, FromPage>(far.port, { onProblem: (problem) => problems.push(problem) });
  const clicks: number[] = [];
  channel.onNotification('clicked', ({ at }) => {
    if (typeof at !== 'number') throw new Error('at is not a number');
    clicks.push(at);
  });
  channel.onNotification('clicked', () => clicks.push(-1));
  assert.doesNotThrow(() => far.deliver({ kind: 'notification', method: 'clicked' })); // no params: destructuring throws
  assert.doesNotThrow(() => far.deliver({ kind: 'notification', method: 'clicked', params: { at: 'x' } }));
  assert.deepEqual(clicks, [-1, -1]);
  assert.equal(problems.length, 2);
  assert.match(problems[0], /clicked/);
  assert.match(problems[1], /at is not a number/);
});

test('dispose rejects pending requests, stops listening, and later requests fail at once', async () => {
  const far = handPort();
  const channel = new Channel<FromPage, ToPage>(far.port);
  const pending = channel.request('slow', {});
  assert.equal(far.listening(), 1);
  channel.dispose();
  await assert.rejects(pending, { message: CHANNEL_CLOSED });
  assert.equal(far.listening(), 0);
  await assert.rejects(channel.request('slow', {}), { message: CHANNEL_CLOSED });
  channel.notify('ready', {}); // a no-op, not a throw
  assert.equal(far.sent.length, 1);
});

test('a port that throws on post rejects the request instead of leaving it pending', async () => {
  const channel = new Channel<FromPage, ToPage>({
    post: () => {
      throw new Error('Webview is disposed');
    },
    onReceive: () => ({ dispose: () => undefined }),
  });
  await assert.rejects(channel.request('slow', {}), { message: 'Webview is disposed' });
});

test('two channels over an in-memory port pair: requests, async handlers and notifications both ways', async () => {
  const [pagePort, hostPort] = portPair();
  const page = new Channel<FromPage, ToPage>(pagePort);
  const host = new Channel<ToPage, FromPage>(hostPort);
  const seen: string[] = [];
  host.onNotification('ready', () => {
    seen.push('host: ready');
    host.notify('state', { runs: ['a', 'b'] });
  });
  host.onRequest('square', async ({ x }) => x * x);
  host.onRequest('slow', () => 'done');
  page.onRequest('title', () => 'Attention');
  const state = new Promise<string[]>((resolve) => page.onNotification('state', ({ runs }) => resolve(runs)));
  page.notify('ready', {});
  assert.deepEqual(await state, ['a', 'b']);
  assert.deepEqual(seen, ['host: ready']);
  const [five, done, title] = await Promise.all([page.request('square', { x: 5 }), page.request('slow', {}), host.request('title', {})]);
  assert.equal(five, 25);
  assert.equal(done, 'done');
  assert.equal(title, 'Attention');
  // The vocabulary is checked at compile time (npm run typecheck): wrong params, unknown methods, the reply's type.
  // @ts-expect-error x must be a number
  void page.request('square', { x: 'five' }).catch(() => undefined);
  // @ts-expect-error the page cannot ask what only the host answers
  void page.request('title', {}).catch(() => undefined);
  // @ts-expect-error a square is a number, not a string
  const wrong: string = five;
  void wrong;
});

test('a disposed request handler no longer answers; a second handler for one method is a programming error', async () => {
  const [pagePort, hostPort] = portPair();
  const page = new Channel<FromPage, ToPage>(pagePort);
  const host = new Channel<ToPage, FromPage>(hostPort);
  const registration = host.onRequest('square', ({ x }) => x * x);
  assert.throws(() => host.onRequest('square', ({ x }) => x), /already registered/);
  assert.equal(await page.request('square', { x: 6 }), 36);
  registration.dispose();
  await assert.rejects(page.request('square', { x: 6 }), /unknown request/);
});

// Compile-time only (npm run typecheck): an inference session's reply is typed by the request's
// kind, so no call site casts it (src/protocol/worker.ts InspectionRequests).
export function sessionRepliesAreTyped(session: SessionClient): Promise<unknown>[] {
  const splits: Promise<string[]> = session.request('splits', {});
  const loaded: Promise<{ step: number }> = session.request('load', { step: 10 });
  // @ts-expect-error a kind no session answers
  const unknown = session.request('nope', {});
  // @ts-expect-error another kind's params
  const wrongParams = session.request('load', { split: 'train' });
  // @ts-expect-error a reply is not another kind's reply
  const wrongReply: Promise<number[]> = session.request('splits', {});
  return [splits, loaded, unknown, wrongParams, wrongReply];
}
