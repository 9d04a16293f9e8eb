/**
 * The workspace folders (file scheme only) with their own `modelLab.runsDirectory`.
 * A folder whose setting is invalid is left out and its problem reported, never defaulted.
 */
import * as vscode from 'vscode';
import type { WorkspaceFolderInfo } from './runsFolder';
import { readRunsDirectory, SETTINGS_SECTION } from '../settings';

export function workspaceFolderInfos(): { folders: WorkspaceFolderInfo[]; problems: string[] } {
  const folders: WorkspaceFolderInfo[] = [];
  const problems: string[] = [];
  for (const folder of vscode.workspace.workspaceFolders ?? []) {
    if (folder.uri.scheme !== 'file') continue;
    const setting = readRunsDirectory(vscode.workspace.getConfiguration(SETTINGS_SECTION, folder.uri));
    if (setting.ok) {
      folders.push({ path: folder.uri.fsPath, name: folder.name, runsDirectory: setting.value });
    } else {
      problems.push(`${folder.name}: ${setting.problems.join('; ')}`);
    }
  }
  return { folders, problems };
}
