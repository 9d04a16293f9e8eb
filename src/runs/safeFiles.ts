/**
 * Opening files of a run folder as untrusted input. A run folder can arrive with a repository the
 * user merely opened, so a reader never follows what the folder says blindly: every file it opens
 * is a regular file (no symlink, device, FIFO or folder), the folders between the run folder and
 * the file are real folders (no symlink leading out), and no file is read past a size bound.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RunFileError, errorCode, errorMessage } from './errors';

const MiB = 1024 * 1024;

/** run.json, status.json, spec.json, checkpoint.json, weight manifests, snapshots, sweep.json. */
export const MAX_JSON_BYTES = 32 * MiB;
/** metrics.jsonl: about 3 million records of a dozen metrics. */
export const MAX_METRICS_BYTES = 1024 * MiB;
/** One checkpoint's weights or optimizer state: past wasm32's heap, nothing could hold them anyway. */
export const MAX_WEIGHTS_BYTES = 2048 * MiB;

// O_NOFOLLOW refuses a symlink as the last component (Windows has no such flag: lstat checks it);
// O_NONBLOCK keeps a FIFO from blocking the open until someone writes to it.
const OPEN_FLAGS = fs.constants.O_RDONLY | (fs.constants.O_NOFOLLOW ?? 0) | (fs.constants.O_NONBLOCK ?? 0);

function sizeText(bytes: number): string {
  return bytes >= MiB ? `${(bytes / MiB).toFixed(bytes >= 10 * MiB ? 0 : 1)} MiB` : `${bytes} bytes`;
}

function tooLarge(size: number, maxBytes: number): string {
  return `is ${sizeText(size)}, more than the ${sizeText(maxBytes)} a file of this kind may hold`;
}

const SYMLINK = 'is a symbolic link; files of a run folder must be regular files inside it';

/** Why `stats` cannot be read as a file of a run folder, or undefined when it can. */
function notRegular(stats: fs.Stats): string | undefined {
  if (stats.isSymbolicLink()) return SYMLINK;
  if (stats.isDirectory()) return 'is a folder, not a file';
  if (!stats.isFile()) return 'is not a regular file (a device, pipe or socket)';
  return undefined;
}

/**
 * The stats of `file`, a regular file of at most `maxBytes` bytes, or undefined when it does not
 * exist. For files read in ranges (metrics.jsonl); open them with `openRegularFile`.
 */
export function statRegularFile(file: string, maxBytes: number): fs.Stats | undefined {
  let stats: fs.Stats;
  try {
    stats = fs.lstatSync(file);
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined;
    throw new RunFileError(file, `cannot read file (${errorMessage(error)})`);
  }
  const problem = notRegular(stats);
  if (problem) throw new RunFileError(file, problem);
  if (stats.size > maxBytes) throw new RunFileError(file, tooLarge(stats.size, maxBytes));
  return stats;
}

/** A read-only descriptor of `file` that never follows a final symlink nor waits on a FIFO. */
export function openRegularFile(file: string): number {
  try {
    return fs.openSync(file, OPEN_FLAGS);
  } catch (error) {
    const reason = errorCode(error) === 'ELOOP' ? SYMLINK : `cannot read file (${errorMessage(error)})`;
    throw new RunFileError(file, reason);
  }
}

/**
 * The bytes of `file`, which must be a regular file of at most `maxBytes` bytes. A missing file is
 * a RunFileError saying "file is missing" (readers report missing files distinctly).
 */
export function readRegularFile(file: string, maxBytes: number): Buffer {
  let stats: fs.Stats;
  try {
    stats = fs.lstatSync(file);
  } catch (error) {
    throw new RunFileError(file, errorCode(error) === 'ENOENT' ? 'file is missing' : `cannot read file (${errorMessage(error)})`);
  }
  const problem = notRegular(stats);
  if (problem) throw new RunFileError(file, problem);
  if (stats.size > maxBytes) throw new RunFileError(file, tooLarge(stats.size, maxBytes));

  const fd = openRegularFile(file);
  try {
    // Checked again on the open file: it may have been replaced since the lstat.
    const opened = fs.fstatSync(fd);
    const swapped = notRegular(opened);
    if (swapped) throw new RunFileError(file, swapped);
    if (opened.size > maxBytes) throw new RunFileError(file, tooLarge(opened.size, maxBytes));
    const buffer = Buffer.alloc(opened.size);
    let read = 0;
    while (read < buffer.length) {
      const n = fs.readSync(fd, buffer, read, buffer.length - read, read);
      if (n === 0) break; // shrank while we read: what is there is what we have
      read += n;
    }
    return buffer.subarray(0, read);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Throws unless every folder from `root` (exclusive) down to `dir` (inclusive) is a real folder,
 * not a symlink, and `dir` lies inside `root`. Use it before reading files nested in a run folder
 * (checkpoints/step-N/, snapshots/), so that a symlinked folder cannot lead a reader outside.
 */
export function assertFolderInside(root: string, dir: string): void {
  const relative = path.relative(root, dir);
  if (relative === '') return;
  if (relative.startsWith('..') || path.isAbsolute(relative)) {
    throw new RunFileError(dir, `is outside the run folder ${root}`);
  }
  let current = root;
  for (const part of relative.split(path.sep)) {
    current = path.join(current, part);
    let stats: fs.Stats;
    try {
      stats = fs.lstatSync(current);
    } catch (error) {
      throw new RunFileError(current, errorCode(error) === 'ENOENT' ? 'folder is missing' : `cannot read folder (${errorMessage(error)})`);
    }
    if (stats.isSymbolicLink()) throw new RunFileError(current, 'is a symbolic link; folders of a run must be real folders inside it');
    if (!stats.isDirectory()) throw new RunFileError(current, 'is not a folder');
  }
}

/** A file name a manifest may point at: one plain name in the same folder, no separators, no `..`. */
export function isPlainFileName(name: unknown): name is string {
  return typeof name === 'string' && /^[A-Za-z0-9_][A-Za-z0-9._-]{0,199}$/.test(name);
}
