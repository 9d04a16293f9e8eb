/**
 * Inference sessions inside a worker: a trained model loaded at one checkpoint, answering
 * inspection requests between training steps (same message loop as training jobs).
 */
import * as tf from '@tensorflow/tfjs';
import { attentionExample, MAX_SUMMARY_EXAMPLES, SelectionSummaryBuilder, truthRetrievalsOf } from '../core/retrieval/attentionSummary';
import { openInference, type InferenceSession } from '../core/inference';
import { classAverages } from '../core/relational/panelData';
import { calibrationForPanel } from '../core/posterior/panelCalibration';
import { openPosteriorPanelModel, posteriorForData, referenceForData, simulatedExample, type PosteriorPanelModel } from '../core/posterior/panelData';
import type { CheckpointSource } from '../core/sink';
import type { ResolvedSpec } from '../core/spec/types';
import type { InferenceRequest } from '../protocol';
import { checkpointSource, readSpec } from '../runs/reader';

interface OpenSession {
  spec: ResolvedSpec;
  source: CheckpointSource;
  inference: InferenceSession;
  /** Requests of one session run one after another ('load' swaps the model under 'example'). */
  tail: Promise<unknown>;
  /** The Posterior panel's network, loaded on its first request, reloaded when the step changes. */
  posterior?: PosteriorPanelModel;
}

export class InferenceSessions {
  private readonly sessions = new Map<string, OpenSession>();

  async open(sessionId: string, runDir: string, step?: number): Promise<{ step: number; steps: number[] }> {
    if (this.sessions.has(sessionId)) throw new Error(`Session ${sessionId} is already open.`);
    const spec = readSpec(runDir);
    const source = checkpointSource(runDir);
    const steps = source.steps();
    const chosen = chooseStep(runDir, steps, step);
    const inference = await load(spec, source, chosen);
    this.sessions.set(sessionId, { spec, source, inference, tail: Promise.resolve() });
    return { step: inference.step, steps };
  }

  /** Answer one request; requests of the same session are answered in the order they came. */
  request(sessionId: string, request: InferenceRequest): Promise<unknown> {
    const session = this.sessions.get(sessionId);
    if (!session) return Promise.reject(new Error(`Session ${sessionId} is not open (it was closed or never opened).`));
    const answer = session.tail.then(() => this.answer(session, request));
    session.tail = answer.catch(() => undefined);
    return answer;
  }

  close(sessionId: string): void {
    const session = this.sessions.get(sessionId);
    if (!session) return;
    this.sessions.delete(sessionId);
    // Let a request in flight finish before the model goes away.
    void session.tail.then(() => {
      session.inference.dispose();
      session.posterior?.dispose();
    });
  }

  closeAll(): void {
    for (const id of [...this.sessions.keys()]) this.close(id);
  }

  private async answer(session: OpenSession, request: InferenceRequest): Promise<unknown> {
    switch (request.kind) {
      case 'example':
        return session.inference.example(request.split, request.index);
      case 'steps':
        return session.source.steps();
      case 'load': {
        const chosen = chooseStep('this run', session.source.steps(), request.step);
        const next = await load(session.spec, session.source, chosen);
        session.inference.dispose();
        session.inference = next;
        return { step: next.step };
      }
      case 'splits':
        return [...session.inference.splits];
      case 'attentionExample':
        return attentionExample(session.inference.example(request.split, request.index), truthRetrievalsOf(session.spec.task));
      case 'selectionSummary':
        return summarizeExamples(session, request.split, request.examples);
      case 'similarityAverages':
        return similarityAverages(session, request.split, request.perKind);
      case 'posteriorSamples': {
        const { data, samples, seed, view } = request;
        return posteriorForData(await posteriorPanelOf(session), data, { samples, seed, view });
      }
      case 'posteriorReference':
        return referenceForData(await posteriorPanelOf(session), request.data, { samples: request.samples });
      case 'posteriorCalibration':
        return calibrationForPanel(await posteriorPanelOf(session));
      case 'posteriorExample':
        return simulatedExample(await posteriorPanelOf(session), request.index);
      default:
        throw new Error(`Unknown inference request kind: ${(request as { kind?: unknown }).kind}`);
    }
  }
}

/** The Attention composition panel's summary: examples 0 .. count-1 of a split, one at a time. */
function summarizeExamples(session: OpenSession, split: string, count: number) {
  if (!Number.isInteger(count) || count < 1 || count > MAX_SUMMARY_EXAMPLES) {
    throw new Error(`selectionSummary: examples must be a whole number from 1 to ${MAX_SUMMARY_EXAMPLES}, got ${count}`);
  }
  const truthRetrievals = truthRetrievalsOf(session.spec.task);
  const builder = new SelectionSummaryBuilder(truthRetrievals);
  for (let index = 0; index < count; index++) {
    builder.add(attentionExample(session.inference.example(split, index), truthRetrievals));
  }
  return builder.result();
}

/** The Posterior panel's model at the session's current step (a second copy of the weights, built on first use). */
async function posteriorPanelOf(session: OpenSession): Promise<PosteriorPanelModel> {
  if (session.posterior?.step === session.inference.step) return session.posterior;
  session.posterior?.dispose();
  session.posterior = undefined;
  const checkpoint = await session.source.load(session.inference.step);
  try {
    session.posterior = openPosteriorPanelModel(session.spec, checkpoint);
  } finally {
    tf.dispose([...checkpoint.weights, ...checkpoint.optimizer].map((named) => named.tensor));
  }
  return session.posterior;
}

/** The similarity panel's class averages: at most 256 trials per kind, drawn in the worker. */
function similarityAverages(session: OpenSession, split: string, perKind: number) {
  if (!Number.isInteger(perKind) || perKind < 1 || perKind > 256) {
    throw new Error(`similarityAverages: perKind must be a whole number from 1 to 256, got ${perKind}`);
  }
  return classAverages((index) => session.inference.example(split, index), perKind, perKind * 16);
}

/** A run that has not saved a checkpoint yet: an expected state early in every run, not a failure. */
export class NoCheckpointYetError extends Error {}

function chooseStep(where: string, steps: number[], step: number | undefined): number {
  if (steps.length === 0) throw new NoCheckpointYetError(`No checkpoint saved yet in ${where}: train it until its first checkpoint.`);
  if (step === undefined) return steps[steps.length - 1];
  if (!steps.includes(step)) {
    throw new Error(`No checkpoint at step ${step} in ${where}; available steps: ${steps.join(', ')}.`);
  }
  return step;
}

/** The checkpoint's tensors are ours (CheckpointSource contract); the model copies them. */
async function load(spec: ResolvedSpec, source: CheckpointSource, step: number): Promise<InferenceSession> {
  const checkpoint = await source.load(step);
  try {
    return await openInference(spec, checkpoint);
  } finally {
    tf.dispose([...checkpoint.weights, ...checkpoint.optimizer].map((named) => named.tensor));
  }
}
