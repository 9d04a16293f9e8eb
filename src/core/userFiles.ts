/**
 * Reading files the user names (experiment files, `--data`, `--input`, safetensors to import,
 * object images) with bounds: the path must be a regular file (a device such as /dev/zero, a
 * FIFO or a folder would block or never end), and no file is read past a documented size. A
 * symlink to a regular file is fine here: these are the user's own files, not a run folder's.
 */
import * as fs from 'node:fs';

const MiB = 1024 * 1024;

/** The documented limits (README, "Limits"). */
export const INPUT_LIMITS = {
  /** Experiment and sweep files. */
  specBytes: 4 * MiB,
  /** `--data` and `--input` JSON files. */
  jsonInputBytes: 64 * MiB,
  /** `weights import`: past wasm32's 4 GiB heap nothing could hold the weights anyway. */
  safetensorsBytes: 2048 * MiB,
  /** One image of an object folder (a 32 x 32 PNG is a few KB). */
  imageBytes: 1 * MiB,
} as const;

/** A user's file that cannot be read as input: the message names the file and what was expected. */
export class InputFileError extends Error {
  override readonly name = 'InputFileError';
  constructor(message: string, readonly reason: string) {
    super(message);
  }
}

export function sizeText(bytes: number): string {
  if (bytes >= 1024 * MiB) return `${(bytes / (1024 * MiB)).toFixed(1)} GiB`;
  return bytes >= MiB ? `${(bytes / MiB).toFixed(1)} MiB` : `${bytes} bytes`;
}

function notRegular(stats: fs.Stats): string | undefined {
  if (stats.isDirectory()) return 'is a folder, not a file';
  if (!stats.isFile()) return 'is not a regular file (a device, pipe or socket)';
  return undefined;
}

// O_NONBLOCK: opening a FIFO must not wait for a writer (the fstat below then refuses it).
const OPEN_FLAGS = fs.constants.O_RDONLY | (fs.constants.O_NONBLOCK ?? 0);

/** Why `file` cannot be read as a regular file of at most `maxBytes`, or undefined when it can. */
export function regularFileProblem(file: string, maxBytes: number): string | undefined {
  let stats: fs.Stats;
  try {
    stats = fs.statSync(file);
  } catch (error) {
    return `cannot be read (${(error as Error).message})`;
  }
  return notRegular(stats) ?? (stats.size > maxBytes ? tooLarge(stats.size, maxBytes) : undefined);
}

const tooLarge = (size: number, maxBytes: number) => `is ${sizeText(size)}, more than the ${sizeText(maxBytes)} allowed for this input`;

/**
 * The bytes of `file` (a regular file of at most `maxBytes`); InputFileError otherwise, with
 * `what` naming the input ("data file", "safetensors file").
 */
export function readUserFile(file: string, what: string, maxBytes: number): Buffer {
  const fail = (reason: string): never => {
    throw new InputFileError(`the ${what} ${file} ${reason}`, reason);
  };
  const problem = regularFileProblem(file, maxBytes);
  if (problem) fail(problem);
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, OPEN_FLAGS);
    // Checked again on the open file: it may have been replaced since the stat.
    const stats = fs.fstatSync(fd);
    const swapped = notRegular(stats) ?? (stats.size > maxBytes ? tooLarge(stats.size, maxBytes) : undefined);
    if (swapped) fail(swapped);
    const buffer = Buffer.alloc(stats.size);
    let read = 0;
    while (read < buffer.length) {
      const n = fs.readSync(fd, buffer, read, buffer.length - read, read);
      if (n === 0) break;
      read += n;
    }
    return buffer.subarray(0, read);
  } catch (error) {
    if (error instanceof InputFileError) throw error;
    return fail(`cannot be read (${(error as Error).message})`);
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
