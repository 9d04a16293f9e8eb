/**
 * Keeps the run registry in step with the disk for changes made outside this window (the CLI,
 * another window): which runs folders exist (workspace folders, `modelLab.runsDirectory`), and a
 * watcher per runs folder for run folders appearing or disappearing.
 *
 * The watchers are non-recursive on purpose: `files.watcherExclude` (where Model Lab excludes
 * its runs folders by default) applies only to recursive watchers. Yet inside a workspace folder
 * VS Code (1.99) lets a non-recursive watcher report only paths that `files.watcherExclude`
 * excludes, and it turns each key into an include by appending a globstar segment
 * (extHostFileSystemEventService): our default key (every `.model-lab/runs` folder and all
 * below it) becomes "all below `.model-lab/runs/<one more folder>`", which matches a run folder's
 * files but not the run folder itself, so a run folder moved in or out is dropped as "not
 * included" (the watcher's trace log, code-server 4.99.4). The watcher still serves runs folders outside the
 * workspace or not excluded; the registry's poll of the runs folders' names (every 2 s) shows run
 * folders that come or go either way. Runs that are active on disk are polled by the registry
 * itself; edits to finished runs made elsewhere show on "Refresh Runs" and whenever the window
 * regains focus.
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
