/**
 * Collecting the `.tmp-*` folders a killed process left in a runs folder: runs it was creating
 * or deleting, and sweeps it was staging (see src/runs/sweeps.ts). A temp name ends in the
 * creator's pid and a random part (`tempSuffix`); a folder is collected only when that pid is
 * gone and the folder says it was made on this host (a runs folder on a network drive may be
 * shared with machines whose pids mean nothing here).
 *
 * A sweep killed while moving its members out of its staging folder may have left some of them
 * in the runs folder already: its staging folder's sweep.json lists them, and those still queued
 * by the dead process (never started, so nothing of value) are removed with it.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SWEEP_FILE } from '../core/sweep';
import { readJsonFile, removeDirAtomic } from './atomic';
import { STATUS_FILE, TEMP_PREFIX } from './layout';
import { isProcessAlive } from './liveness';

/** In a sweep's staging folder: who stages it (the folder name has the pid; this the host). */
export const STAGING_OWNER_FILE = 'staging.json';

export interface StagingOwner {
  pid: number;
  hostname: string;
}

export const stagingOwner = (): StagingOwner => ({ pid: process.pid, hostname: os.hostname() });

/** The pid in a temp name `.tmp-<anything>-<pid>-<random>`, or undefined. */
export function tempOwnerPid(name: string): number | undefined {
  if (!name.startsWith(TEMP_PREFIX)) return undefined;
  const match = /-(\d+)-[0-9a-z]+$/.exec(name);
  return match ? Number(match[1]) : undefined;
}

const hostnameIn = (file: string): string | undefined => {
  try {
    const value = readJsonFile(file) as { hostname?: unknown } | null;
    return typeof value?.hostname === 'string' ? value.hostname : undefined;
  } catch {
    return undefined;
  }
};

export interface CollectOptions {
  hostname?: string;
  isAlive?: (pid: number) => boolean;
}

/**
 * Removes the temp folders of dead same-host processes from `runsDir`; returns their names.
 * Best effort: a folder that cannot be read or removed is left for the next time.
 */
export function collectStaleTemps(runsDir: string, options: CollectOptions = {}): string[] {
  const hostname = options.hostname ?? os.hostname();
  const isAlive = options.isAlive ?? isProcessAlive;
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(runsDir, { withFileTypes: true });
  } catch {
    return [];
  }
  const collected: string[] = [];
  for (const entry of entries) {
    const pid = tempOwnerPid(entry.name);
    if (!entry.isDirectory() || pid === undefined || pid === process.pid || isAlive(pid)) continue;
    const dir = path.join(runsDir, entry.name);
    // A run being created or deleted has status.json; a staged sweep has its owner file.
    const owner = hostnameIn(path.join(dir, STAGING_OWNER_FILE)) ?? hostnameIn(path.join(dir, STATUS_FILE));
    if (owner !== hostname) continue;
    try {
      removeUnstartedMembers(runsDir, dir, pid, hostname);
      fs.rmSync(dir, { recursive: true, force: true });
      collected.push(entry.name);
    } catch {
      // Left for the next collection.
    }
  }
  return collected;
}

/** Members a dead sweep stager had already moved out, still queued by it: never started. */
function removeUnstartedMembers(runsDir: string, stagingDir: string, pid: number, hostname: string): void {
  const sweepFile = path.join(stagingDir, SWEEP_FILE);
  if (!fs.existsSync(sweepFile)) return;
  const record = readJsonFile(sweepFile) as { members?: { runId?: unknown }[] } | null;
  for (const member of record?.members ?? []) {
    if (typeof member?.runId !== 'string' || member.runId.includes('/') || member.runId.includes('\\') || member.runId.startsWith('.')) continue;
    const runDir = path.join(runsDir, member.runId);
    let status: { state?: unknown; pid?: unknown; hostname?: unknown } | null;
    try {
      status = readJsonFile(path.join(runDir, STATUS_FILE)) as typeof status;
    } catch {
      continue; // not there (never moved out), or not ours to judge
    }
    if (status?.state === 'queued' && status.pid === pid && status.hostname === hostname) removeDirAtomic(runDir);
  }
}
