/**
 * Inference sessions inside a worker: a trained model loaded at one checkpoint, answering
 * inspection requests between training steps (same message loop as training jobs).
 */
import * as tf from '@tensorflow/tfjs';
import { openInference, type InferenceSession } from '../core/inference';
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
    void session.tail.then(() => session.inference.dispose());
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
      default:
        throw new Error(`Unknown inference request kind: ${(request as { kind?: unknown }).kind}`);
    }
  }
}

function chooseStep(where: string, steps: number[], step: number | undefined): number {
  if (steps.length === 0) throw new Error(`No checkpoint saved yet in ${where}: train it until its first checkpoint.`);
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
