/**
 * Every `modelLab.*` command. Run commands take a tree node (context menu), a run id (status
 * bar, links, webviews) or nothing (Command Palette: a quick pick). Errors end in a short
 * notification; the details go to the output channel.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { groupTemplatesByLab, templateSummary } from '../core/spec/templateGroups';
import { instantiateTemplate, listTemplates, TemplateError, TEMPLATE_SUFFIX, type TemplateInfo } from '../core/spec/templates';
import type { RunSummary } from '../protocol';
import { RunLockedError } from '../runs/ownership';
import { deleteRun, updateRunMeta } from '../runs/reader';
import { isLabFile } from './editor/diagnostics';
import { OPEN_EXAMPLE_RUN_COMMAND, openExampleRun } from './exampleRunCommand';
import type { LiveViewProvider } from './panels/liveView';
import type { PanelDeps } from './panels/registration';
import { logError, type Log } from './output';
import type { RunRegistry } from './runs/runRegistry';
import type { RunsTree, RunsTreeNode } from './runs/runsTree';
import { isActive, isResumable, parseTags, runIdOfCommandArg, runPickItem } from './runs/runsTreeModel';
import { continuationChain, runDisplayName } from '../shared/runs';
import { canContinue } from './training/continueTraining';
import type { TrainingController } from './training/training';

export const WALKTHROUGH_ID = 'modelLab.gettingStarted';

export interface CommandDeps {
  context: vscode.ExtensionContext;
  /** Also the RunDataSource of the webviews. */
  registry: RunRegistry;
  training: TrainingController;
  tree: RunsTree;
  liveView: LiveViewProvider;
  dashboards: Pick<PanelDeps['dashboards'], 'show'>;
  output: vscode.LogOutputChannel;
  log: Log;
}

/** What a run command may be invoked with. */
type RunArg = RunsTreeNode | string | { id: string } | undefined;

export function registerCommands(deps: CommandDeps): vscode.Disposable[] {
  const { context, registry, training, log } = deps;
  const templatesDir = path.join(context.extensionPath, 'templates');

  const command = (id: string, handler: (...args: any[]) => unknown): vscode.Disposable =>
    vscode.commands.registerCommand(id, async (...args: unknown[]) => {
      try {
        await handler(...args);
      } catch (error) {
        const message = logError(log, `Command ${id} failed`, error);
        void vscode.window.showErrorMessage(`Model Lab: ${message}`, 'Show Output').then((choice) => choice && deps.output.show());
      }
    });

  /** The run an argument names, or one picked by the user. */
  const runFrom = async (arg: RunArg, placeHolder: string, filter: (run: RunSummary) => boolean = () => true) => {
    const id = runIdOfCommandArg(arg);
    if (id !== undefined) {
      const run = registry.readRun(id);
      if (!run) void vscode.window.showWarningMessage(`Model Lab: run ${id} no longer exists.`);
      return run;
    }
    return pickRun(registry.listRuns().filter(filter), placeHolder);
  };

  /** Runs selected in the tree when the command came from its context menu with several selected. */
  const runsFrom = (arg: RunArg, selected: unknown): RunSummary[] => {
    const nodes = Array.isArray(selected) ? (selected as RunsTreeNode[]) : [];
    const runs = nodes.flatMap((node) => (node.kind === 'run' ? [node.run] : node.group.runs));
    if (runs.length > 0) return runs;
    const id = runIdOfCommandArg(arg);
    const run = id !== undefined ? registry.readRun(id) : undefined;
    return run ? [run] : [];
  };

  return [
    command('modelLab.newExperiment', () => newExperiment(templatesDir)),
    command(OPEN_EXAMPLE_RUN_COMMAND, (lab?: unknown) => openExampleRun({ extensionPath: context.extensionPath, registry }, lab)),

    command('modelLab.train', async (arg?: unknown) => {
      const uri = arg instanceof vscode.Uri ? arg : await pickSpecFile();
      if (uri) await training.train(uri);
    }),

    command('modelLab.stop', async (arg?: RunArg) => {
      const run = await runFrom(arg, 'Select a run to stop', isActive);
      if (run) training.stop(run.id);
    }),

    command('modelLab.resume', async (arg?: RunArg) => {
      const run = await runFrom(arg, 'Select a run to resume from its last checkpoint', isResumable);
      if (run) await training.resume(run.id);
    }),

    command('modelLab.continueTraining', async (arg?: RunArg) => {
      const run = await runFrom(arg, 'Select a run to continue training from its last checkpoint', canContinue);
      const continued = run && (await training.continueRun(run.id));
      // The dashboard of the whole chain: the new run's curve continues the earlier ones.
      if (continued) deps.dashboards.show(continuationChain(continued, (id) => registry.readRun(id)).map((r) => r.id));
    }),

    command('modelLab.openRun', async (arg?: RunArg) => {
      const run = await runFrom(arg, 'Select a run to open');
      if (run) deps.dashboards.show([run.id]);
    }),

    command('modelLab.compareRuns', async (arg?: RunArg, selected?: unknown) => {
      let runs = runsFrom(arg, selected);
      if (runs.length < 2) runs = await pickRuns(registry.listRuns(), runs.map((run) => run.id));
      if (runs.length === 0) return;
      deps.dashboards.show(runs.map((run) => run.id));
    }),

    command('modelLab.showInLive', async (arg?: RunArg) => {
      const run = await runFrom(arg, 'Select a run to follow in the Live view');
      if (!run) return;
      deps.liveView.showRun(run.id);
      await vscode.commands.executeCommand('modelLab.live.focus');
    }),

    command('modelLab.renameRun', async (arg?: RunArg) => {
      const run = await runFrom(arg, 'Select a run to rename');
      if (!run) return;
      const name = await vscode.window.showInputBox({
        title: `Rename run ${run.id}`,
        value: run.name,
        prompt: 'The run folder keeps its id; only the displayed name changes.',
        validateInput: (value) => (value.trim() === '' ? 'A run name cannot be empty.' : undefined),
      });
      if (name === undefined || name.trim() === run.name) return;
      updateRunMeta(run.dir, { name: name.trim() });
      registry.refreshRunDir(run.dir);
    }),

    command('modelLab.editNotes', async (arg?: RunArg) => {
      const run = await runFrom(arg, 'Select a run to annotate');
      if (!run) return;
      const notes = await vscode.window.showInputBox({
        title: `Notes for ${runDisplayName(run)}`,
        value: run.notes,
        prompt: 'What this run tries or shows (empty to clear).',
      });
      if (notes === undefined) return;
      updateRunMeta(run.dir, { notes: notes.trim() });
      registry.refreshRunDir(run.dir);
    }),

    command('modelLab.editTags', async (arg?: RunArg) => {
      const run = await runFrom(arg, 'Select a run to tag');
      if (!run) return;
      const input = await vscode.window.showInputBox({
        title: `Tags for ${runDisplayName(run)}`,
        value: run.tags.join(', '),
        prompt: 'Tags separated by commas or spaces, e.g. baseline, lr-sweep (empty to clear).',
        validateInput: (value) => {
          const parsed = parseTags(value);
          return 'problem' in parsed ? parsed.problem : undefined;
        },
      });
      if (input === undefined) return;
      const parsed = parseTags(input);
      if ('problem' in parsed) return;
      updateRunMeta(run.dir, { tags: parsed.tags });
      registry.refreshRunDir(run.dir);
    }),

    command('modelLab.deleteRun', async (arg?: RunArg, selected?: unknown) => {
      let runs = runsFrom(arg, selected);
      if (runs.length === 0) {
        const run = await runFrom(undefined, 'Select a run to delete');
        if (!run) return;
        runs = [run];
      }
      const active = runs.filter(isActive);
      if (active.length > 0) {
        void vscode.window.showWarningMessage(
          `Model Lab: ${active.map((run) => `"${runDisplayName(run)}"`).join(', ')} ${active.length === 1 ? 'is' : 'are'} training; stop ${active.length === 1 ? 'it' : 'them'} before deleting.`,
        );
        return;
      }
      const what = runs.length === 1 ? `run "${runDisplayName(runs[0])}"` : `${runs.length} runs`;
      const choice = await vscode.window.showWarningMessage(
        `Delete ${what}?`,
        { modal: true, detail: `Its metrics and checkpoints are removed from disk permanently:\n${runs.map((run) => run.dir).join('\n')}` },
        'Delete',
      );
      if (choice !== 'Delete') return;
      for (const run of runs) {
        try {
          deleteRun(run.dir);
        } catch (error) {
          // Started training elsewhere (CLI, another window) since the check above: not ours to delete.
          if (!(error instanceof RunLockedError)) throw error;
          void vscode.window.showWarningMessage(`Model Lab: run "${runDisplayName(run)}" was not deleted: ${error.message}.`);
          continue;
        }
        log('info', `Run ${run.id} deleted (${run.dir}).`);
        registry.refreshRunDir(run.dir);
      }
    }),

    command('modelLab.showOutput', () => deps.output.show(true)),

    command('modelLab.refreshRuns', () => {
      registry.refresh();
      deps.tree.refresh();
    }),

    command('modelLab.openWalkthrough', () =>
      vscode.commands.executeCommand('workbench.action.openWalkthrough', `${context.extension.id}#${WALKTHROUGH_ID}`, false),
    ),
  ];
}

interface RunPick extends vscode.QuickPickItem {
  run: RunSummary;
}

function runPicks(runs: readonly RunSummary[]): RunPick[] {
  return runs.map((run) => ({ ...runPickItem(run), run }));
}

async function pickRun(runs: readonly RunSummary[], placeHolder: string): Promise<RunSummary | undefined> {
  if (runs.length === 0) {
    void vscode.window.showInformationMessage('Model Lab: no matching runs.');
    return undefined;
  }
  return (await vscode.window.showQuickPick(runPicks(runs), { placeHolder, matchOnDescription: true, matchOnDetail: true }))?.run;
}

async function pickRuns(runs: readonly RunSummary[], preselected: readonly string[]): Promise<RunSummary[]> {
  if (runs.length === 0) {
    void vscode.window.showInformationMessage('Model Lab: there are no runs to compare yet.');
    return [];
  }
  const picks = runPicks(runs).map((pick) => ({ ...pick, picked: preselected.includes(pick.run.id) }));
  const chosen = await vscode.window.showQuickPick(picks, {
    canPickMany: true,
    placeHolder: 'Select the runs to compare (their curves are overlaid)',
    matchOnDescription: true,
    matchOnDetail: true,
  });
  return chosen?.map((pick) => pick.run) ?? [];
}

/** The experiment file to train: the active editor's, or one picked from the workspace. */
async function pickSpecFile(): Promise<vscode.Uri | undefined> {
  const active = vscode.window.activeTextEditor?.document.uri;
  if (active && isLabFile(active)) return active;
  if ((vscode.workspace.workspaceFolders ?? []).length === 0) {
    const choice = await vscode.window.showErrorMessage(
      'Model Lab: open a folder first; experiments (*.lab.json) and their runs live in a workspace folder.',
      'Open Folder…',
    );
    if (choice) void vscode.commands.executeCommand('vscode.openFolder');
    return undefined;
  }
  const files = await vscode.workspace.findFiles('**/*.lab.json', '**/node_modules/**', 200);
  if (files.length === 0) {
    const choice = await vscode.window.showInformationMessage(
      'Model Lab: there is no experiment file (*.lab.json) in this workspace yet.',
      'New Experiment from Template',
    );
    if (choice) void vscode.commands.executeCommand('modelLab.newExperiment');
    return undefined;
  }
  const picks = files
    .map((uri) => ({ label: path.basename(uri.fsPath), description: vscode.workspace.asRelativePath(uri, true), uri }))
    .sort((a, b) => a.description.localeCompare(b.description));
  return (await vscode.window.showQuickPick(picks, { placeHolder: 'Select the experiment to train' }))?.uri;
}

async function newExperiment(templatesDir: string): Promise<void> {
  const folders = (vscode.workspace.workspaceFolders ?? []).filter((folder) => folder.uri.scheme === 'file');
  if (folders.length === 0) {
    const choice = await vscode.window.showErrorMessage(
      'Model Lab: open a folder first; the new experiment file and its runs are kept in a workspace folder.',
      'Open Folder…',
    );
    if (choice) void vscode.commands.executeCommand('vscode.openFolder');
    return;
  }
  let templates: TemplateInfo[];
  try {
    templates = listTemplates(templatesDir);
  } catch (error) {
    throw new Error(error instanceof TemplateError ? error.message : String(error), { cause: error });
  }
  const template = (
    await vscode.window.showQuickPick(
      templatePickItems(templates),
      // ignoreFocusOut: from the walkthrough, focus returns to its page and would close the pick.
      { placeHolder: 'Select a template for the new experiment', matchOnDetail: true, ignoreFocusOut: true },
    )
  )?.info;
  if (!template) return;

  const folder =
    folders.length === 1
      ? folders[0]
      : await vscode.window.showWorkspaceFolderPick({ placeHolder: 'Select the workspace folder for the new experiment', ignoreFocusOut: true });
  if (!folder) return;

  const fileName = await vscode.window.showInputBox({
    title: 'New experiment file',
    ignoreFocusOut: true,
    prompt: `Path relative to ${folder.name}; the experiment is named after the file.`,
    value: freeFileName(folder.uri.fsPath, template.name),
    valueSelection: [0, freeFileName(folder.uri.fsPath, template.name).length - TEMPLATE_SUFFIX.length],
    validateInput: (value) => checkNewFileName(folder.uri.fsPath, value),
  });
  if (fileName === undefined) return;
  const target = path.resolve(folder.uri.fsPath, fileName.trim());
  try {
    instantiateTemplate(templatesDir, template.name, target);
  } catch (error) {
    if (error instanceof TemplateError) {
      void vscode.window.showErrorMessage(`Model Lab: ${error.message}`);
      return;
    }
    throw error;
  }
  const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(target));
  await vscode.window.showTextDocument(doc);
}

/** One separator per lab (its manifest's templates label), then its templates: name and first sentence. */
function templatePickItems(templates: readonly TemplateInfo[]): (vscode.QuickPickItem & { info?: TemplateInfo })[] {
  return groupTemplatesByLab(templates).flatMap((group) => [
    { label: group.label, kind: vscode.QuickPickItemKind.Separator },
    ...group.templates.map((info) => ({ label: info.name, detail: templateSummary(info.description), info })),
  ]);
}

/** `<template>.lab.json`, or `<template>-2.lab.json`, … when taken. */
function freeFileName(folder: string, base: string): string {
  for (let n = 1; ; n++) {
    const name = `${base}${n === 1 ? '' : `-${n}`}${TEMPLATE_SUFFIX}`;
    if (!fs.existsSync(path.join(folder, name))) return name;
  }
}

function checkNewFileName(folder: string, value: string): string | undefined {
  const name = value.trim();
  if (!name.endsWith(TEMPLATE_SUFFIX)) return `The file name must end with ${TEMPLATE_SUFFIX} (that is how Model Lab recognises experiments).`;
  const target = path.resolve(folder, name);
  const relative = path.relative(folder, target);
  if (relative.startsWith('..') || path.isAbsolute(relative)) return 'Choose a path inside the workspace folder.';
  if (fs.existsSync(target)) return `${name} already exists; choose another name.`;
  return undefined;
}
