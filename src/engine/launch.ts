/**
 * Starting a run, shared by the CLI and the VS Code host: validate the spec file, create the
 * run folder (complete or not at all), queue it on the engine. Errors are SpecError (located
 * problems in the spec file) or plain Errors with a sentence for the user.
 */
import { loadSpecFile } from '../core/spec/validate';
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
