/**
 * Reading sweep folders: `<runs>/<sweep-id>/sweep.json` beside the member runs (written by
 * src/engine/launch.ts), for the host's Runs view and the CLI alike.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { lastMetricValue, parseSweepRecord, summariseOverSeeds, SWEEP_FILE, valueLabels, type CellSummary, type GridPoint, type SweepRecord } from '../core/sweep';
import type { RunState } from '../protocol';
import { readJsonFile } from './atomic';
import { readMetrics, readRun } from './reader';

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
