/**
 * "Model Lab: Open Example Run" (palette and the walkthrough): pick a lab's example run (or name
 * the lab as the argument), copy it into the workspace's runs folder (runs/exampleRuns.ts says
 * why a copy) and open its lab panel at once. In Restricted Mode it is refused like every other
 * look inside a run (the panel's session loads the checkpoint in a worker, which waits for trust),
 * and nothing is copied into the untrusted workspace.
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { RunRegistry } from './runs/runRegistry';
import { copyExampleRun, EXAMPLE_RUNS_FOLDER, listExampleRuns, type ExampleRun } from './runs/exampleRuns';
import { checkWritableFolder, runsDirOfFolder } from './runs/runsFolder';
import { workspaceFolderInfos } from './runs/workspaceFolders';
import { ensureTrustedToLookInside } from './trust';

export const OPEN_EXAMPLE_RUN_COMMAND = 'modelLab.openExampleRun';

/** `labId`: open that lab's example without asking (e.g. from a link); otherwise a quick pick. */
export async function openExampleRun(deps: { extensionPath: string; registry: RunRegistry }, labId?: unknown): Promise<void> {
  if (!ensureTrustedToLookInside()) return;
  const examples = listExampleRuns(path.join(deps.extensionPath, EXAMPLE_RUNS_FOLDER));
  const example = typeof labId === 'string' ? examples.find((e) => e.lab.id === labId) : await pickExample(examples);
  if (!example) {
    if (typeof labId === 'string') void vscode.window.showWarningMessage(`Model Lab: no example run of a lab '${labId}' (labs with one: ${examples.map((e) => e.lab.id).join(', ')}).`);
    return;
  }
  const { folders, problems } = workspaceFolderInfos();
  if (folders.length === 0) {
    const why = problems.length > 0 ? ` (${problems.join('; ')})` : '';
    void vscode.window.showWarningMessage(`Model Lab: open a folder first: an example run is copied into the workspace's runs folder to be opened${why}.`);
    return;
  }
  const runsDir = runsDirOfFolder(folders[0]);
  const problem = checkWritableFolder(runsDir);
  if (problem) throw new Error(problem);
  const { runDir } = copyExampleRun(example.run.dir, runsDir);
  deps.registry.addRunsDir(runsDir);
  deps.registry.refreshRunDir(runDir);
  await vscode.commands.executeCommand(example.lab.panel.command, path.basename(runDir));
}

async function pickExample(examples: ExampleRun[]): Promise<ExampleRun | undefined> {
  if (examples.length === 0) {
    void vscode.window.showWarningMessage('Model Lab: this installation has no example runs.');
    return undefined;
  }
  const picked = await vscode.window.showQuickPick(
    examples.map((example) => ({
      label: example.lab.title,
      description: `opens ${example.lab.panel.title}`,
      detail: example.description,
      example,
    })),
    { title: 'Open Example Run', placeHolder: 'A small trained run of a lab, opened in its panel', matchOnDetail: true },
  );
  return picked?.example;
}
