/**
 * The one rule for "is the process that owns this run still there?", shared by the reader
 * (to show 'interrupted') and the engine (to decide whether a run may be resumed).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import type { RunState } from '../protocol';
import { HEARTBEAT_TIMEOUT_MS, type RunStatusRecord } from './layout';

/** True when a process with this pid exists on this machine (EPERM: exists, owned by someone else). */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isSafeInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Linux's clock ticks per second for /proc/<pid>/stat (USER_HZ: 100 on every Linux build that matters). */
const USER_HZ = 100;

/**
 * When process `pid` started (ms since the epoch), or undefined where the OS does not say cheaply
 * (only Linux does, through /proc). Two readings of one process give the same value, so a pid
 * that a new process reuses after the owner died is told apart from the owner.
 */
export function processStartTime(pid: number): number | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22 (starttime, in ticks since boot) counted after the command name, which may hold spaces.
    const ticks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    const bootSeconds = Number(/^btime (\d+)$/m.exec(fs.readFileSync('/proc/stat', 'utf8'))?.[1]);
    if (!Number.isFinite(ticks) || !Number.isFinite(bootSeconds)) return undefined;
    return bootSeconds * 1000 + (ticks * 1000) / USER_HZ;
  } catch {
    return undefined;
  }
}

/** This process's start time: from the OS where it says (see processStartTime), else from its uptime. */
export function ownStartTime(): number {
  return processStartTime(process.pid) ?? Math.round(Date.now() - process.uptime() * 1000);
}

export interface LivenessContext {
  now?: number;
  hostname?: string;
  isAlive?: (pid: number) => boolean;
  /** The start time of a live process (see processStartTime); undefined when unknown. */
  startTimeOf?: (pid: number) => number | undefined;
  timeoutMs?: number;
}

/** What an owner lock (src/runs/ownership.ts) says about its process. */
export interface OwnerIdentity {
  pid: number;
  hostname: string;
  /** ISO time the owning process started. */
  startedAt: string;
  /** ISO time of the owner's latest heartbeat. */
  heartbeat: string;
}

/** Start times of one process read twice agree to the tick; a second is generous for clock rounding. */
const START_TIME_TOLERANCE_MS = 1_000;

/**
 * Is the process that holds an owner lock still there? On this host: its pid is alive and is
 * the same process (not a reuse of the pid), whatever the heartbeat's age, because a long
 * synchronous step may delay the heartbeat but never outlives the process. On another host,
 * where pids mean nothing: the freshest of the lock's heartbeat and `otherHeartbeat` (the run's
 * status.json) is younger than the timeout.
 */
export function isOwnerAlive(owner: OwnerIdentity, context: LivenessContext = {}, otherHeartbeat?: string): boolean {
  const hostname = context.hostname ?? os.hostname();
  if (owner.hostname === hostname) {
    const isAlive = context.isAlive ?? isProcessAlive;
    if (!isAlive(owner.pid)) return false;
    const started = (context.startTimeOf ?? processStartTime)(owner.pid);
    const recorded = Date.parse(owner.startedAt);
    return started === undefined || Number.isNaN(recorded) || Math.abs(started - recorded) <= START_TIME_TOLERANCE_MS;
  }
  const now = context.now ?? Date.now();
  const timeoutMs = context.timeoutMs ?? HEARTBEAT_TIMEOUT_MS;
  const beats = [owner.heartbeat, otherHeartbeat].map((beat) => (beat === undefined ? NaN : Date.parse(beat)));
  const freshest = Math.max(...beats.filter((beat) => !Number.isNaN(beat)));
  return now - freshest <= timeoutMs;
}

/**
 * The state to show for a status record, and the run's owner lock when it has one:
 * - with an owner lock, a 'running' or 'queued' run stays so while its owner is alive (see
 *   isOwnerAlive) and becomes 'interrupted' when it is gone;
 * - without one (written by an older Model Lab, or a writer that closed without a final state):
 *   'running' becomes 'interrupted' when the heartbeat is older than HEARTBEAT_TIMEOUT_MS (or
 *   unreadable), or when the owner ran on this host and its pid is gone;
 * - 'queued' becomes 'interrupted' when the owner ran on this host and its pid is gone (a queued
 *   run waits for a worker and does not beat, so its heartbeat age says nothing);
 * - every other state is final and shown as is.
 */
export function effectiveState(status: RunStatusRecord, context: LivenessContext = {}, owner?: OwnerIdentity): RunState {
  if (status.state !== 'running' && status.state !== 'queued') return status.state;
  if (owner) {
    const otherHeartbeat = status.hostname === owner.hostname ? status.heartbeat : undefined;
    return isOwnerAlive(owner, context, otherHeartbeat) ? status.state : 'interrupted';
  }
  const now = context.now ?? Date.now();
  const hostname = context.hostname ?? os.hostname();
  const isAlive = context.isAlive ?? isProcessAlive;
  const timeoutMs = context.timeoutMs ?? HEARTBEAT_TIMEOUT_MS;

  const ownerGone = status.hostname === hostname && !isAlive(status.pid);
  if (ownerGone) return 'interrupted';
  if (status.state === 'running') {
    const beat = Date.parse(status.heartbeat);
    if (Number.isNaN(beat) || now - beat > timeoutMs) return 'interrupted';
  }
  return status.state;
}
