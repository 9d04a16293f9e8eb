/**
 * Checkpoint folders: `checkpoints/step-00000500/` with the model weights, the optimizer state and,
 * for objectives that keep one, the objective's state (a sampler's replay buffers).
 * A checkpoint is built in a temp folder and renamed into place, so it is complete or absent.
 * checkpoint.json records the sha256 of every other file, checked on load, so a checkpoint
 * damaged later (disk, copy, hand edit) is refused instead of resumed from.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Checkpoint } from '../core/sink';
import { RunFileError, errorMessage, fsyncDir, readJsonFile, removeDirAtomic, renameWithRetry, writeFileDurable } from './atomic';
import { describeValue } from './errors';
import {
  CHECKPOINT_INFO_FILE,
  OBJECTIVE_GROUP,
  OPTIMIZER_GROUP,
  TEMP_PREFIX,
  WEIGHTS_GROUP,
  checkpointDir,
  checkpointDirName,
  checkpointsDir,
  tempSuffix,
} from './layout';
import { MAX_WEIGHTS_BYTES, assertFolderInside, readRegularFile } from './safeFiles';
import { loadNamedTensors, saveNamedTensors } from './weightsIO';
import { listCheckpointSteps } from './checkpointFolders';

export { listCheckpointSteps, pruneCheckpoints, removeCheckpointsAfter, removeStaleCheckpointTemps } from './checkpointFolders';

export async function writeCheckpoint(runDir: string, checkpoint: Checkpoint): Promise<void> {
  const parent = checkpointsDir(runDir);
  fs.mkdirSync(parent, { recursive: true });
  const finalDir = checkpointDir(runDir, checkpoint.step);
  const tempDir = path.join(parent, `${TEMP_PREFIX}${checkpointDirName(checkpoint.step)}-${tempSuffix()}`);
  fs.mkdirSync(tempDir);
  try {
    await saveNamedTensors(tempDir, WEIGHTS_GROUP, checkpoint.weights);
    await saveNamedTensors(tempDir, OPTIMIZER_GROUP, checkpoint.optimizer);
    if (checkpoint.objectiveState) await saveNamedTensors(tempDir, OBJECTIVE_GROUP, checkpoint.objectiveState);
    const info: CheckpointInfo = {
      step: checkpoint.step,
      ...(checkpoint.loop ? { loop: checkpoint.loop } : {}),
      sha256: Object.fromEntries(checksummedFiles(tempDir).map((name) => [name, sha256(path.join(tempDir, name))])),
    };
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
  assertFolderInside(runDir, dir); // checkpoints/ and step-N/ are real folders, not links out of the run
  const info = readCheckpointInfo(path.join(dir, CHECKPOINT_INFO_FILE));
  const loop = readLoopState(path.join(dir, CHECKPOINT_INFO_FILE), info);
  // Hashed after loading: loading bounds every file first (manifests by size, weight files by the
  // bytes their manifest describes), so a file grown to gigabytes is refused, not read and hashed.
  const weights = await loadNamedTensors(dir, WEIGHTS_GROUP);
  let optimizer: Checkpoint['optimizer'] = [];
  let objectiveState: Checkpoint['objectiveState'];
  try {
    optimizer = await loadNamedTensors(dir, OPTIMIZER_GROUP);
    // Bounded like the weights (by the bytes its manifest describes); its meaning is checked by the objective.
    const objectiveManifest = `${OBJECTIVE_GROUP}.json`;
    if (fs.existsSync(path.join(dir, objectiveManifest)) || info.sha256?.[objectiveManifest] !== undefined) objectiveState = await loadNamedTensors(dir, OBJECTIVE_GROUP);
    if (info.sha256) verifyChecksums(dir, info.sha256);
    return { step, weights, optimizer, ...(loop ? { loop } : {}), ...(objectiveState ? { objectiveState } : {}) };
  } catch (error) {
    for (const { tensor } of [...weights, ...optimizer, ...(objectiveState ?? [])]) tensor.dispose();
    throw error;
  }
}

/**
 * The checkpoint to resume from: the one at `step` when given (an error when it is missing or
 * damaged: the user asked for it), else the newest one that loads, skipping damaged ones with a
 * warning. Undefined when there is none that loads: the run starts again from step 0.
 */
export async function loadCheckpointToResume(runDir: string, step: number | undefined, warn: (message: string) => void): Promise<Checkpoint | undefined> {
  if (step !== undefined) return loadCheckpoint(runDir, step);
  const steps = listCheckpointSteps(runDir).reverse();
  for (const candidate of steps) {
    try {
      return await loadCheckpoint(runDir, candidate);
    } catch (error) {
      warn(`The checkpoint at step ${candidate} cannot be used (${errorMessage(error)}); trying the one before it.`);
    }
  }
  if (steps.length > 0) warn(`No checkpoint of ${runDir} can be used: the run starts again from step 0.`);
  return undefined;
}

/** The files of a checkpoint whose hash checkpoint.json records (every one but itself; the objective's only where it has state). */
const checksummedFiles = (dir: string) =>
  [WEIGHTS_GROUP, OPTIMIZER_GROUP, ...(fs.existsSync(path.join(dir, `${OBJECTIVE_GROUP}.json`)) ? [OBJECTIVE_GROUP] : [])].flatMap((group) => [`${group}.json`, `${group}.bin`]);

function sha256(file: string): string {
  return crypto.createHash('sha256').update(readRegularFile(file, MAX_WEIGHTS_BYTES)).digest('hex');
}

/** Throws a RunFileError naming the first file whose content is not what was written. */
function verifyChecksums(dir: string, recorded: Record<string, string>): void {
  for (const name of checksummedFiles(dir)) {
    const file = path.join(dir, name);
    if (typeof recorded[name] !== 'string') throw new RunFileError(path.join(dir, CHECKPOINT_INFO_FILE), `no sha256 recorded for ${name}`);
    if (sha256(file) !== recorded[name]) throw new RunFileError(file, 'content does not match the sha256 recorded when it was written (damaged)');
  }
}

/** checkpoint.json: the step, the training loop's small JSON state, and the other files' sha256. */
interface CheckpointInfo {
  step: number;
  loop?: Record<string, number>;
  /** File name -> hex sha256. Absent in checkpoints written before hashes were recorded. */
  sha256?: Record<string, string>;
}

function readCheckpointInfo(file: string): Partial<CheckpointInfo> {
  const info = readJsonFile(file) as Partial<CheckpointInfo> | null;
  if (typeof info !== 'object' || info === null || Array.isArray(info)) throw new RunFileError(file, 'expected a JSON object');
  if (info.sha256 !== undefined && (typeof info.sha256 !== 'object' || info.sha256 === null || Array.isArray(info.sha256))) {
    throw new RunFileError(file, 'field "sha256" should be an object of file name -> hex digest');
  }
  return info;
}

/** The loop state of checkpoint.json; JSON has no NaN, so a `null` written for NaN reads back as NaN. */
function readLoopState(file: string, info: Partial<CheckpointInfo>): Record<string, number> | undefined {
  if (info.loop === undefined) return undefined;
  if (typeof info.loop !== 'object' || info.loop === null || Array.isArray(info.loop)) {
    throw new RunFileError(file, 'field "loop" should be an object of numbers');
  }
  const loop: Record<string, number> = {};
  for (const [name, value] of Object.entries(info.loop as Record<string, unknown>)) {
    if (value === null) loop[name] = NaN;
    else if (typeof value === 'number') loop[name] = value;
    else throw new RunFileError(file, `loop value "${name}" should be a number, got ${describeValue(value)}`);
  }
  return loop;
}
