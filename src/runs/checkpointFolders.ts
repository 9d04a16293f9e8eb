/**
 * The checkpoint folders of a run as folders: which steps exist, pruning the oldest, dropping the
 * ones after a step, sweeping up temp folders. No tensors, so no TensorFlow.js: the run writer's
 * status side (src/runs/runFolder.ts), which the extension host loads, needs only these.
 * Writing and loading a checkpoint's tensors is src/runs/checkpoints.ts.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { errorCode, removeDirAtomic } from './atomic';
import { TEMP_PREFIX, checkpointDir, checkpointsDir, parseCheckpointDirName } from './layout';

/** Steps of the complete checkpoints of a run, ascending. */
export function listCheckpointSteps(runDir: string): number[] {
  let names: string[];
  try {
    names = fs.readdirSync(checkpointsDir(runDir));
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return [];
    throw error;
  }
  return names
    .map(parseCheckpointDirName)
    .filter((step): step is number => step !== undefined)
    .sort((a, b) => a - b);
}

/** Remove the checkpoints after `step` (resuming from `step` abandons them), newest first. */
export function removeCheckpointsAfter(runDir: string, step: number): void {
  for (const later of listCheckpointSteps(runDir).filter((s) => s > step).reverse()) {
    removeDirAtomic(checkpointDir(runDir, later));
  }
}

/** Keep the newest `keep` checkpoints; older ones are removed (never seen half-deleted). */
export function pruneCheckpoints(runDir: string, keep: number): number[] {
  const steps = listCheckpointSteps(runDir);
  const doomed = steps.slice(0, Math.max(0, steps.length - keep));
  for (const step of doomed) removeDirAtomic(checkpointDir(runDir, step));
  return doomed;
}

/** Remove temp folders a killed writer left behind. Only the process that owns the run may call this. */
export function removeStaleCheckpointTemps(runDir: string): void {
  let names: string[];
  try {
    names = fs.readdirSync(checkpointsDir(runDir));
  } catch {
    return;
  }
  for (const name of names) {
    if (name.startsWith(TEMP_PREFIX)) {
      fs.rmSync(path.join(checkpointsDir(runDir), name), { recursive: true, force: true });
    }
  }
}
