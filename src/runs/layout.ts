/**
 * The on-disk shape of a run: folder and file names, the JSON records they hold, and the
 * constants every reader and writer agrees on. No I/O here.
 *
 *   <runsDir>/<run-id>/
 *     run.json            RunRecord: identity + user metadata (replaced atomically)
 *     spec.json           the resolved spec the run trains (written once)
 *     environment.json    RunEnvironment: backend, versions, workers (replaced atomically)
 *     status.json         RunStatusRecord: state, progress, heartbeat (replaced atomically)
 *     metrics.jsonl       one MetricRecord per line, append-only
 *     checkpoints/step-00000500/{weights,optimizer[,objective]}.{json,bin} + checkpoint.json (step, loop state, sha256s)
 *     owner.lock/owner.json   the process that writes the run (src/runs/ownership.ts)
 *     snapshots/<name>.json   views' data (replaced atomically)
 *   <runsDir>/.tmp-*      runs being created or deleted: never listed
 */
import * as path from 'node:path';
import type { BackendInfo, RunState } from '../protocol';
import type { RunInit } from '../shared/runs';

/** Version of this folder layout; stored in run.json. A reader refuses newer versions. */
export const RUN_FORMAT_VERSION = 1;

/** A 'running' run whose heartbeat is older than this is considered interrupted. */
export const HEARTBEAT_TIMEOUT_MS = 15_000;

/** The sink writes status.json at most this often for heartbeats (state changes are immediate). */
export const HEARTBEAT_WRITE_INTERVAL_MS = 1_000;

/** Where runs live inside a workspace folder. */
export const RUNS_SUBDIR = path.join('.model-lab', 'runs');

export const RUN_FILE = 'run.json';
export const SPEC_FILE = 'spec.json';
export const ENVIRONMENT_FILE = 'environment.json';
export const STATUS_FILE = 'status.json';
export const METRICS_FILE = 'metrics.jsonl';
export const CHECKPOINTS_DIR = 'checkpoints';
export const SNAPSHOTS_DIR = 'snapshots';

/** Prefix of folders (and files) that are work in progress and must be ignored by readers. */
export const TEMP_PREFIX = '.tmp-';

/** Inside a checkpoint folder: each group is `<group>.json` (manifest) + `<group>.bin`. */
export const WEIGHTS_GROUP = 'weights';
export const OPTIMIZER_GROUP = 'optimizer';
/** The objective's own state (e.g. a sampler's replay buffers), only in checkpoints of objectives that have one. */
export const OBJECTIVE_GROUP = 'objective';
/** Inside a checkpoint folder: the step and the training loop's JSON state. */
export const CHECKPOINT_INFO_FILE = 'checkpoint.json';

export interface RunEnvironment {
  backend: BackendInfo;
  /** Package name -> version, e.g. `{ '@tensorflow/tfjs': '4.22.0', 'model-lab': '0.1.0' }`. */
  versions: Record<string, string>;
  /** Worker threads the engine was configured with. */
  workers: number;
  /** e.g. `linux-x64 node v20.11.0`. */
  platform: string;
}

/** run.json */
export interface RunRecord {
  formatVersion: number;
  id: string;
  /** Display name, editable; defaults to the id. */
  name: string;
  /** `spec.name` at creation. */
  experiment: string;
  specFile?: string;
  createdAt: string;
  notes: string;
  tags: string[];
  /** The run and checkpoint step it started from (spec `init`, step resolved); absent for a fresh start. */
  init?: RunInit;
}

/** status.json */
export interface RunStatusRecord {
  state: RunState;
  step: number;
  totalSteps: number;
  /** ISO time of the last write by the process that owns the run. */
  heartbeat: string;
  pid: number;
  hostname: string;
  error?: string;
  /** Training time so far in ms (time stopped excluded); absent in runs written before it was recorded. */
  elapsedMs?: number;
}

export function runsDirOf(workspaceFolder: string): string {
  return path.join(workspaceFolder, RUNS_SUBDIR);
}

export function runFile(runDir: string, name: string): string {
  return path.join(runDir, name);
}

export function checkpointsDir(runDir: string): string {
  return path.join(runDir, CHECKPOINTS_DIR);
}

const CHECKPOINT_DIR_PATTERN = /^step-(\d{8,})$/;

/** `step-00000500`: zero-padded so a plain name sort is also a step sort. */
export function checkpointDirName(step: number): string {
  if (!Number.isSafeInteger(step) || step < 0) {
    throw new Error(`Checkpoint step must be a non-negative integer, got ${step}`);
  }
  return `step-${String(step).padStart(8, '0')}`;
}

/** The step of a checkpoint folder name, or undefined for anything else (temp folders, stray files). */
export function parseCheckpointDirName(name: string): number | undefined {
  const match = CHECKPOINT_DIR_PATTERN.exec(name);
  return match ? Number(match[1]) : undefined;
}

export function checkpointDir(runDir: string, step: number): string {
  return path.join(checkpointsDir(runDir), checkpointDirName(step));
}

export function snapshotsDir(runDir: string): string {
  return path.join(runDir, SNAPSHOTS_DIR);
}

const SNAPSHOT_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

export function snapshotFile(runDir: string, name: string): string {
  if (!SNAPSHOT_NAME_PATTERN.test(name)) {
    throw new Error(
      `Snapshot name "${name}" is not allowed: use letters, digits, '.', '_' and '-' (no path separators)`,
    );
  }
  return path.join(snapshotsDir(runDir), `${name}.json`);
}

/**
 * `20250131-142501` in local time: what a person expects to see at the start of a run's or a
 * sweep's folder name (the one timestamp of both).
 */
export function folderTimestamp(date: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return (
    `${date.getFullYear()}${two(date.getMonth() + 1)}${two(date.getDate())}-` +
    `${two(date.getHours())}${two(date.getMinutes())}${two(date.getSeconds())}`
  );
}

/** A unique-enough suffix for temp names shared by several processes. */
export function tempSuffix(): string {
  return `${process.pid}-${Math.random().toString(36).slice(2, 10)}`;
}
