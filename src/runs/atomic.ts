/**
 * Crash-safe file primitives: a replaced file is either the old or the new version, never a mix,
 * and read errors name the file (and line) at fault.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RunFileError, errorCode, errorMessage } from './errors';
import { TEMP_PREFIX, tempSuffix } from './layout';
import { MAX_JSON_BYTES, readRegularFile } from './safeFiles';

export { RunFileError, errorCode, errorMessage } from './errors';

/** Error codes Windows returns while another process (indexer, antivirus, reader) has a file open. */
const TRANSIENT_RENAME_CODES = new Set(['EPERM', 'EBUSY', 'EACCES']);
const RENAME_ATTEMPTS = 8;

/** Block the thread briefly; only used between rename retries, which are rare. */
export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * `fs.renameSync`, retried a few times on the transient errors Windows gives when the target is
 * open elsewhere. On POSIX these codes are permanent and the retries only delay the same error.
 */
export function renameWithRetry(from: string, to: string): void {
  for (let attempt = 1; ; attempt++) {
    try {
      fs.renameSync(from, to);
      return;
    } catch (error) {
      const transient = TRANSIENT_RENAME_CODES.has(errorCode(error) ?? '');
      if (!transient || attempt >= RENAME_ATTEMPTS || process.platform !== 'win32') throw error;
      sleepSync(10 * attempt);
    }
  }
}

/** Make a rename inside `dir` durable (POSIX); not possible (nor needed) on Windows. */
export function fsyncDir(dir: string): void {
  if (process.platform === 'win32') return;
  let fd: number | undefined;
  try {
    fd = fs.openSync(dir, 'r');
    fs.fsyncSync(fd);
  } catch {
    // Best effort: some file systems refuse fsync on directories.
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** Write `data` to a new file and flush it to disk. */
export function writeFileDurable(file: string, data: string | Uint8Array): void {
  const fd = fs.openSync(file, 'w');
  try {
    fs.writeFileSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Replace `file` atomically: temp file in the same folder, fsync, rename over the old one. The
 * one temp-then-rename of the run store. `durable: false` skips both fsyncs (the rename stays
 * atomic): for files a power loss makes stale anyway, such as the owner lock's owner.json.
 */
export function writeFileAtomic(file: string, data: string | Uint8Array, options: { durable?: boolean } = {}): void {
  const durable = options.durable ?? true;
  const dir = path.dirname(file);
  const temp = path.join(dir, `${TEMP_PREFIX}${path.basename(file)}-${tempSuffix()}`);
  try {
    if (durable) writeFileDurable(temp, data);
    else fs.writeFileSync(temp, data);
    renameWithRetry(temp, file);
  } catch (error) {
    fs.rmSync(temp, { force: true });
    throw error;
  }
  if (durable) fsyncDir(dir);
}

export function writeJsonAtomic(file: string, value: unknown, options: { durable?: boolean } = {}): void {
  writeFileAtomic(file, JSON.stringify(value, null, 2) + '\n', options);
}

/**
 * Read and parse a JSON file of the run store: a regular file (no symlink) of at most
 * MAX_JSON_BYTES; a missing, unreadable or unparsable file is a RunFileError naming it.
 */
export function readJsonFile(file: string): unknown {
  const text = readRegularFile(file, MAX_JSON_BYTES).toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new RunFileError(file, `not valid JSON (${errorMessage(error)})`);
  }
}

/** Remove a folder so that no reader ever sees it half-deleted: rename to a temp name, then delete. */
export function removeDirAtomic(dir: string): void {
  const doomed = path.join(path.dirname(dir), `${TEMP_PREFIX}delete-${path.basename(dir)}-${tempSuffix()}`);
  renameWithRetry(dir, doomed);
  fs.rmSync(doomed, { recursive: true, force: true, maxRetries: 3 });
}
