/**
 * Entry point of a training worker (bundled as dist/worker.js). Selects the backend, says
 * 'ready', then serves ToWorker messages: training jobs and inference sessions share this one
 * message loop, so requests and cancellations are handled between training steps.
 */
import { parentPort, workerData } from 'node:worker_threads';
import '../core/labs'; // registers every task, model and objective
import type { BackendInfo, BackendSetting, FromWorker, InferenceRequest, ToWorker } from '../protocol';
import { selectBackend } from './backend';
import { InferenceSessions, NoCheckpointYetError } from './sessions';
import { runTrainingJob } from './trainingJob';
import { errorDetail, errorMessage } from '../shared/errors';
import type { Log } from '../shared/log';

/** What the engine passes to every worker it starts. */
export interface EngineWorkerData {
  backend: BackendSetting;
  tfjsNodePath?: string;
  wasmDir: string;
  /** Worker threads the engine runs (recorded with each run's environment). */
  workers: number;
}

if (!parentPort) throw new Error('src/engine/worker.ts must run in a worker thread.');
const port = parentPort;
const config = workerData as EngineWorkerData;

const post = (message: FromWorker): void => port.postMessage(message);
const log: Log = (level, message) => post({ type: 'log', level, message });

/**
 * jobId -> stop flag polled by the training loop. `byShutdown` tells a user's Stop (the run ends
 * 'cancelled') from the window closing or reloading (the run ends 'interrupted', to be resumed).
 */
const stopFlags = new Map<string, { stop: boolean; byShutdown: boolean }>();
const running = new Set<Promise<unknown>>();
const sessions = new InferenceSessions();

const ready: Promise<BackendInfo> = selectBackend(config.backend, {
  tfjsNodePath: config.tfjsNodePath,
  wasmDir: config.wasmDir,
}).then((backend) => {
  post({ type: 'ready', backend });
  if (backend.fallbackReason) log('warn', backend.fallbackReason);
  if (backend.kernelReason) log('info', `Some ops run on tfjs's own kernels (slower): ${backend.kernelReason}`);
  return backend;
});

// Messages wait for the backend; they keep their order because they all wait on the same promise.
port.on('message', (message: ToWorker) => {
  ready.then(
    (backend) => handle(message, backend),
    (error: unknown) => log('error', `No TensorFlow.js backend could be started: ${errorMessage(error)}`),
  );
});

function handle(message: ToWorker, backend: BackendInfo): void {
  switch (message.type) {
    case 'train':
      track(startTraining(message, backend));
      return;
    case 'cancel': {
      const flag = stopFlags.get(message.jobId);
      if (flag) flag.stop = true;
      return;
    }
    case 'openSession':
      track(openSession(message.sessionId, message.runDir, message.step));
      return;
    case 'sessionRequest':
      track(answer(message.sessionId, message.requestId, message.request));
      return;
    case 'closeSession':
      sessions.close(message.sessionId);
      return;
    case 'shutdown':
      void shutdown();
      return;
  }
}

async function startTraining(message: Extract<ToWorker, { type: 'train' }>, backend: BackendInfo): Promise<void> {
  const { jobId, runDir, resume, ownerToken, resumeStep } = message;
  const flag = { stop: false, byShutdown: false };
  stopFlags.set(jobId, flag);
  try {
    const outcome = await runTrainingJob(runDir, { resume, ownerToken, resumeStep }, {
      backend,
      workers: config.workers,
      shouldStop: () => flag.stop,
      stoppedByShutdown: () => flag.byShutdown,
      onProgress: (step, totalSteps, metrics) => post({ type: 'progress', jobId, step, totalSteps, metrics }),
      logError: (text) => log('error', text),
      warn: (text) => log('warn', text),
      wasmDir: config.wasmDir,
      tfjsNodePath: config.tfjsNodePath,
    });
    post({ type: 'finished', jobId, ...outcome });
  } finally {
    stopFlags.delete(jobId);
  }
}

async function openSession(sessionId: string, runDir: string, step: number | undefined): Promise<void> {
  try {
    const opened = await sessions.open(sessionId, runDir, step);
    post({ type: 'sessionOpened', sessionId, ...opened });
  } catch (error) {
    // Views ask for a session as soon as a run starts; before its first checkpoint that is no error.
    if (!(error instanceof NoCheckpointYetError)) logStack(`Opening a session on ${runDir} failed`, error);
    post({ type: 'sessionOpened', sessionId, step: -1, steps: [], error: errorMessage(error) });
  }
}

async function answer(sessionId: string, requestId: number, request: InferenceRequest): Promise<void> {
  try {
    const result = await sessions.request(sessionId, request);
    // Posting clones the result; a value that cannot be cloned must still get an answer.
    post({ type: 'sessionReply', sessionId, requestId, result });
  } catch (error) {
    logStack(`Inference request '${request.kind}' failed`, error);
    post({ type: 'sessionReply', sessionId, requestId, error: errorMessage(error) });
  }
}

/** Stop every job (runs end 'interrupted', last checkpoint kept), release sessions, leave. */
async function shutdown(): Promise<void> {
  for (const flag of stopFlags.values()) Object.assign(flag, { stop: true, byShutdown: true });
  await Promise.allSettled(running);
  sessions.closeAll();
  port.close();
}

function track(work: Promise<unknown>): void {
  running.add(work);
  void work.finally(() => running.delete(work)).catch(() => undefined);
}

function logStack(context: string, error: unknown): void {
  log('error', `${context}: ${errorDetail(error)}`);
}
