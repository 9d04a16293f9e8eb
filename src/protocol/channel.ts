/**
 * One typed channel for every message that crosses a thread or an iframe: host <-> worker and
 * host <-> each webview page. A side's vocabulary (`Messages`) names its requests, whose reply
 * type travels with them (`Request<P, R>`), and its one-way notifications; the channel correlates
 * replies by id, so a call site reads `const example = await channel.request('attentionExample',
 * { split, index })` and gets the typed answer, never a cast.
 *
 * On the wire only three envelope shapes exist. Anything else that arrives (a stray message, an
 * unknown method, a reply nobody waits for) is ignored and reported through `onProblem`, never
 * thrown: webview messages are untrusted input. Pure TypeScript (no DOM, node or vscode): the
 * host, the worker and the webviews bundle it.
 */
import type { Disposable } from '../shared/disposable';
import { errorMessage } from '../shared/errors';

/** A request whose reply type travels with it (the fields are phantom: types only). */
export interface Request<P, R> {
  readonly params: P;
  readonly reply: R;
}

/** A one-way message. */
export interface Notification<P> {
  readonly params: P;
}

/** One side's vocabulary: what it can ask (requests) and tell (notifications). */
export interface Messages {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- any vocabulary fits; each method keeps its own types
  requests: Record<string, Request<any, any>>;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- as above
  notifications: Record<string, Notification<any>>;
}

/** On the wire: one of these three shapes, nothing else. */
export type Envelope =
  | { kind: 'request'; id: number; method: string; params: unknown }
  | { kind: 'reply'; id: number; result?: unknown; error?: string }
  | { kind: 'notification'; method: string; params: unknown };

/** Where envelopes go and come from: a worker thread, a webview's postMessage, a page's window. */
export interface Port {
  post(envelope: Envelope): void;
  onReceive(listener: (message: unknown) => void): Disposable;
}

export interface ChannelOptions {
  /** Told about every incoming message the channel ignored, and why (for a log). */
  onProblem?: (problem: string) => void;
}

/** The message a pending request is rejected with when its channel is disposed. */
export const CHANNEL_CLOSED = 'channel closed';

type RequestsOf<M extends Messages> = M['requests'];
type NotificationsOf<M extends Messages> = M['notifications'];
type Handler = (params: unknown) => unknown;

interface Pending {
  resolve(result: unknown): void;
  reject(error: Error): void;
}

/** `Local` = what this side sends (and the other side handles); `Remote` = what it receives. */
export class Channel<Local extends Messages, Remote extends Messages> {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  // Maps, not objects: a method named `__proto__` or `toString` must find no handler.
  private readonly requestHandlers = new Map<string, Handler>();
  private readonly notificationHandlers = new Map<string, Set<Handler>>();
  private readonly subscription: Disposable;
  private disposed = false;

  constructor(
    private readonly port: Port,
    private readonly options: ChannelOptions = {},
  ) {
    this.subscription = port.onReceive((message) => this.receive(message));
  }

  /** Asks the other side; resolves with its reply, rejects with its error message (or if the channel closes first). */
  request<K extends keyof RequestsOf<Local> & string>(
    method: K,
    params: RequestsOf<Local>[K]['params'],
  ): Promise<RequestsOf<Local>[K]['reply']> {
    if (this.disposed) return Promise.reject(new Error(CHANNEL_CLOSED));
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      try {
        this.port.post({ kind: 'request', id, method, params });
      } catch (error) {
        this.pending.delete(id);
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
  }

  /** Tells the other side; nothing comes back. Does nothing once the channel is disposed. */
  notify<K extends keyof NotificationsOf<Local> & string>(method: K, params: NotificationsOf<Local>[K]['params']): void {
    if (this.disposed) return;
    this.port.post({ kind: 'notification', method, params });
  }

  /** Answers the other side's `method` requests (one handler per method); a thrown error becomes the reply's error. */
  onRequest<K extends keyof RequestsOf<Remote> & string>(
    method: K,
    handler: (params: RequestsOf<Remote>[K]['params']) => RequestsOf<Remote>[K]['reply'] | Promise<RequestsOf<Remote>[K]['reply']>,
  ): Disposable {
    if (this.requestHandlers.has(method)) throw new Error(`Channel: a handler for request '${method}' is already registered`);
    this.requestHandlers.set(method, handler as Handler);
    return {
      dispose: () => {
        if (this.requestHandlers.get(method) === handler) this.requestHandlers.delete(method);
      },
    };
  }

  /** Listens to the other side's `method` notifications (any number of listeners). */
  onNotification<K extends keyof NotificationsOf<Remote> & string>(
    method: K,
    handler: (params: NotificationsOf<Remote>[K]['params']) => void,
  ): Disposable {
    let handlers = this.notificationHandlers.get(method);
    if (!handlers) this.notificationHandlers.set(method, (handlers = new Set()));
    const registered = handler as Handler;
    handlers.add(registered);
    return { dispose: () => void handlers.delete(registered) };
  }

  /** Stops listening and rejects every pending request with "channel closed". */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.subscription.dispose();
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const request of pending) request.reject(new Error(CHANNEL_CLOSED));
  }

  private receive(message: unknown): void {
    if (this.disposed) return;
    const envelope = asEnvelope(message);
    if (!envelope) return this.problem(`ignored a message that is not an envelope: ${describe(message)}`);
    switch (envelope.kind) {
      case 'reply':
        return this.settle(envelope);
      case 'notification':
        return this.dispatchNotification(envelope.method, envelope.params);
      case 'request':
        return void this.answer(envelope.id, envelope.method, envelope.params);
    }
  }

  private settle(reply: Extract<Envelope, { kind: 'reply' }>): void {
    const pending = this.pending.get(reply.id);
    if (!pending) return this.problem(`ignored a reply to request ${reply.id}, which is not pending`);
    this.pending.delete(reply.id);
    if (reply.error !== undefined) pending.reject(new Error(reply.error));
    else pending.resolve(reply.result);
  }

  private dispatchNotification(method: string, params: unknown): void {
    const handlers = this.notificationHandlers.get(method);
    if (!handlers || handlers.size === 0) return this.problem(`ignored the notification '${method}': nothing listens to it`);
    for (const handler of [...handlers]) {
      // The params are the other side's (a page's are untrusted): a handler that chokes on them
      // is reported, and the other handlers still run.
      try {
        handler(params);
      } catch (error) {
        this.problem(`the notification '${method}' failed: ${errorMessage(error)}`);
      }
    }
  }

  private async answer(id: number, method: string, params: unknown): Promise<void> {
    const handler = this.requestHandlers.get(method);
    if (!handler) {
      this.problem(`ignored the request '${method}': no handler`);
      // Still answer, so the asker fails at once instead of waiting forever.
      return this.reply({ kind: 'reply', id, error: `unknown request '${method}'` });
    }
    try {
      const result = await handler(params);
      this.reply({ kind: 'reply', id, result });
    } catch (error) {
      this.reply({ kind: 'reply', id, error: errorMessage(error) });
    }
  }

  private reply(envelope: Envelope): void {
    if (this.disposed) return; // the other side is gone or going; its pending requests die with it
    this.port.post(envelope);
  }

  private problem(text: string): void {
    this.options.onProblem?.(text);
  }
}

/** The message as an Envelope when it has exactly one of the three shapes' required fields, else undefined. */
function asEnvelope(message: unknown): Envelope | undefined {
  if (typeof message !== 'object' || message === null) return undefined;
  const m = message as Record<string, unknown>;
  const validId = typeof m.id === 'number' && Number.isSafeInteger(m.id);
  switch (m.kind) {
    case 'request':
      return validId && typeof m.method === 'string' ? { kind: 'request', id: m.id as number, method: m.method, params: m.params } : undefined;
    case 'reply':
      if (!validId || (m.error !== undefined && typeof m.error !== 'string')) return undefined;
      return m.error !== undefined ? { kind: 'reply', id: m.id as number, error: m.error as string } : { kind: 'reply', id: m.id as number, result: m.result };
    case 'notification':
      return typeof m.method === 'string' ? { kind: 'notification', method: m.method, params: m.params } : undefined;
    default:
      return undefined;
  }
}

/** A short, safe description of an unexpected message for a log line. */
function describe(message: unknown): string {
  if (message === null || typeof message !== 'object') return String(message).slice(0, 80);
  const kind = (message as { kind?: unknown; type?: unknown }).kind ?? (message as { type?: unknown }).type;
  return typeof kind === 'string' ? `an object of kind '${kind.slice(0, 40)}'` : 'an object without a kind';
}
