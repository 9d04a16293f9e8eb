/**
 * Checkpoint folders: `checkpoints/step-00000500/` with the model weights and the optimizer state.
 * A checkpoint is built in a temp folder and renamed into place, so it is complete or absent.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Checkpoint } from '../core/sink';
import { RunFileError, errorCode, fsyncDir, readJsonFile, removeDirAtomic, renameWithRetry, writeFileDurable } from './atomic';
import {
  CHECKPOINT_INFO_FILE,
  OPTIMIZER_GROUP,
  TEMP_PREFIX,
  WEIGHTS_GROUP,
  checkpointDir,
  checkpointDirName,
  checkpointsDir,
  parseCheckpointDirName,
  tempSuffix,
} from './layout';
import { loadNamedTensors, saveNamedTensors } from './weightsIO';

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

export async function writeCheckpoint(runDir: string, checkpoint: Checkpoint): Promise<void> {
  const parent = checkpointsDir(runDir);
  fs.mkdirSync(parent, { recursive: true });
  const finalDir = checkpointDir(runDir, checkpoint.step);
  const tempDir = path.join(parent, `${TEMP_PREFIX}${checkpointDirName(checkpoint.step)}-${tempSuffix()}`);
  fs.mkdirSync(tempDir);
  try {
    await saveNamedTensors(tempDir, WEIGHTS_GROUP, checkpoint.weights);
    await saveNamedTensors(tempDir, OPTIMIZER_GROUP, checkpoint.optimizer);
    const info: CheckpointInfo = { step: checkpoint.step, ...(checkpoint.loop ? { loop: checkpoint.loop } : {}) };
    writeFileDurable(path.join(tempDir, CHECKPOINT_INFO_FILE), JSON.stringify(info, null, 2) + '\n');
    fsyncDir(tempDir);
    // Saving a step again (e.g. after a resume) replaces the old folder.
    if (fs.existsSync(finalDir)) removeDirAtomic(finalDir);
    renameWithRetry(tempDir, finalDir);
  } catch (error) {
    fs.rmSync(tempDir, { recursive: true, force: true });
    throw error;
  }
  fsyncDir(parent);
}

export async function loadCheckpoint(runDir: string, step: number): Promise<Checkpoint> {
  const dir = checkpointDir(runDir, step);
  if (!fs.existsSync(dir)) {
    const available = listCheckpointSteps(runDir);
    throw new RunFileError(
      dir,
      `no checkpoint for step ${step} (available: ${available.length ? available.join(', ') : 'none'})`,
    );
  }
  const loop = readLoopState(path.join(dir, CHECKPOINT_INFO_FILE));
  const weights = await loadNamedTensors(dir, WEIGHTS_GROUP);
  try {
    const optimizer = await loadNamedTensors(dir, OPTIMIZER_GROUP);
    return { step, weights, optimizer, ...(loop ? { loop } : {}) };
  } catch (error) {
    for (const { tensor } of weights) tensor.dispose();
    throw error;
  }
}

/** checkpoint.json: the step and the training loop's small JSON state. */
interface CheckpointInfo {
  step: number;
  loop?: Record<string, number>;
}

/** The loop state of checkpoint.json; JSON has no NaN, so a `null` written for NaN reads back as NaN. */
function readLoopState(file: string): Record<string, number> | undefined {
  const info = readJsonFile(file) as Partial<CheckpointInfo> | null;
  if (typeof info !== 'object' || info === null) throw new RunFileError(file, 'expected a JSON object');
  if (info.loop === undefined) return undefined;
  if (typeof info.loop !== 'object' || info.loop === null || Array.isArray(info.loop)) {
    throw new RunFileError(file, 'field "loop" should be an object of numbers');
  }
  const loop: Record<string, number> = {};
  for (const [name, value] of Object.entries(info.loop as Record<string, unknown>)) {
    if (value === null) loop[name] = NaN;
    else if (typeof value === 'number') loop[name] = value;
    else throw new RunFileError(file, `loop value "${name}" should be a number, got ${JSON.stringify(value)}`);
  }
  return loop;
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
