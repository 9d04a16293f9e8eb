/**
 * Starting a run, shared by the CLI and the VS Code host: validate the spec file, create the
 * run folder (complete or not at all), queue it on the engine. Errors are SpecError (located
 * problems in the spec file) or plain Errors with a sentence for the user.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadSpecFile, loadSweepFile, specErrorAt } from '../core/spec/validate';
import { memoryProblem } from '../core/memoryEstimate';
import { SWEEP_FILE, SWEEP_RECORD_VERSION, type ResolvedSweep, type SweepMember, type SweepMemberRecord, type SweepRecord } from '../core/sweep';
import { writeJsonAtomic, renameWithRetry, fsyncDir, removeDirAtomic } from '../runs/atomic';
import { RUN_FILE, TEMP_PREFIX, tempSuffix, type RunEnvironment, type RunRecord } from '../runs/layout';
import { collectStaleTemps, STAGING_OWNER_FILE, stagingOwner } from '../runs/staleTemps';
import { SpecError, type ResolvedSpec } from '../core/spec/types';
import { createRun } from '../runs/runFolder';
import { runEnvironment } from './environment';
import type { Engine, TrainingJob } from './engine';

export interface LaunchOptions {
  specFile: string;
  runsDir: string;
  /** Overrides `training.steps` (recorded in the run's resolved spec). */
  steps?: number;
  workers: number;
  /** `modelLab.memoryLimitMB` / `--memory-limit` (0 or absent: half the machine's memory). */
  memoryLimitMB?: number;
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
  if (!Number.isSafeInteger(steps) || steps < 1) {
    throw new SpecError(specFile, [{ path: '/training/steps', message: `--steps must be an integer >= 1 and at most 2^53 - 1, got ${steps}` }]);
  }
  return { ...spec, training: { ...spec.training, steps } };
}

export async function launchRun(engine: Engine, options: LaunchOptions): Promise<LaunchedRun> {
  const spec = resolveSpecWithOverrides(options.specFile, options.steps);
  const backend = await engine.backendInfo();
  checkMemory(options.specFile, spec, backend.name, options.memoryLimitMB);
  collectStaleTemps(options.runsDir);
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

/**
 * Refuses a spec whose estimated training memory exceeds the limit (src/core/memoryEstimate.ts):
 * a SpecError located at the option that drives the estimate, before any run folder exists.
 */
export function checkMemory(specFile: string, spec: ResolvedSpec, backend: string, memoryLimitMB?: number, member?: { sweep: ResolvedSweep; member: SweepMember }): void {
  const problem = memoryProblem(spec, backend, memoryLimitMB);
  if (problem) throw specErrorAt(specFile, problem, member);
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

/** A sweep file already read and validated (the host validates once, then launches). */
export type LoadedSweep = ReturnType<typeof loadSweepFile>;

/**
 * Validates the sweep file and every member (SpecError with located problems) unless `loaded`
 * is given, creates the member runs and the sweep folder (all or nothing, see
 * createSweepAtomically), and queues the members on the engine (which runs as many at once as
 * it has workers).
 */
export async function launchSweep(
  engine: Pick<Engine, 'startTraining' | 'backendInfo'>,
  options: LaunchOptions & { loaded?: LoadedSweep },
): Promise<LaunchedSweep> {
  const { sweep, members } = options.loaded ?? loadSweepFile(options.specFile);
  if (options.steps !== undefined && (!Number.isSafeInteger(options.steps) || options.steps < 1)) {
    throw new SpecError(options.specFile, [{ path: '/base/training/steps', message: `--steps must be an integer >= 1 and at most 2^53 - 1, got ${options.steps}` }]);
  }
  const backend = await engine.backendInfo();
  const environment = runEnvironment(backend, options.workers);
  const specs = members.map((member) =>
    options.steps === undefined ? member.spec : { ...member.spec, training: { ...member.spec.training, steps: options.steps } },
  );
  members.forEach((member, i) => checkMemory(options.specFile, specs[i], backend.name, options.memoryLimitMB, { sweep, member }));
  const createdAt = new Date();
  const record: Omit<SweepRecord, 'id' | 'members'> = {
    formatVersion: SWEEP_RECORD_VERSION,
    name: sweep.name,
    specFile: options.specFile,
    createdAt: createdAt.toISOString(),
    ...(options.steps !== undefined ? { stepsOverride: options.steps } : {}),
    sweep,
  };
  collectStaleTemps(options.runsDir);
  let created: { sweepDir: string; record: SweepRecord; runDirs: string[] };
  try {
    created = createSweepAtomically(options.runsDir, record, createdAt, members.map((member, i) => {
      const { spec: _spec, ...plain } = member;
      return { member: plain, spec: specs[i] };
    }), { specFile: options.specFile, environment });
  } catch (error) {
    throw new RunFolderError(`Cannot create the sweep in "${options.runsDir}": ${(error as Error).message}`);
  }
  const launched = created.record.members.map((member, i) => {
    const runDir = created.runDirs[i];
    return { member, runDir, spec: specs[i], job: engine.startTraining(runDir, false) };
  });
  return { sweepDir: created.sweepDir, record: created.record, members: launched };
}

/**
 * The sweep folder and its member runs, all or nothing. Everything is built inside one staging
 * folder `<runsDir>/.tmp-sweep-...-<pid>-<random>/` (the members as ordinary runs in it, then
 * sweep.json naming their final ids); the members are then moved out one by one and the staging
 * folder is renamed to the sweep folder last. A failure on the way (a write error, a full disk)
 * removes what was moved; a kill leaves the staging folder, which collectStaleTemps removes
 * together with the members its sweep.json lists that are still queued by the dead process.
 */
function createSweepAtomically(
  runsDir: string,
  record: Omit<SweepRecord, 'id' | 'members'>,
  createdAt: Date,
  members: { member: SweepMember; spec: ResolvedSpec }[],
  info: { specFile: string; environment: RunEnvironment },
): { sweepDir: string; record: SweepRecord; runDirs: string[] } {
  fs.mkdirSync(runsDir, { recursive: true });
  const baseId = `${localTimestamp(createdAt)}-${record.name}`;
  const staging = path.join(runsDir, `${TEMP_PREFIX}sweep-${baseId}-${tempSuffix()}`);
  fs.mkdirSync(staging);
  const moved: string[] = [];
  try {
    writeJsonAtomic(path.join(staging, STAGING_OWNER_FILE), stagingOwner());
    const stagedIds = members.map(({ spec }) => path.basename(createRun(staging, spec, info)));

    // Final ids: free in the runs folder (a member created the same second may hold one).
    const taken = new Set<string>();
    const finalIds = stagedIds.map((id) => {
      let finalId = id;
      for (let n = 2; taken.has(finalId) || fs.existsSync(path.join(runsDir, finalId)); n++) finalId = `${id}-${n}`;
      taken.add(finalId);
      if (finalId !== id) renameStagedRun(path.join(staging, id), finalId);
      return finalId;
    });
    const sweepId = freeName(runsDir, baseId);
    const full: SweepRecord = { ...record, id: sweepId, members: members.map(({ member }, i) => ({ ...member, runId: finalIds[i] })) };
    writeJsonAtomic(path.join(staging, SWEEP_FILE), full);

    stagedIds.forEach((id, i) => {
      const target = path.join(runsDir, finalIds[i]);
      renameWithRetry(path.join(staging, id), target);
      moved.push(target);
    });
    fs.rmSync(path.join(staging, STAGING_OWNER_FILE), { force: true });
    const sweepDir = path.join(runsDir, sweepId);
    renameWithRetry(staging, sweepDir);
    fsyncDir(runsDir);
    return { sweepDir, record: full, runDirs: moved };
  } catch (error) {
    for (const runDir of moved) removeDirAtomic(runDir);
    fs.rmSync(staging, { recursive: true, force: true });
    throw error;
  }
}

/** A staged run takes the id `id` (its folder name, and run.json's id and name). */
function renameStagedRun(runDir: string, id: string): void {
  const file = path.join(runDir, RUN_FILE);
  const runRecord = JSON.parse(fs.readFileSync(file, 'utf8')) as RunRecord;
  writeJsonAtomic(file, { ...runRecord, id, name: id });
  renameWithRetry(runDir, path.join(path.dirname(runDir), id));
}

function freeName(dir: string, base: string): string {
  for (let n = 1; ; n++) {
    const name = n === 1 ? base : `${base}-${n}`;
    if (!fs.existsSync(path.join(dir, name))) return name;
  }
}

function localTimestamp(date: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}${two(date.getMonth() + 1)}${two(date.getDate())}-${two(date.getHours())}${two(date.getMinutes())}${two(date.getSeconds())}`;
}
