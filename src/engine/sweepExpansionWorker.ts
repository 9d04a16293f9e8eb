/**
 * Entry of a short-lived thread (bundled as dist/sweepExpansion.js) that reads, expands and
 * validates one sweep file, so that a large grid never blocks the VS Code extension host.
 * Answers once: the loaded sweep, or the located problems.
 */
import { parentPort, workerData } from 'node:worker_threads';
import '../core/labs'; // registers every task, model and objective the members are validated against
import { SpecError } from '../core/spec/types';
import { loadSweepFile } from '../core/spec/validate';
import { errorMessage } from '../shared/errors';
import type { SweepExpansionReply } from './sweepExpansion';

const { specFile } = workerData as { specFile: string };
let reply: SweepExpansionReply;
try {
  reply = { ok: true, loaded: loadSweepFile(specFile) };
} catch (error) {
  reply = error instanceof SpecError
    ? { ok: false, problems: error.problems }
    : { ok: false, message: errorMessage(error) };
}
parentPort!.postMessage(reply);
