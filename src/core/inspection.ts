/**
 * Inspection requests as a lab answers them in the worker: each lab declares its requests as
 * types (`src/core/<lab>/requests.ts`, `Request<Params, Reply>`, read by the typed protocol) and
 * registers one handler per request next to its factories (`src/core/<lab>/runtime.ts`); the
 * engine's sessions dispatch on the request's kind through that registry (src/core/labs.ts).
 */
import type { Request } from '../protocol/channel';
import type { InferenceSession } from './inference';
import type { CheckpointSource } from './sink';
import type { ResolvedSpec } from './spec/types';

/** One open inference session, as a request handler sees it. */
export interface InspectionSession {
  readonly spec: ResolvedSpec;
  readonly source: CheckpointSource;
  /** The model at the session's current checkpoint step. */
  readonly inference: InferenceSession;
  /**
   * A value kept for the session at its current step (e.g. a second copy of the weights in
   * another shape): built on first use, disposed when the step changes or the session closes.
   */
  atStep<T>(key: string, build: () => Promise<T>, dispose: (value: T) => void): Promise<T>;
}

/** A lab's request vocabulary (an interface): request kind -> Request<Params, Reply>. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any vocabulary fits; each request keeps its own types
export type RequestMap<M = Record<string, unknown>> = { [K in keyof M]: Request<any, any> };

/** One handler per request of a vocabulary, each typed by its params and reply. */
export type RequestHandlers<M extends RequestMap<M>> = {
  [K in keyof M]: (session: InspectionSession, params: M[K]['params']) => M[K]['reply'] | Promise<M[K]['reply']>;
};
