/**
 * Entry point of a training worker (bundled as dist/worker.js). Selects the backend, says
 * 'ready', then serves the engine's Channel (src/protocol/worker.ts): training jobs and inference
 * sessions share this one message loop, so requests and cancellations are handled between
 * training steps.
 */
import { parentPort, workerData } from 'node:worker_threads';
import '../core/labs'; // registers every task, model and objective
import type { BackendInfo, BackendSetting } from '../protocol';
import { Channel, type Port } from '../protocol/channel';
import type { FromWorker, InspectionKind, InspectionParams, InspectionReply, ToWorker } from '../protocol/worker';
import { selectBackend } from './backend';
import { INSPECTION_KINDS, InferenceSessions, NoCheckpointYetError } from './sessions';
import { modelWeightShapes, runTrainingJob } from './trainingJob';
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


/** The engine's port; what arrives waits for the backend (in order: all wait on the same promise). */
const enginePort: Port = {
  post: (envelope) => port.postMessage(envelope),
  onReceive: (listener) => {
    const receive = (message: unknown) =>
      ready.then(
        () => listener(message),
        (error: unknown) => log('error', `No TensorFlow.js backend could be started: ${errorMessage(error)}`),
      );
    port.on('message', receive);
    return { dispose: () => void port.off('message', receive) };
  },
};
const engine = new Channel<FromWorker, ToWorker>(enginePort, { onProblem: (problem) => log('warn', problem) });
const log: Log = (level, message) => engine.notify('log', { level, message });

/**
 * jobId -> stop flag polled by the training loop. `byShutdown` tells a user's Stop (the run ends
 * 'cancelled') from the window closing or reloading (the run ends 'interrupted', to be resumed).
 */
const stopFlags = new Map<string, { stop: boolean; byShutdown: boolean }>();
const running = new Set<Promise<unknown>>();
const sessions = new InferenceSessions();

let backend!: BackendInfo;
const ready: Promise<BackendInfo> = selectBackend(config.backend, {
  tfjsNodePath: config.tfjsNodePath,
  wasmDir: config.wasmDir,
}).then((selected) => {
  backend = selected;
  engine.notify('ready', { backend });
  if (backend.fallbackReason) log('warn', backend.fallbackReason);
  if (backend.kernelReason) log('info', `Some ops run on tfjs's own kernels (slower): ${backend.kernelReason}`);
  return backend;
});

// Handlers run once `ready` has resolved (enginePort), so `backend` is set; training starts within
// the message's own turn, before a 'cancel' that came right behind it is looked at.
engine.onNotification('train', (job) => void track(startTraining(job, backend)));
engine.onNotification('cancel', ({ jobId }) => {
  const flag = stopFlags.get(jobId);
  if (flag) flag.stop = true;
});
engine.onRequest('openSession', ({ sessionId, params }) => track(openSession(sessionId, params.runDir, params.step)));
engine.onRequest('weightLayout', ({ params }) => modelWeightShapes(params.spec));
for (const kind of INSPECTION_KINDS) serveInspection(kind);
engine.onNotification('closeSession', ({ sessionId }) => sessions.close(sessionId));
engine.onNotification('shutdown', () => void shutdown());

async function startTraining(job: ToWorker['notifications']['train']['params'], backend: BackendInfo): Promise<void> {
  const { jobId, runDir, resume, ownerToken, resumeStep } = job;
  const flag = { stop: false, byShutdown: false };
  stopFlags.set(jobId, flag);
  try {
    const outcome = await runTrainingJob(runDir, { resume, ownerToken, resumeStep }, {
      backend,
      workers: config.workers,
      shouldStop: () => flag.stop,
      stoppedByShutdown: () => flag.byShutdown,
      onProgress: (step, totalSteps, metrics, detail) => engine.notify('progress', { jobId, step, totalSteps, metrics, detail }),
      logError: (text) => log('error', text),
      warn: (text) => log('warn', text),
      wasmDir: config.wasmDir,
      tfjsNodePath: config.tfjsNodePath,
    });
    engine.notify('finished', { jobId, ...outcome });
  } finally {
    stopFlags.delete(jobId);
  }
}

async function openSession(sessionId: string, runDir: string, step: number | undefined): Promise<{ step: number; steps: number[] }> {
  try {
    return await sessions.open(sessionId, runDir, step);
  } catch (error) {
    // Views ask for a session as soon as a run starts; before its first checkpoint that is no error.
    if (!(error instanceof NoCheckpointYetError)) logStack(`Opening a session on ${runDir} failed`, error);
    throw new Error(errorMessage(error), { cause: error });
  }
}

/** Answers one kind of inspection request; a failure is logged with its stack and answered in words. */
function serveInspection<K extends InspectionKind>(kind: K): void {
  engine.onRequest(kind, ({ sessionId, params }) => track(answer(sessionId, kind, params)));
}

async function answer<K extends InspectionKind>(sessionId: string, kind: K, params: InspectionParams<K>): Promise<InspectionReply<K>> {
  try {
    return await sessions.request(sessionId, kind, params);
  } catch (error) {
    logStack(`Inference request '${kind}' failed`, error);
    throw new Error(errorMessage(error), { cause: error });
  }
}

/** Stop every job (runs end 'interrupted', last checkpoint kept), release sessions, leave. */
async function shutdown(): Promise<void> {
  for (const flag of stopFlags.values()) Object.assign(flag, { stop: true, byShutdown: true });
  await Promise.allSettled(running);
  sessions.closeAll();
  port.close();
}

/** Keeps `work` in `running` until it settles (shutdown waits for it), and returns it. */
function track<T>(work: Promise<T>): Promise<T> {
  running.add(work);
  void work.finally(() => running.delete(work)).catch(() => undefined);
  return work;
}

function logStack(context: string, error: unknown): void {
  log('error', `${context}: ${errorDetail(error)}`);
}
