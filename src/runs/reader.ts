/**
 * Reading runs (host, CLI, inference), plus the two user edits on a run: metadata and deletion.
 *
 * Broken run folders (a file missing or unreadable) are listed, not skipped: readRun returns them
 * with state 'failed' and `error` saying what is wrong, so the user sees them and can delete them.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ResolvedSpec } from '../core/spec/types';
import type { MetricRecord, RunSummary } from '../protocol';
import { RunFileError, errorCode, errorMessage, readJsonFile, removeDirAtomic, writeJsonAtomic } from './atomic';
import { effectiveState } from './liveness';
import {
  METRICS_FILE,
  RUN_FILE,
  SPEC_FILE,
  STATUS_FILE,
  runFile,
  type RunRecord,
  type RunStatusRecord,
} from './layout';
import { readMetricsFile } from './metrics';
import { acquireOwnerLock, readOwner } from './ownership';
import { parseRunRecord, parseStatusRecord, refuseNewerFormat } from './records';
import { SPEC_FORMAT_VERSION } from '../core/spec/types';

export { effectiveState, isProcessAlive } from './liveness';
export { RunFileError } from './atomic';

/** Written by sweeps (src/core/sweep.ts SWEEP_FILE) in their own folder beside the member runs. */
const SWEEP_RECORD_FILE = 'sweep.json';

export function readRunRecord(runDir: string): RunRecord {
  const file = runFile(runDir, RUN_FILE);
  return parseRunRecord(file, readJsonFile(file));
}

export function readStatus(runDir: string): RunStatusRecord {
  const file = runFile(runDir, STATUS_FILE);
  return parseStatusRecord(file, readJsonFile(file));
}

function assertDirectory(runDir: string): void {
  let isDirectory = false;
  try {
    isDirectory = fs.statSync(runDir).isDirectory();
  } catch {
    // reported below
  }
  if (!isDirectory) throw new RunFileError(runDir, 'run folder does not exist');
}

/** What is wrong with a file of the run, in words for the user (relative file name first). */
function describeProblem(error: unknown): string {
  if (error instanceof RunFileError) return `${path.basename(error.file)}: ${error.detail}`;
  return errorMessage(error);
}

/**
 * The summary of one run. State 'interrupted' is derived (see `effectiveState`); a broken folder
 * gives state 'failed' with `error` naming the missing or bad files. Throws only when `runDir`
 * is not a folder.
 */
export function readRun(runDir: string): RunSummary {
  assertDirectory(runDir);
  const id = path.basename(runDir);
  const problems: string[] = [];
  const attempt = <T>(read: () => T): T | undefined => {
    try {
      return read();
    } catch (error) {
      problems.push(describeProblem(error));
      return undefined;
    }
  };

  const record = attempt(() => readRunRecord(runDir));
  const status = attempt(() => readStatus(runDir));
  if (!fs.existsSync(runFile(runDir, SPEC_FILE))) problems.push(`${SPEC_FILE}: file is missing`);

  const base = {
    id,
    dir: runDir,
    name: record?.name ?? id,
    experiment: record?.experiment ?? '',
    ...(record?.specFile !== undefined ? { specFile: record.specFile } : {}),
    createdAt: record?.createdAt ?? fs.statSync(runDir).mtime.toISOString(),
    notes: record?.notes ?? '',
    tags: record?.tags ?? [],
    step: status?.step ?? 0,
    totalSteps: status?.totalSteps ?? 0,
    ...(status?.elapsedMs !== undefined ? { elapsedMs: status.elapsedMs } : {}),
    ...(record?.init !== undefined ? { init: record.init } : {}),
  };
  if (!record || !status || problems.length > 0) {
    return { ...base, state: 'failed', error: `Broken run folder: ${problems.join('; ')}` };
  }

  const owner = readOwner(runDir);
  const state = effectiveState(status, {}, owner);
  if (state === 'interrupted' && status.state !== 'interrupted') {
    return {
      ...base,
      state,
      error: `The process that ran this run (pid ${status.pid} on ${status.hostname}) stopped; last heartbeat ${status.heartbeat}`,
    };
  }
  return { ...base, state, ...(status.error !== undefined ? { error: status.error } : {}) };
}

/**
 * Every run under `runsDir`, newest first. Temp folders (`.tmp-*`), hidden entries and sweep
 * folders (holding `sweep.json`; their members are ordinary runs beside them) are skipped.
 */
export function listRuns(runsDir: string): RunSummary[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(runsDir, { withFileTypes: true });
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return [];
    throw new Error(`Cannot list runs in the folder "${runsDir}": ${errorMessage(error)}`, { cause: error });
  }
  const runs: RunSummary[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
    if (fs.existsSync(path.join(runsDir, entry.name, SWEEP_RECORD_FILE))) continue;
    try {
      runs.push(readRun(path.join(runsDir, entry.name)));
    } catch {
      // Deleted between readdir and read: nothing to show.
    }
  }
  return runs.sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id));
}

export function readSpec(runDir: string): ResolvedSpec {
  const file = runFile(runDir, SPEC_FILE);
  const spec = readJsonFile(file);
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) {
    throw new RunFileError(file, 'expected a JSON object (the resolved experiment spec)');
  }
  refuseNewerFormat(file, spec as Record<string, unknown>, SPEC_FORMAT_VERSION, 'experiment');
  const { name, training } = spec as Partial<ResolvedSpec>;
  if (typeof name !== 'string' || typeof training !== 'object' || training === null) {
    throw new RunFileError(file, 'not a resolved experiment spec (missing "name" or "training")');
  }
  return spec as ResolvedSpec;
}

/** Metric records from byte `fromOffset` (0: from the start); pass `nextOffset` back to tail the file. */
export function readMetrics(runDir: string, fromOffset = 0): { records: MetricRecord[]; nextOffset: number } {
  return readMetricsFile(runFile(runDir, METRICS_FILE), fromOffset);
}

/** Rename a run, or replace its notes or tags; run.json is replaced atomically. */
export function updateRunMeta(runDir: string, patch: { name?: string; notes?: string; tags?: string[] }): void {
  const record = readRunRecord(runDir);
  if (patch.name !== undefined) {
    if (typeof patch.name !== 'string' || patch.name.trim() === '') {
      throw new Error(`A run name must be a non-empty string, got ${JSON.stringify(patch.name)}`);
    }
    record.name = patch.name.trim();
  }
  if (patch.notes !== undefined) {
    if (typeof patch.notes !== 'string') throw new Error(`Run notes must be a string, got ${JSON.stringify(patch.notes)}`);
    record.notes = patch.notes;
  }
  if (patch.tags !== undefined) {
    const bad = Array.isArray(patch.tags) ? patch.tags.find((tag) => typeof tag !== 'string' || tag.trim() === '') : patch.tags;
    if (!Array.isArray(patch.tags) || bad !== undefined) {
      throw new Error(`Run tags must be non-empty strings, got ${JSON.stringify(bad)}`);
    }
    record.tags = [...new Set(patch.tags.map((tag) => tag.trim()))];
  }
  writeJsonAtomic(runFile(runDir, RUN_FILE), record);
}

/**
 * Delete a run folder. It is renamed to a `.tmp-` name first, so listings never show a
 * half-deleted run. Refuses folders that do not look like runs, and runs a live owner holds
 * (RunLockedError): the lock taken first goes away with the folder.
 */
export function deleteRun(runDir: string): void {
  assertDirectory(runDir);
  const looksLikeRun = [RUN_FILE, STATUS_FILE, SPEC_FILE].some((name) => fs.existsSync(runFile(runDir, name)));
  if (!looksLikeRun) {
    throw new RunFileError(runDir, `not a run folder (no ${RUN_FILE}, ${STATUS_FILE} or ${SPEC_FILE}); not deleted`);
  }
  const lock = acquireOwnerLock(runDir);
  try {
    removeDirAtomic(runDir);
  } catch (error) {
    lock.release();
    throw new Error(`Cannot delete the run folder "${runDir}": ${errorMessage(error)}`, { cause: error });
  }
}
