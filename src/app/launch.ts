/**
 * The one launch path, for the CLI (src/cli.ts) and the extension (src/host/training/) alike:
 * experiment file -> resolved spec(s) -> run folder(s) (src/runs, complete or not at all) ->
 * queued on the engine. The file is read once: a caller that has read it already (the
 * extension, which shows problems in place and expands sweeps off its thread) passes what it
 * read. Errors are SpecError (located problems in the spec file), RunFolderError (the runs
 * folder cannot be written) or plain Errors with a sentence for the user.
 */
import { loadSpecFile, loadSweepFile, specErrorAt, type LoadedSweep } from '../core/spec/validate';
import { memoryProblem } from '../core/memoryEstimate';
import { SWEEP_RECORD_VERSION, type ResolvedSweep, type SweepMember, type SweepMemberRecord, type SweepRecord } from '../core/sweep';
import { collectStaleTemps } from '../runs/staleTemps';
import { SpecError, type ResolvedSpec } from '../core/spec/types';
import { createRun } from '../runs/runFolder';
import { createSweepFolder } from '../runs/sweeps';
import { runEnvironment } from '../engine/environment';
import { findInitRun } from '../runs/initRun';
import { weightLayoutDifference } from '../core/weightLayout';
import type { Engine, TrainingJob } from '../engine/engine';

export type { LoadedSweep } from '../core/spec/validate';

/** What launching needs of the engine (the extension's EngineHost is one too). */
export type LaunchEngine = Pick<Engine, 'startTraining' | 'backendInfo' | 'weightLayout'>;

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

export function resolveSpecWithOverrides(specFile: string, steps?: number, loaded?: ResolvedSpec): ResolvedSpec {
  const spec = loaded ?? loadSpecFile(specFile);
  if (steps === undefined) return spec;
  if (!Number.isSafeInteger(steps) || steps < 1) {
    throw new SpecError(specFile, [{ path: '/training/steps', message: `--steps must be an integer >= 1 and at most 2^53 - 1, got ${steps}` }]);
  }
  return { ...spec, training: { ...spec.training, steps } };
}

/**
 * Validates the experiment file (SpecError with located problems) unless `loaded` is its spec
 * already, refuses a spec too large for the machine, creates the run folder and queues it.
 */
export async function launchRun(engine: LaunchEngine, options: LaunchOptions & { loaded?: ResolvedSpec }): Promise<LaunchedRun> {
  const backend = await engine.backendInfo();
  const spec = await resolveInit(engine, options.specFile, options.runsDir, resolveSpecWithOverrides(options.specFile, options.steps, options.loaded));
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
 * The spec with its `init` resolved (the step it starts from, the newest checkpoint when the file
 * names none), after checking that the run and checkpoint exist in `runsDir` and that the model
 * the spec builds has the same weight names and shapes as that checkpoint (a worker builds it):
 * a SpecError at `/init/run` or `/init/step` otherwise, before any run folder exists.
 */
export async function resolveInit(
  engine: Pick<LaunchEngine, 'weightLayout'>,
  specFile: string,
  runsDir: string,
  spec: ResolvedSpec,
  member?: { sweep: ResolvedSweep; member: SweepMember },
): Promise<ResolvedSpec> {
  if (!spec.init) return spec;
  const found = findInitRun(runsDir, spec.init);
  if ('message' in found) throw specErrorAt(specFile, found, member);
  const difference = weightLayoutDifference(await engine.weightLayout(spec), found.weights);
  if (difference) {
    const message = `the model's weights do not match those of run '${spec.init.run}' at step ${found.step}: ${difference}`;
    throw specErrorAt(specFile, { path: '/init/run', message }, member);
  }
  return { ...spec, init: { run: spec.init.run, step: found.step } };
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
// Sweeps: one folder with sweep.json, the members ordinary runs beside it (src/runs/sweeps.ts).

export interface LaunchedSweep {
  sweepDir: string;
  record: SweepRecord;
  /** In grid order (seeds fastest), the order they were queued in. */
  members: (LaunchedRun & { member: SweepMemberRecord })[];
}

/**
 * Validates the sweep file and every member (SpecError with located problems) unless `loaded`
 * is given, creates the member runs and the sweep folder (all or nothing, see
 * createSweepFolder), and queues the members on the engine (which runs as many at once as
 * it has workers).
 */
export async function launchSweep(engine: LaunchEngine, options: LaunchOptions & { loaded?: LoadedSweep }): Promise<LaunchedSweep> {
  const { sweep, members } = options.loaded ?? loadSweepFile(options.specFile);
  if (options.steps !== undefined && (!Number.isSafeInteger(options.steps) || options.steps < 1)) {
    throw new SpecError(options.specFile, [{ path: '/base/training/steps', message: `--steps must be an integer >= 1 and at most 2^53 - 1, got ${options.steps}` }]);
  }
  const backend = await engine.backendInfo();
  const environment = runEnvironment(backend, options.workers);
  const specs = await Promise.all(members.map((member) =>
    resolveInit(engine, options.specFile, options.runsDir, options.steps === undefined ? member.spec : { ...member.spec, training: { ...member.spec.training, steps: options.steps } }, { sweep, member }),
  ));
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
    created = createSweepFolder(options.runsDir, record, createdAt, members.map((member, i) => {
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
