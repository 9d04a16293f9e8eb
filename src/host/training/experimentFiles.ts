/**
 * New experiment files the host writes for the user from a run (Continue Training, the Sampler's
 * fine-tune): where they go (beside the run's own experiment file while it exists, else in the
 * run's workspace folder) and writing one that is valid and replaces nothing. No `vscode`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseSpec } from '../../core/spec/validate';
import type { RunSummary } from '../../protocol';
import { isInside } from '../runs/runsFolder';

/** A new experiment file cannot be written: said in words (nothing was written). */
export class ExperimentFileError extends Error {}

const MAX_FILE_ATTEMPTS = 100;

/**
 * Beside the run's experiment file when its folder still exists and lies inside `workspaceFolder`
 * (the run's workspace folder, when known: a file outside it could not be trained, and its runs
 * would go elsewhere), else `workspaceFolder`; undefined when neither is known.
 */
export function experimentFolderFor(run: Pick<RunSummary, 'specFile'>, workspaceFolder: string | undefined): string | undefined {
  const beside = run.specFile ? path.dirname(path.resolve(run.specFile)) : undefined;
  const inside = beside !== undefined && (workspaceFolder === undefined || isInside(workspaceFolder, beside));
  if (beside && inside && fs.existsSync(beside) && fs.statSync(beside).isDirectory()) return beside;
  return workspaceFolder;
}

/**
 * Validates the text as an experiment file, then writes it to `<stem>.lab.json` (or -2, -3, ...
 * when taken) without replacing any file; returns its absolute path. `what` names the experiment
 * in the error ("the fine-tune experiment").
 */
export function writeNewExperimentFile(folder: string, stem: string, text: string, what = 'the experiment'): string {
  const { problems } = parseSpec(text, path.resolve(folder, `${stem}.lab.json`));
  if (problems.length > 0) {
    const first = problems[0];
    throw new ExperimentFileError(`${what} is not valid, nothing was written: ${first.path || '/'}: ${first.message}`);
  }
  for (let attempt = 1; attempt <= MAX_FILE_ATTEMPTS; attempt++) {
    const file = path.resolve(folder, `${stem}${attempt === 1 ? '' : `-${attempt}`}.lab.json`);
    try {
      fs.writeFileSync(file, text, { flag: 'wx' }); // 'wx': never over an existing file
      return file;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  throw new ExperimentFileError(`${stem}.lab.json and ${MAX_FILE_ATTEMPTS - 1} numbered names are taken in ${folder}`);
}

/**
 * Trains a file just written through the host's Train path (`train`, which reports its own
 * failures to the user) and returns the run it started, or undefined when it started none.
 */
export async function trainNewFile(
  runs: { listRuns(): RunSummary[] },
  train: (file: string) => Promise<unknown>,
  file: string,
): Promise<RunSummary | undefined> {
  const known = new Set(runs.listRuns().map((run) => run.id));
  await train(file);
  return runs.listRuns().find((run) => !known.has(run.id) && run.specFile !== undefined && path.resolve(run.specFile) === file);
}
