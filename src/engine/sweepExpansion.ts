/**
 * Expanding a sweep file off the calling thread: the VS Code host asks a short-lived worker
 * (src/engine/sweepExpansionWorker.ts) to read, expand and validate it, and gets the same result
 * (or the same SpecError) that loadSweepFile would give in-thread.
 */
import { SpecError, type SpecProblem } from '../core/spec/types';
import type { LoadedSweep } from '../core/spec/validate';
import { describeWorkerError, startLimitedWorker } from './workerLimits';

export type SweepExpansionReply = { ok: true; loaded: LoadedSweep } | { ok: false; problems?: SpecProblem[]; message?: string };

/**
 * `loadSweepFile(specFile)` in a worker thread running `workerScript` (dist/sweepExpansion.js);
 * with `text` (the file already read by the caller), `sweepFromText(text, specFile)`.
 */
export async function expandSweepOffThread(specFile: string, workerScript: string, text?: string): Promise<LoadedSweep> {
  const worker = startLimitedWorker(workerScript, { workerData: { specFile, ...(text !== undefined ? { text } : {}) } });
  const answered = new Promise<SweepExpansionReply>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', (error) => reject(new Error(`expanding the sweep failed: ${describeWorkerError(error)}`)));
    worker.once('exit', (code) => reject(new Error(`expanding the sweep failed: its thread exited (code ${code}) without an answer`)));
  });
  let reply: SweepExpansionReply;
  try {
    reply = await answered;
  } finally {
    await worker.terminate();
  }
  if (reply.ok) return reply.loaded;
  if (reply.problems) throw new SpecError(specFile, reply.problems);
  throw new Error(reply.message ?? 'expanding the sweep failed');
}
