/**
 * One training job inside a worker: from a run folder the host created to a final state.
 * The run store records everything on disk; the host only hears progress and the outcome.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { gradientWorkersOf, type GradientPeer } from '../core/gradientShards';
import { buildExperiment } from '../core/experiment';
import { disposeExperiment, train } from '../core/train';
import type { InitSpec, ResolvedSpec } from '../core/spec/types';
import type { WeightShape } from '../core/weightLayout';
import type { Checkpoint, NamedTensor } from '../core/sink';
import type { BackendInfo, MetricRecord } from '../protocol';
import type { JobProgressDetail } from '../protocol/worker';
import { loadCheckpoint, loadCheckpointToResume } from '../runs/checkpoints';
import { isPlainFileName } from '../runs/safeFiles';
import { readSpec } from '../runs/reader';
import { DiskRunSink, recordEnvironment } from '../runs/store';
import { errorDetail, errorMessage } from '../shared/errors';
import { runEnvironment } from './environment';
import { WorkerGradientPeer } from './gradientPeer';

export interface TrainingJobContext {
  backend: BackendInfo;
  /** Worker threads the engine was configured with (recorded with the run). */
  workers: number;
  shouldStop: () => boolean;
  /** True when the stop came from the engine shutting down (window reload or close), not a user. */
  stoppedByShutdown: () => boolean;
  onProgress: (step: number, totalSteps: number, records: MetricRecord[], detail: JobProgressDetail) => void;
  /** Details for the log only (stack traces never reach the user-facing error). */
  logError: (message: string) => void;
  /** Something the user should know that does not stop the job (a damaged checkpoint skipped). */
  warn: (message: string) => void;
  /** Where a gradient worker (training.gradientWorkers = 2) finds the backend's files. */
  wasmDir: string;
  tfjsNodePath?: string;
}

export type TrainingOutcome = { state: 'completed' | 'cancelled' | 'failed'; error?: string };

export interface TrainingJobRun {
  /** Continue from a checkpoint (the newest usable one, or `resumeStep`'s) instead of starting afresh. */
  resume: boolean;
  /** The owner lock the engine holds for this job (see DiskRunSink's ownerToken). */
  ownerToken: string;
  resumeStep?: number;
}

export async function runTrainingJob(runDir: string, run: TrainingJobRun, context: TrainingJobContext): Promise<TrainingOutcome> {
  let sink: DiskRunSink | undefined;
  let resumeFrom: Checkpoint | undefined;
  let initWeights: NamedTensor[] | undefined;
  let gradientPeer: GradientPeer | undefined;
  try {
    const spec = readSpec(runDir);
    sink = new DiskRunSink(runDir, { ownerToken: run.ownerToken });
    recordEnvironment(runDir, runEnvironment(context.backend, context.workers));
    sink.setState('running');
    // Resuming a run that never reached a (usable) checkpoint starts it from the beginning.
    if (run.resume) resumeFrom = await loadCheckpointToResume(runDir, run.resumeStep, context.warn);
    // A run with `init` starts from that run's weights; resumed, from its own checkpoint instead.
    if (!resumeFrom && spec.init) initWeights = await loadInitWeights(runDir, spec.init);

    const totalSteps = spec.training.steps;
    if (gradientWorkersOf(spec) > 1) {
      gradientPeer = new WorkerGradientPeer(spec, { backend: context.backend.name, wasmDir: context.wasmDir, tfjsNodePath: context.tfjsNodePath });
    }
    const result = await train({
      spec,
      sink,
      resumeFrom,
      ...(initWeights ? { initWeights } : {}),
      gradientPeer,
      shouldStop: context.shouldStop,
      // train() appends the records through the sink, then reports them: the sink knows where they went.
      onProgress: (step, records) =>
        context.onProgress(step, totalSteps, records, {
          ...(sink?.lastAppended ? { metrics: sink.lastAppended } : {}),
          ...(records.length > 0 ? { elapsedMs: records[records.length - 1].time } : {}),
        }),
    });
    // A run stopped because VS Code went away is resumable work, not a user's decision to stop.
    const interrupted = result.state === 'cancelled' && context.stoppedByShutdown();
    sink.setState(interrupted ? 'interrupted' : result.state);
    return { state: result.state };
  } catch (error) {
    const message = errorMessage(error);
    context.logError(`Training ${runDir} failed: ${errorDetail(error)}`);
    markFailed(runDir, sink, run.ownerToken, message, context.logError);
    return { state: 'failed', error: message };
  } finally {
    await gradientPeer?.dispose();
    closeQuietly(sink, context.logError);
    // Checkpoint tensors are owned by the caller; train() has copied what it needs by now.
    if (resumeFrom) tf.dispose([...resumeFrom.weights, ...resumeFrom.optimizer, ...(resumeFrom.objectiveState ?? [])].map((named) => named.tensor));
    if (initWeights) tf.dispose(initWeights.map((named) => named.tensor));
  }
}

/**
 * The model weights of the checkpoint `init` names: a run beside this one (the launch resolved
 * its step). Its files are checked as a resume's are (sha256); a missing one says which run and
 * step. The rest of the checkpoint (optimizer, objective state) is not used: freed at once.
 */
async function loadInitWeights(runDir: string, init: InitSpec): Promise<NamedTensor[]> {
  if (!isPlainFileName(init.run) || init.step === undefined) {
    throw new Error(`spec.json's init ${JSON.stringify(init).slice(0, 200)} is not a run id with a resolved step`);
  }
  const from = path.join(path.dirname(runDir), init.run);
  try {
    if (!fs.lstatSync(from).isDirectory()) throw new Error('not a run folder');
    const { weights, ...unused } = await loadCheckpoint(from, init.step);
    tf.dispose(Object.values(unused).flatMap((value) => (Array.isArray(value) ? (value as NamedTensor[]).map((named) => named.tensor) : [])));
    return weights;
  } catch (error) {
    throw new Error(`cannot start from run ${init.run} at step ${init.step} (init): ${errorMessage(error)}`, { cause: error });
  }
}

/** The weight names and shapes of the model `spec` builds (built, read, disposed). */
export function modelWeightShapes(spec: ResolvedSpec): WeightShape[] {
  const experiment = buildExperiment(spec);
  try {
    return experiment.model.parameters.map(({ name, variable }) => ({ name, shape: variable.shape }));
  } finally {
    disposeExperiment(experiment);
  }
}

/** Record the failure in the run's status, with a fresh sink if the failure came before one existed. */
function markFailed(runDir: string, sink: DiskRunSink | undefined, ownerToken: string, message: string, logError: (m: string) => void): void {
  let owned: DiskRunSink | undefined;
  try {
    const target = sink ?? (owned = new DiskRunSink(runDir, { ownerToken }));
    target.setState('failed', message);
  } catch (error) {
    logError(`Could not mark ${runDir} as failed: ${errorMessage(error)}`);
  } finally {
    closeQuietly(owned, logError);
  }
}

function closeQuietly(sink: DiskRunSink | undefined, logError: (m: string) => void): void {
  try {
    sink?.close();
  } catch (error) {
    logError(`Could not close the run store: ${errorMessage(error)}`);
  }
}
