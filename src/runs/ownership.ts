/**
 * One owner per run: the process that writes a run folder holds its owner lock, and nobody else
 * writes it (train, resume, weights import, delete) while that owner is alive.
 *
 *   <run>/owner.lock/owner.json   OwnerRecord: pid, hostname, process start, heartbeat, token
 *
 * The lock folder is built complete under a temp name and renamed into place. Renaming a folder
 * onto an existing non-empty one fails on every OS and on network file systems, so of several
 * processes exactly one gets the lock, and no reader ever sees a lock without its owner.
 *
 * The owner refreshes the heartbeat from a thread that does not train (the Engine's), since a
 * long synchronous evaluation blocks the training thread. A lock whose owner is gone (see
 * isOwnerAlive: a dead pid on this host; on another host, a heartbeat older than
 * HEARTBEAT_TIMEOUT_MS) is stale: the next owner takes it over, with a note.
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RunFileError, errorCode, errorMessage, removeDirAtomic, sleepSync, writeJsonAtomic } from './atomic';
import { TEMP_PREFIX, tempSuffix } from './layout';
import { isOwnerAlive, ownStartTime, type LivenessContext, type OwnerIdentity } from './liveness';
import { readRegularFile } from './safeFiles';

export const OWNER_LOCK_DIR = 'owner.lock';
const OWNER_FILE = 'owner.json';
/** Held for the few milliseconds it takes to remove a stale lock, so two takers cannot both win. */
const TAKEOVER_DIR = 'owner.takeover';
/** A takeover folder older than this was left by a taker that died mid-way. */
const TAKEOVER_TIMEOUT_MS = 10_000;
/** Between attempts while another process is taking a stale lock over. */
const RETRY_DELAY_MS = 10;
const MAX_ATTEMPTS = 500;
/** How often an owner refreshes its heartbeat; readers on other hosts allow HEARTBEAT_TIMEOUT_MS. */
export const OWNER_HEARTBEAT_INTERVAL_MS = 2_000;
/** owner.json is a few hundred bytes; a run folder from elsewhere may hold anything. */
const MAX_OWNER_BYTES = 64 * 1024;

/** owner.json */
export interface OwnerRecord extends OwnerIdentity {
  /** ISO time the lock was taken. */
  acquiredAt: string;
  /** Random: tells this owner's lock from a later one of the same process. */
  token: string;
}

/** A live owner holds the run: the message names it, for the user. */
export class RunLockedError extends Error {
  constructor(
    readonly runDir: string,
    readonly owner: OwnerRecord,
  ) {
    super(`${runDir} is in use by ${describeOwner(owner)}; wait until it ends or stop it there`);
    this.name = 'RunLockedError';
  }
}

/** This owner no longer holds its lock: another process took the run over (or removed the lock). */
export class LockLostError extends Error {
  constructor(runDir: string, now?: OwnerRecord) {
    super(`${runDir}: this process no longer owns the run (${now ? `taken over by ${describeOwner(now)}` : 'its owner lock was removed'}); stopped writing to it`);
    this.name = 'LockLostError';
  }
}

/** "pid 4242 on lab-3 (since 2026-12-07T20:01:02.000Z, last heartbeat 3 s ago)" */
export function describeOwner(owner: OwnerRecord, now = Date.now()): string {
  const age = Math.max(0, Math.round((now - Date.parse(owner.heartbeat)) / 1000));
  const beat = Number.isNaN(age) ? 'no readable heartbeat' : `last heartbeat ${age} s ago`;
  return `pid ${owner.pid} on ${owner.hostname} (since ${owner.acquiredAt}, ${beat})`;
}

function lockDir(runDir: string): string {
  return path.join(runDir, OWNER_LOCK_DIR);
}

function ownerFile(runDir: string): string {
  return path.join(lockDir(runDir), OWNER_FILE);
}

function isOwnerRecord(value: unknown): value is OwnerRecord {
  const v = value as Partial<OwnerRecord> | null;
  return (
    typeof v === 'object' && v !== null &&
    Number.isSafeInteger(v.pid) && (v.pid as number) > 0 &&
    [v.hostname, v.startedAt, v.acquiredAt, v.heartbeat, v.token].every((field) => typeof field === 'string')
  );
}

/** What the lock folder holds: nothing, an owner, or something unreadable (a stale, foreign lock). */
type LockState = { kind: 'free' } | { kind: 'held'; owner: OwnerRecord; text: string } | { kind: 'broken'; problem: string; text: string };

function readLock(runDir: string): LockState {
  const file = ownerFile(runDir);
  let text: string;
  try {
    text = readRegularFile(file, MAX_OWNER_BYTES).toString('utf8');
  } catch (error) {
    // No owner.json: no lock, or a lock folder with something else in it (a stale, foreign lock).
    return fs.existsSync(lockDir(runDir)) ? { kind: 'broken', problem: errorMessage(error), text: '' } : { kind: 'free' };
  }
  try {
    const owner = JSON.parse(text) as unknown;
    if (isOwnerRecord(owner)) return { kind: 'held', owner, text };
  } catch {
    // reported below
  }
  return { kind: 'broken', problem: `${OWNER_FILE} is not an owner record`, text };
}

/** The owner of a run as its lock says, alive or not; undefined when the run has no (readable) lock. */
export function readOwner(runDir: string): OwnerRecord | undefined {
  const lock = readLock(runDir);
  return lock.kind === 'held' ? lock.owner : undefined;
}

/** A lock this process holds. Only its holder beats and releases it. */
export class OwnerLock {
  private lost = false;

  constructor(
    readonly runDir: string,
    readonly token: string,
  ) {}

  /** True while the lock on disk is still this one. */
  isHeld(): boolean {
    if (this.lost) return false;
    const lock = readLock(this.runDir);
    this.lost = !(lock.kind === 'held' && lock.owner.token === this.token);
    return !this.lost;
  }

  /** Throws LockLostError unless the lock on disk is still this one. */
  assertHeld(): void {
    if (!this.isHeld()) throw new LockLostError(this.runDir, readOwner(this.runDir));
  }

  /** Refresh the heartbeat; false (and nothing written) when the lock is no longer this one. */
  beat(): boolean {
    const lock = readLock(this.runDir);
    if (lock.kind !== 'held' || lock.owner.token !== this.token) {
      this.lost = true;
      return false;
    }
    writeOwnerFile(lockDir(this.runDir), { ...lock.owner, heartbeat: new Date().toISOString() });
    return true;
  }

  /** Give the run up. A lock that is no longer this one (or the run folder itself) may be gone: nothing to do. */
  release(): void {
    if (!this.isHeld()) return;
    this.lost = true;
    try {
      removeDirAtomic(lockDir(this.runDir));
    } catch (error) {
      if (errorCode(error) !== 'ENOENT') throw error;
    }
  }
}

/**
 * A lock another thread of this process holds (the Engine holds it, the worker's sink writes):
 * checks that the lock with `token` is in place, and lets the caller check again later.
 */
export function attachOwnerLock(runDir: string, token: string): OwnerLock {
  const lock = new OwnerLock(runDir, token);
  if (!lock.isHeld()) {
    const owner = readOwner(runDir);
    throw owner ? new RunLockedError(runDir, owner) : new LockLostError(runDir);
  }
  return lock;
}

export interface AcquireOptions {
  /** Told when a stale lock was taken over (default: a process warning, on stderr). */
  onTakeover?: (note: string) => void;
  liveness?: LivenessContext;
}

/**
 * Take the owner lock of `runDir`, or throw RunLockedError naming the live owner. A stale lock is
 * taken over (and `onTakeover` told why).
 */
export function acquireOwnerLock(runDir: string, options: AcquireOptions = {}): OwnerLock {
  if (!fs.existsSync(runDir)) throw new RunFileError(runDir, 'run folder does not exist');
  const now = new Date().toISOString();
  const record: OwnerRecord = {
    pid: process.pid,
    hostname: os.hostname(),
    startedAt: new Date(ownStartTime()).toISOString(),
    acquiredAt: now,
    heartbeat: now,
    token: crypto.randomBytes(12).toString('hex'),
  };
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    if (placeLock(runDir, record)) {
      removeAbandonedTemps(runDir);
      return new OwnerLock(runDir, record.token);
    }
    const lock = readLock(runDir);
    if (lock.kind === 'free') continue; // released between our attempt and the read: try again
    if (lock.kind === 'held' && isOwnerAlive(lock.owner, options.liveness)) throw new RunLockedError(runDir, lock.owner);
    if (removeStaleLock(runDir, lock.text)) {
      const why = lock.kind === 'held' ? `${describeOwner(lock.owner)}, which is gone` : `an unreadable lock (${lock.problem})`;
      (options.onTakeover ?? ((note) => process.emitWarning(note)))(`Took over ${runDir} from ${why}.`);
    } else {
      sleepSync(RETRY_DELAY_MS); // another process is taking it over: see who wins
    }
  }
  throw new Error(`Cannot take the owner lock of ${runDir}: it keeps changing hands`);
}

/**
 * owner.json, replaced atomically (temp file and rename) but not flushed to disk: after a power
 * loss the lock is stale anyway, and a sweep takes thousands of locks on the host's thread.
 */
function writeOwnerFile(dir: string, record: OwnerRecord): void {
  writeJsonAtomic(path.join(dir, OWNER_FILE), record, { durable: false });
}

const TEMP_LOCK_PREFIX = `${TEMP_PREFIX}owner-`;

/**
 * Build the lock under a temp name and rename it into place; false when that did not happen
 * (a lock is there, or a transient error): the caller looks at the lock and tries again.
 */
function placeLock(runDir: string, record: OwnerRecord): boolean {
  const temp = path.join(runDir, `${TEMP_LOCK_PREFIX}${tempSuffix()}`);
  fs.mkdirSync(temp);
  try {
    writeOwnerFile(temp, record);
    fs.renameSync(temp, lockDir(runDir));
    return true;
  } catch (error) {
    // Taken: ENOTEMPTY/EEXIST (POSIX), EPERM (Windows); EBUSY/EACCES: Windows briefly holding a
    // file; ENOENT: the new owner removed our temp folder as abandoned.
    if (['ENOTEMPTY', 'EEXIST', 'EPERM', 'EBUSY', 'EACCES', 'ENOENT'].includes(errorCode(error) ?? '')) return false;
    throw error;
  } finally {
    fs.rmSync(temp, { recursive: true, force: true });
  }
}

/** Temp lock folders of takers killed mid-way; any other taker's attempt just fails (see placeLock). */
function removeAbandonedTemps(runDir: string): void {
  for (const name of fs.readdirSync(runDir)) {
    if (name.startsWith(TEMP_LOCK_PREFIX)) fs.rmSync(path.join(runDir, name), { recursive: true, force: true });
  }
}

/**
 * Remove the lock if it still reads `seen` (the stale one we judged), under the takeover folder
 * so that two takers never both remove: the second would remove the first one's fresh lock.
 */
function removeStaleLock(runDir: string, seen: string): boolean {
  const mutex = path.join(runDir, TAKEOVER_DIR);
  try {
    fs.mkdirSync(mutex);
  } catch (error) {
    if (errorCode(error) !== 'EEXIST') throw error;
    clearAbandonedTakeover(mutex);
    return false;
  }
  try {
    const current = readLock(runDir);
    if (current.kind === 'free' || current.text !== seen) return false;
    removeDirAtomic(lockDir(runDir));
    return true;
  } finally {
    fs.rmSync(mutex, { recursive: true, force: true });
  }
}

function clearAbandonedTakeover(mutex: string): void {
  try {
    if (Date.now() - fs.statSync(mutex).mtimeMs > TAKEOVER_TIMEOUT_MS) fs.rmdirSync(mutex);
  } catch {
    // Gone already, or just renewed by its taker: nothing to clear.
  }
}

/** Run `work` while holding the run's owner lock (short commands: weights import, delete). */
export async function withOwnerLock<T>(runDir: string, work: () => T | Promise<T>, options?: AcquireOptions): Promise<T> {
  const lock = acquireOwnerLock(runDir, options);
  try {
    return await work();
  } finally {
    lock.release();
  }
}
