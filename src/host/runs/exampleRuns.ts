/**
 * The example runs shipped in the VSIX (`example-runs/`, trained by scripts/example-runs.mjs): one
 * small trained run per lab, so a new user sees each lab panel's point in seconds. Opening one
 * copies it into the workspace's runs folder (once; a later open reuses the copy) instead of
 * opening it where it is: the extension's install folder stays untouched (it may be read-only,
 * and a panel may save snapshots into its run), and the copy is an ordinary run of the workspace
 * (listed in the Runs view, comparable with the user's runs, a valid `init` to continue from).
 * The copy names no experiment file: the example's was a temp file on the machine that trained it,
 * and its resolved spec is in the run folder (spec.json), so Continue Training writes its new file
 * in the workspace folder under the experiment's name (example-<lab>-continued.lab.json).
 * No 'vscode' import: the command is in exampleRunCommand.ts.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LABS, labOf } from '../../core/labList';
import type { LabManifest } from '../../core/labManifest';
import { writeJsonAtomic } from '../../runs/atomic';
import { RUN_FILE, runFile, TEMP_PREFIX, tempSuffix } from '../../runs/layout';
import { listRuns, readRunRecord, readSpec } from '../../runs/reader';
import type { RunSummary } from '../../shared/runs';

/** The folder of the extension that holds the example runs. */
export const EXAMPLE_RUNS_FOLDER = 'example-runs';

export interface ExampleRun {
  readonly run: RunSummary;
  /** The lab whose panel shows it. */
  readonly lab: LabManifest & { readonly panel: NonNullable<LabManifest['panel']> };
  /** The example's own description (its spec's). */
  readonly description: string;
}

/** The completed example runs in `dir`, in the labs' order; a broken or foreign folder is left out. */
export function listExampleRuns(dir: string): ExampleRun[] {
  const examples: ExampleRun[] = [];
  for (const run of listRuns(dir)) {
    if (run.state !== 'completed') continue;
    const spec = readSpec(run.dir);
    const lab = labOf(spec);
    if (!lab?.panel) continue;
    examples.push({ run, lab: { ...lab, panel: lab.panel }, description: spec.description ?? '' });
  }
  const order = (example: ExampleRun) => LABS.findIndex((lab) => lab.id === example.lab.id);
  return examples.sort((a, b) => order(a) - order(b));
}

/**
 * Copies the example run folder into `runsDir` under its own id, complete or not at all (built
 * under a `.tmp-` name, which the runs listing skips, then renamed). A copy already there is kept
 * as it is (the user may have renamed or annotated it): `copied` is false then.
 */
export function copyExampleRun(exampleDir: string, runsDir: string): { runDir: string; copied: boolean } {
  const runDir = path.join(runsDir, path.basename(exampleDir));
  if (fs.existsSync(runDir)) return { runDir, copied: false };
  fs.mkdirSync(runsDir, { recursive: true });
  const temp = path.join(runsDir, `${TEMP_PREFIX}example-${tempSuffix()}`);
  try {
    fs.cpSync(exampleDir, temp, { recursive: true, verbatimSymlinks: true });
    forgetExperimentFile(temp);
    fs.renameSync(temp, runDir);
  } catch (error) {
    fs.rmSync(temp, { recursive: true, force: true });
    if (fs.existsSync(runDir)) return { runDir, copied: false }; // another window copied it first
    throw error;
  }
  return { runDir, copied: true };
}

/** Drops run.json's `specFile` (a path on the machine that trained the example, gone there too). */
function forgetExperimentFile(runDir: string): void {
  const { specFile, ...record } = readRunRecord(runDir);
  if (specFile !== undefined) writeJsonAtomic(runFile(runDir, RUN_FILE), record);
}
