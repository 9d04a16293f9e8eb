/**
 * The host side of the engine: starts worker threads lazily, queues training jobs under the
 * concurrency limit (one job per worker), routes inference sessions to the least busy worker,
 * and turns a crashed worker into failed jobs. Nothing here trains; it never imports tfjs.
 * Node-only (used by the extension host and the CLI), no 'vscode'.
 */
import * as fs from 'node:fs';
import type { Worker } from 'node:worker_threads';
import { Channel, type Port } from '../protocol/channel';
import type { BackendInfo, BackendSetting, MetricRecord } from '../protocol';
import type { ResolvedSpec } from '../core/spec/types';
import type { WeightShape } from '../core/weightLayout';
import type { FromWorker, InspectionKind, InspectionParams, InspectionReply, JobProgressDetail, ToWorker } from '../protocol/worker';
import { OWNER_HEARTBEAT_INTERVAL_MS, acquireOwnerLock, type OwnerLock } from '../runs/ownership';
import { RunFolderSink } from '../runs/runFolder';
import { errorMessage } from '../shared/errors';
import type { LogLevel } from '../shared/log';
import type { EngineWorkerData } from './worker';
import { describeWorkerError, startLimitedWorker } from './workerLimits';

export interface EngineOptions {
  /** dist/worker.js */
  workerScript: string;
  /** Worker threads, and so training runs at once. */
  workers: number;
  backend: BackendSetting;
  tfjsNodePath?: string;
  /** Folder with the tfjs-backend-wasm `.wasm` files (dist/ in production). */
  wasmDir: string;
  log?: (level: LogLevel, message: string) => void;
}

export type JobOutcome = { state: 'completed' | 'cancelled' | 'failed'; error?: string };
/** `detail`: where the records are in metrics.jsonl and the training time (absent from older senders). */
export type ProgressListener = (step: number, totalSteps: number, records: MetricRecord[], detail?: JobProgressDetail) => void;

export interface TrainingJob {
  readonly jobId: string;
  readonly runDir: string;
  /** Resolves (never rejects) when the job ends, including when it was cancelled while queued. */
  readonly done: Promise<JobOutcome>;
  onProgress(cb: ProgressListener): void;
  cancel(): void;
}

export interface SessionClient {
  readonly step: number;
  readonly steps: number[];
  /** Asks the session (src/protocol/worker.ts InspectionRequests); the answer is typed by `kind`. */
  request<K extends InspectionKind>(kind: K, params: InspectionParams<K>): Promise<InspectionReply<K>>;
  close(): void;
}

/** How long dispose() lets workers stop their runs cleanly before terminating them. */
const SHUTDOWN_GRACE_MS = 5_000;
const SHUT_DOWN = 'The training engine has been shut down.';

export class Engine {
  private readonly slots: WorkerSlot[] = [];
  private readonly queue: JobRecord[] = [];
  private firstReady?: Promise<BackendInfo>;
  private nextJob = 1;
  private nextSession = 1;
  private nextSlot = 1;
  private disposed = false;

  constructor(private readonly options: EngineOptions) {
    if (!Number.isInteger(options.workers) || options.workers < 1) {
      throw new Error(`Engine option "workers" must be a whole number of at least 1, got ${options.workers}.`);
    }
    if (!fs.existsSync(options.workerScript)) {
      throw new Error(`The training worker script ${options.workerScript} does not exist (build with "npm run build").`);
    }
  }

  /**
   * Queue a run. Takes the run's owner lock at once (throws RunLockedError naming the live owner
   * that holds it) and, once the job is on a worker, keeps its heartbeat fresh from this thread,
   * which never trains, until the job ends. `resumeStep` resumes from that checkpoint instead of
   * the newest usable one.
   */
  startTraining(runDir: string, resume: boolean, options: { resumeStep?: number } = {}): TrainingJob {
    this.assertAlive();
    const lock = acquireOwnerLock(runDir, { onTakeover: (note) => this.log('warn', note) });
    const job = new JobRecord(`job-${this.nextJob++}`, runDir, resume, options.resumeStep, lock, (record) => this.cancel(record), (level, message) => this.log(level, message));
    this.queue.push(job);
    this.schedule();
    return job;
  }

  async openSession(runDir: string, step?: number): Promise<SessionClient> {
    this.assertAlive();
    const slot = this.slotForSession();
    const session = new SessionRecord(`session-${this.nextSession++}`, slot);
    slot.sessions.set(session.sessionId, session);
    slot.channel.request('openSession', { sessionId: session.sessionId, params: { runDir, step } }).then(
      (opened) => session.handleOpened(opened),
      (error: Error) => session.handleOpenFailed(error.message),
    );
    await session.opened;
    return session;
  }

  /** The weight names and shapes of the model `spec` builds, from a worker (the host loads no TensorFlow.js). */
  weightLayout(spec: ResolvedSpec): Promise<WeightShape[]> {
    if (this.disposed) return Promise.reject(new Error(SHUT_DOWN));
    return this.slotForSession().channel.request('weightLayout', { sessionId: '', params: { spec } });
  }

  /** The backend of the first worker (started if need be); a worker that dies before 'ready' rejects. */
  backendInfo(): Promise<BackendInfo> {
    if (this.disposed) return Promise.reject(new Error(SHUT_DOWN));
    if (!this.firstReady) this.spawn();
    return this.firstReady!;
  }

  /** Stop running jobs (their runs end 'interrupted', resumable), drop queued ones, and end every worker. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    for (const job of this.queue.splice(0)) this.endQueued(job);
    await Promise.all(this.slots.map((slot) => slot.shutdown(SHUTDOWN_GRACE_MS)));
  }

  // ------------------------------------------------------------------ scheduling

  /** Give queued jobs to idle workers, starting workers up to the limit. */
  private schedule(): void {
    while (this.queue.length > 0 && !this.disposed) {
      const slot = this.slots.find((candidate) => !candidate.job) ?? this.spawnIfAllowed();
      if (!slot) return;
      const job = this.queue.shift()!;
      slot.job = job;
      job.slot = slot;
      job.startBeating();
      slot.channel.notify('train', {
        jobId: job.jobId,
        runDir: job.runDir,
        resume: job.resume,
        ownerToken: job.lock.token,
        ...(job.resumeStep !== undefined ? { resumeStep: job.resumeStep } : {}),
      });
    }
  }

  /** The worker with the least work: no training job first, then fewest sessions. */
  private slotForSession(): WorkerSlot {
    const load = (slot: WorkerSlot) => (slot.job ? 1_000 : 0) + slot.sessions.size;
    const best = [...this.slots].sort((a, b) => load(a) - load(b))[0];
    if (best && load(best) === 0) return best;
    return this.spawnIfAllowed() ?? best!;
  }

  private spawnIfAllowed(): WorkerSlot | undefined {
    return this.slots.length < this.options.workers ? this.spawn() : undefined;
  }

  private spawn(): WorkerSlot {
    const data: EngineWorkerData = {
      backend: this.options.backend,
      tfjsNodePath: this.options.tfjsNodePath,
      wasmDir: this.options.wasmDir,
      workers: this.options.workers,
    };
    const slot = new WorkerSlot(this.nextSlot++, startLimitedWorker(this.options.workerScript, { workerData: data }), {
      log: (level, message) => this.log(level, message),
      onJobFinished: (job, outcome) => {
        job.finish(outcome);
        this.schedule();
      },
      onExit: (exited, code) => this.onWorkerExit(exited, code),
    });
    this.slots.push(slot);
    this.firstReady ??= slot.ready;
    return slot;
  }

  private onWorkerExit(slot: WorkerSlot, code: number): void {
    this.slots.splice(this.slots.indexOf(slot), 1);
    // A worker that never got ready says nothing about the next one: let backendInfo() ask again.
    if (this.firstReady === slot.ready && !slot.isReady) this.firstReady = undefined;
    const reason = slot.crash ? `the training worker stopped: ${slot.crash}` : `worker exited with code ${code}`;
    if (slot.job && !this.disposed) this.log('error', `Training worker ${slot.id} ${reason} while training ${slot.job.runDir}.`);
    const job = slot.job;
    slot.job = undefined;
    if (job && !job.settled) {
      markRunState(job, 'failed', reason, (message) => this.log('error', message));
      job.finish({ state: 'failed', error: reason });
    }
    for (const session of slot.sessions.values()) session.fail(reason);
    slot.sessions.clear();
    this.schedule();
  }

  // ------------------------------------------------------------------ cancellation

  private cancel(job: JobRecord): void {
    if (job.settled) return;
    const queuedAt = this.queue.indexOf(job);
    if (queuedAt >= 0) {
      this.queue.splice(queuedAt, 1);
      this.endQueued(job);
    } else if (job.slot) {
      job.slot.channel.notify('cancel', { jobId: job.jobId });
    }
  }

  /** A job that never reached a worker: its run never started, so it ends 'cancelled'. */
  private endQueued(job: JobRecord): void {
    markRunState(job, 'cancelled', undefined, (message) => this.log('warn', message));
    job.finish({ state: 'cancelled' });
  }

  private assertAlive(): void {
    if (this.disposed) throw new Error(SHUT_DOWN);
  }

  private log(level: LogLevel, message: string): void {
    this.options.log?.(level, message);
  }
}

/** Write a final state from the host, for runs whose worker cannot (never started, or crashed). */
function markRunState(job: JobRecord, state: 'failed' | 'cancelled', error: string | undefined, report: (m: string) => void) {
  const { runDir } = job;
  let sink: RunFolderSink | undefined;
  try {
    sink = new RunFolderSink(runDir, { ownerToken: job.lock.token });
    sink.setState(state, error);
  } catch (failure) {
    report(`Could not mark run ${runDir} as ${state}: ${errorMessage(failure)}`);
  } finally {
    try {
      sink?.close();
    } catch {
      // Nothing more to do: the state write above already reported its own failure.
    }
  }
}

// ------------------------------------------------------------------ host-side records

/**
 * A job holds its run's owner lock from queueing to its end; a timer beats it while the job is on
 * a worker (queued jobs do not beat: a sweep may queue thousands, and on this host a live pid is
 * enough to keep a lock).
 */
class JobRecord implements TrainingJob {
  readonly done: Promise<JobOutcome>;
  slot?: WorkerSlot;
  settled = false;
  private resolveDone!: (outcome: JobOutcome) => void;
  private readonly listeners: ProgressListener[] = [];
  private heartbeat?: NodeJS.Timeout;

  constructor(
    readonly jobId: string,
    readonly runDir: string,
    readonly resume: boolean,
    readonly resumeStep: number | undefined,
    readonly lock: OwnerLock,
    private readonly requestCancel: (job: JobRecord) => void,
    private readonly log: (level: LogLevel, message: string) => void,
  ) {
    this.done = new Promise((resolve) => (this.resolveDone = resolve));
  }

  startBeating(): void {
    this.beat();
    this.heartbeat ??= setInterval(() => this.beat(), OWNER_HEARTBEAT_INTERVAL_MS);
    this.heartbeat.unref(); // a heartbeat never keeps the process alive on its own
  }

  private beat(): void {
    try {
      if (this.lock.beat()) return;
      this.log('error', `Run ${this.runDir} was taken over by another process; this job stops writing to it.`);
      clearInterval(this.heartbeat);
    } catch (error) {
      // A failed write (disk full, network blip) is retried on the next beat.
      this.log('warn', `Could not refresh the owner heartbeat of ${this.runDir}: ${errorMessage(error)}`);
    }
  }

  onProgress(cb: ProgressListener): void {
    this.listeners.push(cb);
  }

  cancel(): void {
    this.requestCancel(this);
  }

  progress(step: number, totalSteps: number, records: MetricRecord[], detail: JobProgressDetail | undefined, report: (message: string) => void): void {
    for (const listener of this.listeners) {
      // A faulty listener must not take down the host's message handling for the other jobs.
      try {
        listener(step, totalSteps, records, detail);
      } catch (error) {
        report(`A progress listener of ${this.runDir} failed: ${errorMessage(error)}`);
      }
    }
  }

  /** The job ended (its worker has closed the run's sink): release the run, then tell the listeners. */
  finish(outcome: JobOutcome): void {
    if (this.settled) return;
    this.settled = true;
    this.slot = undefined;
    clearInterval(this.heartbeat);
    try {
      this.lock.release();
    } catch (error) {
      this.log('error', `Could not release the owner lock of ${this.runDir}: ${errorMessage(error)}`);
    }
    this.resolveDone(outcome);
  }
}

class SessionRecord implements SessionClient {
  readonly opened: Promise<void>;
  step = -1;
  steps: number[] = [];
  private resolveOpened!: () => void;
  private rejectOpened!: (error: Error) => void;
  private closed?: string;
  /** Requests not answered yet: the session's end rejects them with its reason. */
  private readonly pending = new Set<{ reject: (error: Error) => void }>();

  constructor(
    readonly sessionId: string,
    private readonly slot: WorkerSlot,
  ) {
    this.opened = new Promise((resolve, reject) => {
      this.resolveOpened = resolve;
      this.rejectOpened = reject;
    });
  }

  request<K extends InspectionKind>(kind: K, params: InspectionParams<K>): Promise<InspectionReply<K>> {
    if (this.closed) return Promise.reject(new Error(`The inference session is closed (${this.closed}).`));
    return new Promise((resolve, reject) => {
      const waiting = { reject };
      this.pending.add(waiting);
      this.slot.channel.request(kind, { sessionId: this.sessionId, params }).then(
        (reply) => {
          if (!this.pending.delete(waiting)) return; // the session ended first and said why
          FOLLOW[kind]?.(this, reply);
          resolve(reply);
        },
        (error: Error) => {
          if (this.pending.delete(waiting)) reject(error);
        },
      );
    });
  }

  close(): void {
    if (this.closed) return;
    this.fail('it was closed');
    this.slot.sessions.delete(this.sessionId);
    this.slot.channel.notify('closeSession', { sessionId: this.sessionId });
  }

  handleOpened(opened: { step: number; steps: number[] }): void {
    this.step = opened.step;
    this.steps = opened.steps;
    this.resolveOpened();
  }

  handleOpenFailed(reason: string): void {
    this.closed ??= reason;
    this.slot.sessions.delete(this.sessionId);
    this.rejectOpened(new Error(reason));
  }

  /** End the session locally: pending and later requests fail with `reason`. */
  fail(reason: string): void {
    this.closed ??= reason;
    this.rejectOpened(new Error(reason));
    for (const waiting of this.pending) waiting.reject(new Error(`The inference session ended: ${reason}.`));
    this.pending.clear();
  }
}

/** Keeps the client's view of the session in step with the worker's. */
const FOLLOW: { [K in InspectionKind]?: (session: SessionRecord, reply: InspectionReply<K>) => void } = {
  load: (session, reply) => void (session.step = reply.step),
  steps: (session, reply) => void (session.steps = reply),
};

interface SlotEvents {
  log(level: LogLevel, message: string): void;
  onJobFinished(job: JobRecord, outcome: JobOutcome): void;
  onExit(slot: WorkerSlot, code: number): void;
}

/** One worker thread and what it is doing: at most one training job, any number of sessions. */
class WorkerSlot {
  job?: JobRecord;
  readonly sessions = new Map<string, SessionRecord>();
  readonly ready: Promise<BackendInfo>;
  isReady = false;
  /** Why the worker crashed, in words (e.g. out of memory), once it has. */
  crash?: string;
  private readonly exited: Promise<number>;
  private alive = true;
  readonly channel: Channel<ToWorker, FromWorker>;

  constructor(
    readonly id: number,
    private readonly worker: Worker,
    private readonly events: SlotEvents,
  ) {
    let resolveReady!: (info: BackendInfo) => void;
    let rejectReady!: (error: Error) => void;
    this.ready = new Promise((resolve, reject) => {
      resolveReady = resolve;
      rejectReady = reject;
    });
    // Whoever awaits `ready` sees the failure; an unobserved one must not crash the host.
    this.ready.catch(() => undefined);
    this.channel = new Channel<ToWorker, FromWorker>(workerPort(worker, () => this.alive), {
      onProblem: (problem) => events.log('warn', `[worker ${id}] ${problem}`),
    });
    this.channel.onNotification('ready', ({ backend }) => {
      this.isReady = true;
      resolveReady(backend);
    });
    this.channel.onNotification('progress', ({ jobId, step, totalSteps, metrics, detail }) => {
      if (this.job?.jobId === jobId) this.job.progress(step, totalSteps, metrics, detail, (m) => events.log('error', m));
    });
    this.channel.onNotification('finished', ({ jobId, state, error }) => {
      const job = this.job;
      if (job?.jobId !== jobId) return;
      this.job = undefined;
      events.onJobFinished(job, { state, ...(error ? { error } : {}) });
    });
    this.channel.onNotification('log', ({ level, message }) => events.log(level, `[worker ${id}] ${message}`));
    worker.on('error', (error) => {
      this.crash = describeWorkerError(error);
      events.log('error', `Training worker ${id} crashed: ${error.stack ?? error.message}`);
    });
    this.exited = new Promise((resolve) =>
      worker.once('exit', (code) => {
        this.alive = false;
        rejectReady(new Error(`The training worker stopped before it was ready (exit code ${code}).`));
        events.onExit(this, code); // fails the sessions first, with the reason
        this.channel.dispose();
        resolve(code);
      }),
    );
  }

  /** Ask the worker to stop cleanly; terminate it if it takes longer than `graceMs`. */
  async shutdown(graceMs: number): Promise<void> {
    if (!this.alive) return;
    this.channel.notify('shutdown', {});
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), graceMs)));
    const result = await Promise.race([this.exited, timeout]);
    clearTimeout(timer);
    if (result === 'timeout') {
      this.events.log('warn', `Training worker ${this.id} did not stop within ${graceMs} ms; terminating it.`);
      await this.worker.terminate();
      await this.exited;
    }
  }
}

/** A worker thread as a Channel port; nothing is posted once it has exited. */
function workerPort(worker: Worker, isAlive: () => boolean): Port {
  return {
    post: (envelope) => {
      if (isAlive()) worker.postMessage(envelope);
    },
    onReceive: (listener) => {
      worker.on('message', listener);
      return { dispose: () => void worker.off('message', listener) };
    },
  };
}
