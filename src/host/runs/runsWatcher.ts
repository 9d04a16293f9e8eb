/**
 * Keeps the run registry in step with the disk for changes made outside this window (the CLI,
 * another window): which runs folders exist (workspace folders, `modelLab.runsDirectory`), and a
 * watcher per runs folder for run folders appearing or disappearing.
 *
 * The watchers are non-recursive on purpose: `files.watcherExclude` (where Model Lab excludes
 * its runs folders by default) applies only to recursive watchers. Runs that are active on
 * disk are polled by the registry itself; edits to finished runs made elsewhere show on
 * "Refresh Runs" and whenever the window regains focus.
 */
import * as vscode from 'vscode';
import type { Log } from '../output';
import type { RunRegistry } from './runRegistry';
import { allRunsDirs } from './runsFolder';
import { SETTINGS_SECTION } from '../settings';
import { workspaceFolderInfos } from './workspaceFolders';

const DEBOUNCE_MS = 300;

export class RunsWatcher implements vscode.Disposable {
  private watchers: vscode.Disposable[] = [];
  private readonly subscriptions: vscode.Disposable[] = [];
  private timer?: NodeJS.Timeout;

  constructor(
    private readonly registry: RunRegistry,
    private readonly log: Log,
  ) {
    this.subscriptions.push(
      vscode.workspace.onDidChangeWorkspaceFolders(() => this.update()),
      vscode.workspace.onDidChangeConfiguration((event) => {
        if (event.affectsConfiguration(`${SETTINGS_SECTION}.runsDirectory`)) this.update();
      }),
      vscode.window.onDidChangeWindowState((state) => {
        if (state.focused) this.registry.refresh();
      }),
    );
    this.update();
  }

  /** Re-reads the workspace folders and their settings, re-indexes, re-creates the watchers. */
  update(): void {
    const { folders, problems } = workspaceFolderInfos();
    for (const problem of problems) this.log('warn', `Runs of this folder are not shown: ${problem}`);
    const dirs = allRunsDirs(folders);
    this.registry.setRunsDirs(dirs);
    for (const watcher of this.watchers) watcher.dispose();
    this.watchers = dirs.map((dir) => this.watch(dir));
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const disposable of [...this.watchers, ...this.subscriptions]) disposable.dispose();
  }

  private watch(runsDir: string): vscode.Disposable {
    const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(runsDir), '*'));
    const changed = () => this.scheduleRefresh();
    return vscode.Disposable.from(watcher, watcher.onDidCreate(changed), watcher.onDidDelete(changed), watcher.onDidChange(changed));
  }

  private scheduleRefresh(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.registry.refresh();
    }, DEBOUNCE_MS);
  }
}
