/**
 * Starting a run, shared by the CLI and the VS Code host: validate the spec file, create the
 * run folder (complete or not at all), queue it on the engine. Errors are SpecError (located
 * problems in the spec file) or plain Errors with a sentence for the user.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadSpecFile, loadSweepFile } from '../core/spec/validate';
import { SWEEP_FILE, SWEEP_RECORD_VERSION, type SweepMemberRecord, type SweepRecord } from '../core/sweep';
import { writeJsonAtomic, renameWithRetry, fsyncDir } from '../runs/atomic';
import { TEMP_PREFIX, tempSuffix } from '../runs/layout';
import { SpecError, type ResolvedSpec } from '../core/spec/types';
import { createRun } from '../runs/store';
import { runEnvironment } from './environment';
import type { Engine, TrainingJob } from './engine';

export interface LaunchOptions {
  specFile: string;
  runsDir: string;
  /** Overrides `training.steps` (recorded in the run's resolved spec). */
  steps?: number;
  workers: number;
}

export interface LaunchedRun {
  runDir: string;
  spec: ResolvedSpec;
  job: TrainingJob;
}

/** The runs folder cannot be written: the user's input (a setting or --out) needs changing. */
export class RunFolderError extends Error {}

export function resolveSpecWithOverrides(specFile: string, steps?: number): ResolvedSpec {
  const spec = loadSpecFile(specFile);
  if (steps === undefined) return spec;
  if (!Number.isInteger(steps) || steps < 1) {
    throw new SpecError(specFile, [{ path: '/training/steps', message: `--steps must be an integer >= 1, got ${steps}` }]);
  }
  return { ...spec, training: { ...spec.training, steps } };
}

export async function launchRun(engine: Engine, options: LaunchOptions): Promise<LaunchedRun> {
  const spec = resolveSpecWithOverrides(options.specFile, options.steps);
  const backend = await engine.backendInfo();
  let runDir: string;
  try {
    runDir = createRun(options.runsDir, spec, {
      specFile: options.specFile,
      environment: runEnvironment(backend, options.workers),
    });
  } catch (error) {
    throw new RunFolderError((error as Error).message);
  }
  return { runDir, spec, job: engine.startTraining(runDir, false) };
}

// ---------------------------------------------------------------------------------------------
// Sweeps: one folder with sweep.json, the members ordinary runs beside it.
//
//   <runsDir>/<yyyymmdd-hhmmss>-<sweep name>/sweep.json        the resolved sweep + member run ids
//   <runsDir>/<yyyymmdd-hhmmss>-<sweep name>.<label>/          each member: a run like any other
//
// Members stay at the top of the runs folder so that listing, reading, resuming and deleting a
// member is exactly that of a run; the Runs view groups them under their sweep by sweep.json.

export interface LaunchedSweep {
  sweepDir: string;
  record: SweepRecord;
  /** In grid order (seeds fastest), the order they were queued in. */
  members: (LaunchedRun & { member: SweepMemberRecord })[];
}

/**
 * Validates the sweep file and every member (SpecError with located problems), creates the
 * member runs and the sweep folder, and queues the members on the engine (which runs as many at
 * once as it has workers).
 */
export async function launchSweep(engine: Pick<Engine, 'startTraining' | 'backendInfo'>, options: LaunchOptions): Promise<LaunchedSweep> {
  const { sweep, members } = loadSweepFile(options.specFile);
  if (options.steps !== undefined && (!Number.isInteger(options.steps) || options.steps < 1)) {
    throw new SpecError(options.specFile, [{ path: '/base/training/steps', message: `--steps must be an integer >= 1, got ${options.steps}` }]);
  }
  const backend = await engine.backendInfo();
  const environment = runEnvironment(backend, options.workers);
  const created: { member: SweepMemberRecord; runDir: string; spec: ResolvedSpec }[] = [];
  try {
    for (const member of members) {
      const spec = options.steps === undefined ? member.spec : { ...member.spec, training: { ...member.spec.training, steps: options.steps } };
      const runDir = createRun(options.runsDir, spec, { specFile: options.specFile, environment });
      const { spec: _spec, ...plain } = member;
      created.push({ member: { ...plain, runId: path.basename(runDir) }, runDir, spec });
    }
  } catch (error) {
    throw new RunFolderError((error as Error).message);
  }
  const createdAt = new Date();
  const record: Omit<SweepRecord, 'id'> = {
    formatVersion: SWEEP_RECORD_VERSION,
    name: sweep.name,
    specFile: options.specFile,
    createdAt: createdAt.toISOString(),
    ...(options.steps !== undefined ? { stepsOverride: options.steps } : {}),
    sweep,
    members: created.map((c) => c.member),
  };
  let sweepDir: string;
  try {
    sweepDir = createSweepFolder(options.runsDir, record, createdAt);
  } catch (error) {
    throw new RunFolderError(`Cannot create the sweep folder in "${options.runsDir}": ${(error as Error).message}`);
  }
  const launched = created.map(({ member, runDir, spec }) => ({ member, runDir, spec, job: engine.startTraining(runDir, false) }));
  return { sweepDir, record: { ...record, id: path.basename(sweepDir) }, members: launched };
}

/** `<runsDir>/<timestamp>-<name>[-n]/sweep.json`, built under a temp name and renamed (all or nothing). */
function createSweepFolder(runsDir: string, record: Omit<SweepRecord, 'id'>, createdAt: Date): string {
  const baseId = `${localTimestamp(createdAt)}-${record.name}`;
  const tempDir = path.join(runsDir, `${TEMP_PREFIX}${baseId}-${tempSuffix()}`);
  fs.mkdirSync(tempDir, { recursive: true });
  try {
    for (let n = 1; ; n++) {
      const id = n === 1 ? baseId : `${baseId}-${n}`;
      const sweepDir = path.join(runsDir, id);
      if (fs.existsSync(sweepDir)) continue;
      writeJsonAtomic(path.join(tempDir, SWEEP_FILE), { ...record, id });
      try {
        renameWithRetry(tempDir, sweepDir);
      } catch (error) {
        if (fs.existsSync(sweepDir)) continue; // taken between the check and the rename
        throw error;
      }
      fsyncDir(runsDir);
      return sweepDir;
    }
  } catch (error) {
    fs.rmSync(tempDir, { recursive: true, force: true });
    throw error;
  }
}

function localTimestamp(date: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}${two(date.getMonth() + 1)}${two(date.getDate())}-${two(date.getHours())}${two(date.getMinutes())}${two(date.getSeconds())}`;
}
