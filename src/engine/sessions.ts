/**
 * Inference sessions inside a worker: a trained model loaded at one checkpoint, answering
 * inspection requests between training steps (same message loop as training jobs). The requests
 * every session answers (example, steps, load, splits) are here; a lab's own requests go to the
 * handler its runtime registers (src/core/labs.ts), never through a switch on lab names.
 */
import * as tf from '@tensorflow/tfjs';
import { openInference, type InferenceSession } from '../core/inference';
import type { InspectionSession } from '../core/inspection';
import { labOf } from '../core/labList';
import { inspectionRequest, inspectionRequestKinds } from '../core/labs';
import type { CheckpointSource } from '../core/sink';
import type { ResolvedSpec } from '../core/spec/types';
import type { InspectionKind, InspectionParams, InspectionReply, SessionRequests } from '../protocol/worker';
import { checkpointSource } from '../runs/checkpointSource';
import { readSpec } from '../runs/reader';

/** A value a lab keeps for a session at one step (InspectionSession.atStep). */
interface StepValue {
  step: number;
  value: Promise<unknown>;
  dispose: (value: unknown) => void;
}

interface OpenSession {
  spec: ResolvedSpec;
  source: CheckpointSource;
  inference: InferenceSession;
  /** Requests of one session run one after another ('load' swaps the model under 'example'). */
  tail: Promise<unknown>;
  /** Values labs keep per step (e.g. the Posterior panel's network), rebuilt when the step changes. */
  atStep: Map<string, StepValue>;
}

/** What every session answers, whatever its lab. */
type SessionHandlers = {
  [K in keyof SessionRequests]: (session: OpenSession, params: SessionRequests[K]['params']) => Promise<SessionRequests[K]['reply']> | SessionRequests[K]['reply'];
};

const SESSION_HANDLERS: SessionHandlers = {
  example: (session, { split, index }) => session.inference.example(split, index),
  steps: (session) => session.source.steps(),
  async load(session, { step }) {
    const chosen = chooseStep('this run', session.source.steps(), step);
    const next = await load(session.spec, session.source, chosen);
    session.inference.dispose();
    session.inference = next;
    return { step: next.step };
  },
  splits: (session) => [...session.inference.splits],
};

/** Every kind of request a session answers: its own, then every lab's (the worker serves one method per kind). */
export const INSPECTION_KINDS = [...Object.keys(SESSION_HANDLERS), ...inspectionRequestKinds()] as readonly InspectionKind[];

export class InferenceSessions {
  private readonly sessions = new Map<string, OpenSession>();

  async open(sessionId: string, runDir: string, step?: number): Promise<{ step: number; steps: number[] }> {
    if (this.sessions.has(sessionId)) throw new Error(`Session ${sessionId} is already open.`);
    const spec = readSpec(runDir);
    const source = checkpointSource(runDir);
    const steps = source.steps();
    const chosen = chooseStep(runDir, steps, step);
    const inference = await load(spec, source, chosen);
    this.sessions.set(sessionId, { spec, source, inference, tail: Promise.resolve(), atStep: new Map() });
    return { step: inference.step, steps };
  }

  /** Answer one request; requests of the same session are answered in the order they came. */
  request<K extends InspectionKind>(sessionId: string, kind: K, params: InspectionParams<K>): Promise<InspectionReply<K>> {
    const session = this.sessions.get(sessionId);
    if (!session) return Promise.reject(new Error(`Session ${sessionId} is not open (it was closed or never opened).`));
    const answer = session.tail.then(() => answerRequest(session, kind, params));
    session.tail = answer.catch(() => undefined);
    return answer as Promise<InspectionReply<K>>;
  }

  close(sessionId: string): void {
    const session = this.sessions.get(sessionId);
    if (!session) return;
    this.sessions.delete(sessionId);
    // Let a request in flight finish before the model goes away.
    void session.tail.then(() => {
      session.inference.dispose();
      for (const kept of session.atStep.values()) void kept.value.then(kept.dispose, () => undefined);
    });
  }

  closeAll(): void {
    for (const id of [...this.sessions.keys()]) this.close(id);
  }
}

/**
 * The session's own requests by their handler; a lab's through the registry, refused with a
 * clear message for a run of another lab (its handler would fail deep inside on the wrong model).
 */
async function answerRequest(session: OpenSession, kind: string, params: unknown): Promise<unknown> {
  if (Object.hasOwn(SESSION_HANDLERS, kind)) {
    const handler = SESSION_HANDLERS[kind as keyof SessionHandlers] as (session: OpenSession, params: unknown) => unknown;
    return handler(session, params);
  }
  const registered = inspectionRequest(kind);
  if (!registered) {
    throw new Error(`Unknown inference request kind: ${kind} (known: ${INSPECTION_KINDS.join(', ')})`);
  }
  const lab = labOf(session.spec);
  if (lab?.id !== registered.lab) {
    throw new Error(`Inference request '${kind}' is for runs of the ${registered.lab} lab; this run (task '${session.spec.task.name}', model '${session.spec.model.name}') is ${lab ? `of the ${lab.id} lab` : 'of no lab'}`);
  }
  return registered.handle(inspectionView(session), params);
}

/** What a lab's handler sees of a session. */
function inspectionView(session: OpenSession): InspectionSession {
  return {
    spec: session.spec,
    source: session.source,
    inference: session.inference,
    atStep<T>(key: string, build: () => Promise<T>, dispose: (value: T) => void): Promise<T> {
      const kept = session.atStep.get(key);
      if (kept?.step === session.inference.step) return kept.value as Promise<T>;
      if (kept) void kept.value.then(kept.dispose, () => undefined);
      const value = build();
      session.atStep.set(key, { step: session.inference.step, value, dispose: dispose as (value: unknown) => void });
      // A failed build is not kept: the next request tries again.
      value.catch(() => session.atStep.get(key)?.value === value && session.atStep.delete(key));
      return value;
    },
  };
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
