/**
 * Entry of a short-lived thread (bundled as dist/sweepExpansion.js) that expands and validates
 * one sweep file (its text, when the caller has read it already), so that a large grid never
 * blocks the VS Code extension host.
 * Answers once: the loaded sweep, or the located problems.
 */
import { parentPort, workerData } from 'node:worker_threads';
import '../core/labs'; // registers every task, model and objective the members are validated against
import { SpecError } from '../core/spec/types';
import { loadSweepFile, sweepFromText } from '../core/spec/validate';
import { errorMessage } from '../shared/errors';
import type { SweepExpansionReply } from './sweepExpansion';

const { specFile, text } = workerData as { specFile: string; text?: string };
let reply: SweepExpansionReply;
try {
  reply = { ok: true, loaded: text !== undefined ? sweepFromText(text, specFile) : loadSweepFile(specFile) };
} catch (error) {
  reply = error instanceof SpecError
    ? { ok: false, problems: error.problems }
    : { ok: false, message: errorMessage(error) };
}
parentPort!.postMessage(reply);
