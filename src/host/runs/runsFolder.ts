/**
 * Which runs folder an experiment file trains into, and whether it can be written.
 * Multi-root: the workspace folder that contains the spec file decides (its own
 * `modelLab.runsDirectory`, relative to that folder). No 'vscode' import.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface WorkspaceFolderInfo {
  /** Absolute file-system path of the workspace folder. */
  path: string;
  name: string;
  /** `modelLab.runsDirectory` for this folder (relative to it, or absolute). */
  runsDirectory: string;
}

export type RunsFolderResolution =
  | { ok: true; runsDir: string; folder: WorkspaceFolderInfo }
  | { ok: false; reason: 'no-workspace' | 'outside-workspace'; message: string };

/** True when `file` is `folder` itself or lies inside it (path-segment aware, not a prefix test). */
export function isInside(folder: string, file: string): boolean {
  const relative = path.relative(path.resolve(folder), path.resolve(file));
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

/** The innermost workspace folder containing `file` (folders may nest in a multi-root workspace). */
export function folderOf(file: string, folders: readonly WorkspaceFolderInfo[]): WorkspaceFolderInfo | undefined {
  return folders
    .filter((folder) => isInside(folder.path, file))
    .sort((a, b) => path.resolve(b.path).length - path.resolve(a.path).length)[0];
}

export function runsDirOfFolder(folder: WorkspaceFolderInfo): string {
  return path.resolve(folder.path, folder.runsDirectory);
}

export function resolveRunsFolder(specFile: string, folders: readonly WorkspaceFolderInfo[]): RunsFolderResolution {
  if (folders.length === 0) {
    return {
      ok: false,
      reason: 'no-workspace',
      message: 'Open a folder first: Model Lab keeps runs in a folder of the workspace (File > Open Folder…).',
    };
  }
  const folder = folderOf(specFile, folders);
  if (!folder) {
    return {
      ok: false,
      reason: 'outside-workspace',
      message:
        `${path.basename(specFile)} is outside the open workspace folders, so Model Lab does not know where to keep its runs. ` +
        `Move or copy it into ${folders.map((f) => f.name).join(' or ')}, or add its folder to the workspace.`,
    };
  }
  return { ok: true, runsDir: runsDirOfFolder(folder), folder };
}

/** Every distinct runs folder of the workspace, in folder order. */
export function allRunsDirs(folders: readonly WorkspaceFolderInfo[]): string[] {
  return [...new Set(folders.map(runsDirOfFolder))];
}

/**
 * Creates the runs folder if needed and checks it can be written. Returns an error message
 * naming the folder, or undefined when it is usable.
 */
export function checkWritableFolder(dir: string): string | undefined {
  try {
    fs.mkdirSync(dir, { recursive: true });
    fs.accessSync(dir, fs.constants.W_OK);
    return undefined;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why =
      code === 'EACCES' || code === 'EPERM' || code === 'EROFS'
        ? 'permission denied'
        : code === 'ENOTDIR' || code === 'EEXIST'
          ? 'a file with that name is in the way'
          : (error as Error).message;
    return `Cannot write runs to ${dir} (${why}). Choose another folder in the setting modelLab.runsDirectory.`;
  }
}
