/**
 * "Model Lab: Train Comparison": trains every experiment file of a folder (e.g.
 * examples/compare-attention: compositional and multi-head attention) and opens the dashboard
 * with their curves overlaid. A train spec holds one model, so a comparison is a folder of
 * specs; the command checks first that they see the same data stream (seed, task, batch size)
 * and says so when they do not.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { loadSpecFile } from '../../core/spec/validate';
import { SpecError, type ResolvedSpec } from '../../core/spec/types';
import { dataStreamDifferences } from './attentionDataStream';
import { logError, type Log } from '../output';
import type { PanelDeps } from '../panels/registration';
import type { RunRegistry } from '../runs/runRegistry';
import type { TrainingController } from './training';

export interface ComparisonDeps {
  registry: RunRegistry;
  training: TrainingController;
  dashboards: Pick<PanelDeps['dashboards'], 'show'>;
  log: Log;
}

const LAB_SUFFIX = '.lab.json';

export function registerTrainComparison(deps: ComparisonDeps): vscode.Disposable {
  return vscode.commands.registerCommand('modelLab.trainComparison', async (arg?: unknown) => {
    try {
      await trainComparison(deps, arg);
    } catch (error) {
      void vscode.window.showErrorMessage(`Model Lab: ${logError(deps.log, 'Train Comparison failed', error)}`);
    }
  });
}

async function trainComparison(deps: ComparisonDeps, arg: unknown): Promise<void> {
  const folder = arg instanceof vscode.Uri ? folderOf(arg.fsPath) : await pickFolder();
  if (!folder) return;
  const files = fs
    .readdirSync(folder)
    .filter((name) => name.endsWith(LAB_SUFFIX))
    .sort()
    .map((name) => path.join(folder, name));
  if (files.length < 2) {
    void vscode.window.showWarningMessage(
      `Model Lab: ${vscode.workspace.asRelativePath(folder)} holds ${files.length} experiment file${files.length === 1 ? '' : 's'} (*${LAB_SUFFIX}); a comparison needs at least two.`,
    );
    return;
  }

  const specs: Array<{ file: string; spec: ResolvedSpec }> = [];
  for (const file of files) {
    try {
      specs.push({ file: path.basename(file), spec: loadSpecFile(file) });
    } catch (error) {
      if (!(error instanceof SpecError)) throw error;
      const first = error.problems[0];
      void vscode.window.showErrorMessage(
        `Model Lab: ${path.basename(file)} has ${error.problems.length} problem(s); nothing was trained. First: ${first?.path || '/'}: ${first?.message ?? 'invalid experiment file'}`,
      );
      return;
    }
  }

  const differences = dataStreamDifferences(specs);
  if (differences.length > 0) {
    const choice = await vscode.window.showWarningMessage(
      'These experiments do not see the same data stream, so their curves differ for more than their models.',
      { modal: true, detail: differences.join('\n') },
      'Train Anyway',
    );
    if (choice !== 'Train Anyway') return;
  }

  const known = new Set(deps.registry.listRuns().map((run) => run.id));
  for (const file of files) await deps.training.train(vscode.Uri.file(file));
  const started = deps.registry
    .listRuns()
    .filter((run) => !known.has(run.id) && run.specFile !== undefined && files.includes(path.resolve(run.specFile)))
    .sort((a, b) => files.indexOf(path.resolve(a.specFile!)) - files.indexOf(path.resolve(b.specFile!)));
  if (started.length === 0) return; // training reported why
  deps.log('info', `Train Comparison: ${started.map((run) => run.id).join(', ')} from ${folder}`);
  deps.dashboards.show(started.map((run) => run.id));
  const same = differences.length === 0 ? ` on the same data stream (seed ${specs[0].spec.seed})` : '';
  const action = started.length === 2 ? ['Compare Attention'] : [];
  void vscode.window
    .showInformationMessage(
      `Model Lab: training ${started.length} runs${same}; the dashboard overlays their curves.` +
        (action.length ? ' Once they have a checkpoint, Compare Attention shows their selections side by side.' : ''),
      ...action,
    )
    .then((choice) => {
      if (choice) void vscode.commands.executeCommand('modelLab.compareAttention', undefined, started.map((run) => run.id));
    });
}

/** The folder itself, or the folder of a file. */
function folderOf(fsPath: string): string | undefined {
  try {
    return fs.statSync(fsPath).isDirectory() ? fsPath : path.dirname(fsPath);
  } catch {
    void vscode.window.showWarningMessage(`Model Lab: ${fsPath} does not exist.`);
    return undefined;
  }
}

/** Folders of the workspace that hold two experiment files or more. */
async function pickFolder(): Promise<string | undefined> {
  const files = await vscode.workspace.findFiles(`**/*${LAB_SUFFIX}`, '**/node_modules/**', 500);
  const byFolder = new Map<string, string[]>();
  for (const uri of files) {
    const dir = path.dirname(uri.fsPath);
    byFolder.set(dir, [...(byFolder.get(dir) ?? []), path.basename(uri.fsPath)]);
  }
  const picks = [...byFolder.entries()]
    .filter(([, names]) => names.length >= 2)
    .map(([dir, names]) => ({ label: folderLabel(dir), description: `${names.length} experiments`, detail: names.sort().join(', '), dir }))
    .sort((a, b) => a.label.localeCompare(b.label));
  if (picks.length === 0) {
    void vscode.window.showInformationMessage(
      'Model Lab: no folder of this workspace holds two experiment files or more. Put the experiments to compare in one folder (see examples/compare-attention).',
    );
    return undefined;
  }
  return (await vscode.window.showQuickPick(picks, { placeHolder: 'Select the folder whose experiments to train and compare', matchOnDetail: true }))?.dir;
}

/** The folder relative to its workspace folder ("compare-attention"); the root by its name. */
function folderLabel(dir: string): string {
  const root = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(dir));
  if (!root) return dir;
  const relative = path.relative(root.uri.fsPath, dir).split(path.sep).join('/');
  if (relative === '') return `${root.name} (workspace folder)`;
  return (vscode.workspace.workspaceFolders?.length ?? 0) > 1 ? `${root.name}/${relative}` : relative;
}
