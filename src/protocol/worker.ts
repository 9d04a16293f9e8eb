/**
 * The engine's messages (src/engine/engine.ts, the host side <-> src/engine/worker.ts, a worker
 * thread), over the same Channel as the webviews. Training jobs are notifications both ways
 * (train and cancel in, progress, finished and log out); inference sessions are requests, one
 * method per inspection kind, so `SessionClient.request(kind, params)` returns the typed answer.
 *
 * An inspection request is answered by a session: a trained model loaded at one checkpoint in the
 * worker. The requests every session answers are below; each lab adds its own (its panel's data),
 * typed in `src/core/<lab>/requests.ts` and gathered in src/core/labRequests.ts (types only: the
 * host never loads a lab's code for them).
 */
import type { ExampleView } from '../core/inference';
import type { LabRequests } from '../core/labRequests';
import type { ResolvedSpec } from '../core/spec/types';
import type { WeightShape } from '../core/weightLayout';
import type { BackendInfo } from '../shared/backend';
import type { LogLevel } from '../shared/log';
import type { MetricRecord } from '../shared/runs';
import type { Messages, Notification, Request } from './channel';

type NoParams = Record<string, never>;

/** What every session answers, whatever its lab. */
export interface SessionRequests {
  /** Run the model on one example of a split: what the model exposes for inspection. */
  example: Request<{ split: string; index: number }, ExampleView>;
  /** The checkpoint steps the session can switch to (the client's `steps` follows). */
  steps: Request<NoParams, number[]>;
  /** Switch the session to another saved step (the client's `step` follows). */
  load: Request<{ step: number }, { step: number }>;
  /** The task's splits, training split first. */
  splits: Request<NoParams, string[]>;
}

/** Every inspection request a session answers, by kind. */
export type InspectionRequests = SessionRequests & LabRequests;

/** What the engine asks of a session in the worker: open it, then inspect. */
interface SessionTable extends SessionRequests, LabRequests {
  /** Load a run at `step` (default: its newest checkpoint); the session answers requests until closed. */
  openSession: Request<{ runDir: string; step?: number }, { step: number; steps: number[] }>;
  /**
   * Answered outside any session (its `sessionId` is not looked at): the weight names and shapes
   * of the model `spec` builds, which the launch compares with the checkpoint `init` names.
   */
  weightLayout: Request<{ spec: ResolvedSpec }, WeightShape[]>;
}
export type InspectionKind = Exclude<keyof SessionTable, 'openSession' | 'weightLayout'>;
// Indexed into SessionTable (not InspectionRequests) so that TypeScript sees a request's params
// and reply on the wire as the same types as at the call site, for a kind not known yet.
export type InspectionParams<K extends InspectionKind> = SessionTable[K]['params'];
export type InspectionReply<K extends InspectionKind> = SessionTable[K]['reply'];

/** On the wire every session request names its session. */
export type SessionRequestsOnWire = {
  [K in keyof SessionTable]: Request<{ sessionId: string; params: SessionTable[K]['params'] }, SessionTable[K]['reply']>;
};

/**
 * What a progress message tells the host beyond the step: where its records were written in the
 * run's metrics.jsonl (byte offsets, `nextOffset` the file's size after them), so the host's run
 * registry appends them and moves its read cursor past them instead of reading the file back, and
 * the training time so far (status.json's `elapsedMs`), so it need not re-read status.json either.
 */
export interface JobProgressDetail {
  metrics?: { fromOffset: number; nextOffset: number };
  elapsedMs?: number;
}

/** Host -> worker. */
export interface ToWorker extends Messages {
  requests: SessionRequestsOnWire;
  notifications: {
    /** `ownerToken`: the run's owner lock, held by the engine for the job. `resumeStep`: resume from that checkpoint. */
    train: Notification<{ jobId: string; runDir: string; resume: boolean; ownerToken: string; resumeStep?: number }>;
    cancel: Notification<{ jobId: string }>;
    closeSession: Notification<{ sessionId: string }>;
    /** Stop every job (runs end 'interrupted'), close the sessions, exit. */
    shutdown: Notification<NoParams>;
  };
}

/** Worker -> host. */
export interface FromWorker extends Messages {
  requests: Record<never, never>;
  notifications: {
    /** The backend is up; messages sent before wait for it. */
    ready: Notification<{ backend: BackendInfo }>;
    /** The training loop's new records; `detail` says where they are in metrics.jsonl (see JobProgressDetail). */
    progress: Notification<{ jobId: string; step: number; totalSteps: number; metrics: MetricRecord[]; detail?: JobProgressDetail }>;
    finished: Notification<{ jobId: string; state: 'completed' | 'cancelled' | 'failed'; error?: string }>;
    log: Notification<{ level: LogLevel; message: string }>;
  };
}

/** A tensor as plain values (a gradient worker's objective state, e.g. its replay buffers). */
export interface PlainTensorMessage {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
  values: Float32Array | Int32Array;
}

/**
 * Training worker -> its gradient worker (training.gradientWorkers = 2): one shard per step, and
 * between steps its objective's state for a checkpoint (save) or from one (restore, on resume).
 */
export type ToGradientWorker =
  | { type: 'compute'; step: number; shard: number; weights: Float32Array[] }
  | { type: 'save-state' }
  | { type: 'restore-state'; state: PlainTensorMessage[] };

export type FromGradientWorker =
  | { type: 'ready' }
  | { type: 'result'; step: number; loss: number; gradients: Float32Array[] }
  | { type: 'state'; state: PlainTensorMessage[] }
  | { type: 'restored' }
  | { type: 'error'; message: string };
