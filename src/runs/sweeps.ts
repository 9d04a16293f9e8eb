/**
 * Sweep folders: one folder with sweep.json, the members ordinary runs beside it. Created here
 * (all or nothing, see createSweepFolder) and read here, for the host's Runs view and the CLI alike.
 *
 *   <runsDir>/<yyyymmdd-hhmmss>-<sweep name>/sweep.json        the resolved sweep + member run ids
 *   <runsDir>/<yyyymmdd-hhmmss>-<sweep name>.<label>/          each member: a run like any other
 *
 * Members stay at the top of the runs folder so that listing, reading, resuming and deleting a
 * member is exactly that of a run; the Runs view groups them under their sweep by sweep.json.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ResolvedSpec } from '../core/spec/types';
import { lastMetricValue, parseSweepRecord, summariseOverSeeds, SWEEP_FILE, valueLabels, type CellSummary, type GridPoint, type SweepMember, type SweepRecord } from '../core/sweep';
import type { RunState } from '../protocol';
import { fsyncDir, readJsonFile, removeDirAtomic, renameWithRetry, writeJsonAtomic } from './atomic';
import { RUN_FILE, TEMP_PREFIX, folderTimestamp, tempSuffix, type RunEnvironment, type RunRecord } from './layout';
import { readMetrics, readRun } from './reader';
import { createRun } from './runFolder';
import { STAGING_OWNER_FILE, stagingOwner } from './staleTemps';

// ---------------------------------------------------------------------------------------------
// Creating a sweep

/**
 * The sweep folder and its member runs, all or nothing. Everything is built inside one staging
 * folder `<runsDir>/.tmp-sweep-...-<pid>-<random>/` (the members as ordinary runs in it, then
 * sweep.json naming their final ids); the members are then moved out one by one and the staging
 * folder is renamed to the sweep folder last. A failure on the way (a write error, a full disk)
 * removes what was moved; a kill leaves the staging folder, which collectStaleTemps removes
 * together with the members its sweep.json lists that are still queued by the dead process.
 */
export function createSweepFolder(
  runsDir: string,
  record: Omit<SweepRecord, 'id' | 'members'>,
  createdAt: Date,
  members: { member: SweepMember; spec: ResolvedSpec }[],
  info: { specFile: string; environment: RunEnvironment },
): { sweepDir: string; record: SweepRecord; runDirs: string[] } {
  fs.mkdirSync(runsDir, { recursive: true });
  const baseId = `${folderTimestamp(createdAt)}-${record.name}`;
  const staging = path.join(runsDir, `${TEMP_PREFIX}sweep-${baseId}-${tempSuffix()}`);
  fs.mkdirSync(staging);
  const moved: string[] = [];
  try {
    writeJsonAtomic(path.join(staging, STAGING_OWNER_FILE), stagingOwner());
    const stagedIds = members.map(({ spec }) => path.basename(createRun(staging, spec, info)));

    // Final ids: free in the runs folder (a member created the same second may hold one).
    const taken = new Set<string>();
    const finalIds = stagedIds.map((id) => {
      let finalId = id;
      for (let n = 2; taken.has(finalId) || fs.existsSync(path.join(runsDir, finalId)); n++) finalId = `${id}-${n}`;
      taken.add(finalId);
      if (finalId !== id) renameStagedRun(path.join(staging, id), finalId);
      return finalId;
    });
    const sweepId = freeName(runsDir, baseId);
    const full: SweepRecord = { ...record, id: sweepId, members: members.map(({ member }, i) => ({ ...member, runId: finalIds[i] })) };
    writeJsonAtomic(path.join(staging, SWEEP_FILE), full);

    stagedIds.forEach((id, i) => {
      const target = path.join(runsDir, finalIds[i]);
      renameWithRetry(path.join(staging, id), target);
      moved.push(target);
    });
    fs.rmSync(path.join(staging, STAGING_OWNER_FILE), { force: true });
    const sweepDir = path.join(runsDir, sweepId);
    renameWithRetry(staging, sweepDir);
    fsyncDir(runsDir);
    return { sweepDir, record: full, runDirs: moved };
  } catch (error) {
    for (const runDir of moved) removeDirAtomic(runDir);
    fs.rmSync(staging, { recursive: true, force: true });
    throw error;
  }
}

/** A staged run takes the id `id` (its folder name, and run.json's id and name). */
function renameStagedRun(runDir: string, id: string): void {
  const file = path.join(runDir, RUN_FILE);
  const runRecord = JSON.parse(fs.readFileSync(file, 'utf8')) as RunRecord;
  writeJsonAtomic(file, { ...runRecord, id, name: id });
  renameWithRetry(runDir, path.join(path.dirname(runDir), id));
}

function freeName(dir: string, base: string): string {
  for (let n = 1; ; n++) {
    const name = n === 1 ? base : `${base}-${n}`;
    if (!fs.existsSync(path.join(dir, name))) return name;
  }
}

// ---------------------------------------------------------------------------------------------
// Reading sweeps

export interface SweepSummary {
  id: string;
  dir: string;
  /** The folder holding the sweep folder and its member runs. */
  runsDir: string;
  record: SweepRecord;
}

/** A folder with sweep.json is a sweep, never a run (listRuns reports it as a broken run). */
export function isSweepFolder(dir: string): boolean {
  return fs.existsSync(path.join(dir, SWEEP_FILE));
}

export function readSweepFolder(dir: string): SweepSummary {
  const record = parseSweepRecord(readJsonFile(path.join(dir, SWEEP_FILE)));
  return { id: path.basename(dir), dir, runsDir: path.dirname(dir), record };
}

/** Every readable sweep under `runsDir`, newest first; unreadable ones are passed to `onProblem`. */
export function listSweepFolders(runsDir: string, onProblem: (dir: string, error: unknown) => void = () => undefined): SweepSummary[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(runsDir, { withFileTypes: true });
  } catch {
    return [];
  }
  const sweeps: SweepSummary[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
    const dir = path.join(runsDir, entry.name);
    if (!isSweepFolder(dir)) continue;
    try {
      sweeps.push(readSweepFolder(dir));
    } catch (error) {
      onProblem(dir, error);
    }
  }
  return sweeps.sort((a, b) => b.record.createdAt.localeCompare(a.record.createdAt) || b.id.localeCompare(a.id));
}

// ---------------------------------------------------------------------------------------------
// The report of a sweep: its `report.metric` per member, and over seeds per grid point

export interface SweepMemberReport {
  label: string;
  runId: string;
  point: GridPoint;
  /** The member run's state; 'missing' when its folder is gone or unreadable. */
  state: RunState | 'missing';
  step: number;
  totalSteps: number;
  value?: number;
}

export interface SweepReport {
  sweep: SweepSummary;
  metric: string;
  members: SweepMemberReport[];
  /** Members grouped by grid point without the seed, in member order. */
  cells: (CellSummary & { label: string })[];
}

/** Reads every member of a sweep: state, progress and the last value of the sweep's report metric. */
export function readSweepReport(sweep: SweepSummary): SweepReport {
  const metric = sweep.record.sweep.report.metric;
  const members = sweep.record.members.map((member): SweepMemberReport => {
    const runDir = path.join(sweep.runsDir, member.runId);
    const base = { label: member.label, runId: member.runId, point: member.point };
    try {
      const run = readRun(runDir);
      const value = lastMetricValue(readMetrics(runDir).records, metric);
      return { ...base, state: run.state, step: run.step, totalSteps: run.totalSteps, ...(value !== undefined ? { value } : {}) };
    } catch {
      return { ...base, state: 'missing', step: 0, totalSteps: 0 };
    }
  });
  const labels = valueLabels(sweep.record.sweep.grid);
  const labelOf = (point: GridPoint) =>
    Object.entries(point)
      .map(([key, value]) => labels[key]?.[sweep.record.sweep.grid[key].findIndex((v) => JSON.stringify(v) === JSON.stringify(value))] ?? String(value))
      .join('.') || 'all';
  const cells = summariseOverSeeds(members).map((cell) => ({ ...cell, label: labelOf(cell.point) }));
  return { sweep, metric, members, cells };
}
