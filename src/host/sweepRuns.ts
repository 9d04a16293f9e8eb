/**
 * Sweep folders as the host sees them: `<runs>/<sweep-id>/sweep.json` beside the member runs
 * (see src/engine/launch.ts). Read-only; no 'vscode' import, so the CLI-free tests can use it.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseSweepRecord, SWEEP_FILE, type SweepRecord } from '../core/sweep';
import { readJsonFile } from '../runs/atomic';

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
