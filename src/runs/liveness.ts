/**
 * The one rule for "is the process that owns this run still there?", shared by the reader
 * (to show 'interrupted') and the engine (to decide whether a run may be resumed).
 */
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

export interface LivenessContext {
  now?: number;
  hostname?: string;
  isAlive?: (pid: number) => boolean;
  timeoutMs?: number;
}

/**
 * The state to show for a status record:
 * - 'running' becomes 'interrupted' when the heartbeat is older than HEARTBEAT_TIMEOUT_MS (or
 *   unreadable), or when the owner ran on this host and its pid is gone;
 * - 'queued' becomes 'interrupted' when the owner ran on this host and its pid is gone (a queued
 *   run waits for a worker and does not beat, so its heartbeat age says nothing);
 * - every other state is final and shown as is.
 */
export function effectiveState(status: RunStatusRecord, context: LivenessContext = {}): RunState {
  if (status.state !== 'running' && status.state !== 'queued') return status.state;
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
