/**
 * The run and checkpoint a spec's `init` names, found before a new run is created: the run
 * folder beside it in the same runs folder, the checkpoint step (the newest when none is given)
 * and the names and shapes of the weights saved there (from the manifest: no tensors, no
 * TensorFlow.js, so the host can check it). What is wrong comes back as a problem at `/init/run`
 * or `/init/step`, for the launch to locate in the experiment file.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { InitSpec } from '../core/spec/types';
import type { WeightShape } from '../core/weightLayout';
import { errorMessage } from './errors';
import { listCheckpointSteps } from './checkpointFolders';
import { RUN_FILE, runFile } from './layout';
import { readRun } from './reader';
import { isPlainFileName } from './safeFiles';
import { checkpointWeightShapes } from './weightsManifest';

export interface InitRun {
  runDir: string;
  step: number;
  weights: WeightShape[];
}

export type InitProblem = { path: '/init/run' | '/init/step'; message: string };

const SWEEP_RECORD_FILE = 'sweep.json';

function isFolder(dir: string): boolean {
  try {
    return fs.lstatSync(dir).isDirectory();
  } catch {
    return false;
  }
}

/** Where `init` points in `runsDir`, or the problem with it (a run still training is one: its checkpoints come and go). */
export function findInitRun(runsDir: string, init: InitSpec): InitRun | InitProblem {
  const atRun = (message: string): InitProblem => ({ path: '/init/run', message });
  if (!isPlainFileName(init.run)) return atRun(`'${String(init.run).slice(0, 80)}' is not a run id: a folder name of the runs folder, without '/'`);
  const runDir = path.join(runsDir, init.run);
  if (!isFolder(runDir)) return atRun(`no run '${init.run}' in the runs folder ${runsDir}`);
  if (fs.existsSync(path.join(runDir, SWEEP_RECORD_FILE))) return atRun(`'${init.run}' is a sweep, not a run: name one of its members`);
  if (!fs.existsSync(runFile(runDir, RUN_FILE))) return atRun(`'${init.run}' in ${runsDir} is not a run folder (no ${RUN_FILE})`);
  const { state } = readRun(runDir);
  if (state === 'running' || state === 'queued') {
    // Its checkpoints are pruned as it trains: the one chosen now could be gone when this run starts.
    return atRun(`run '${init.run}' is ${state === 'running' ? 'training' : 'queued'}: start from it once it has ended (or stop it)`);
  }
  let steps: number[];
  try {
    steps = listCheckpointSteps(runDir);
  } catch (error) {
    return atRun(`the checkpoints of run '${init.run}' cannot be read: ${errorMessage(error)}`);
  }
  if (steps.length === 0) return atRun(`run '${init.run}' has no checkpoint yet: a run saves one every training.checkpointEvery steps and at its end`);
  const step = init.step ?? steps[steps.length - 1];
  if (!steps.includes(step)) {
    return { path: '/init/step', message: `run '${init.run}' has no checkpoint at step ${step}: expected one of ${steps.join(', ')}` };
  }
  try {
    return { runDir, step, weights: checkpointWeightShapes(runDir, step) };
  } catch (error) {
    const where: InitProblem['path'] = init.step === undefined ? '/init/run' : '/init/step';
    return { path: where, message: `the checkpoint at step ${step} of run '${init.run}' cannot be read: ${errorMessage(error)}` };
  }
}
