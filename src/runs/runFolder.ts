/**
 * Writing runs: create a run folder atomically, and RunFolderSink, the run's writer for
 * everything but checkpoint tensors (metrics, heartbeat/status, rewinding). No TensorFlow.js:
 * the extension host creates runs and marks their state through this module. DiskRunSink
 * (src/runs/store.ts) adds checkpoints, the RunSink the training loop writes through.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { RunSink } from '../core/sink';
import type { ResolvedSpec } from '../core/spec/types';
import type { MetricRecord, RunState } from '../protocol';
import {
  RunFileError,
  errorCode,
  errorMessage,
  fsyncDir,
  readJsonFile,
  renameWithRetry,
  writeFileDurable,
  writeJsonAtomic,
} from './atomic';
import { describeValue } from './errors';
import { removeCheckpointsAfter, removeStaleCheckpointTemps } from './checkpointFolders';
import {
  ENVIRONMENT_FILE,
  HEARTBEAT_WRITE_INTERVAL_MS,
  METRICS_FILE,
  RUN_FILE,
  RUN_FORMAT_VERSION,
  SPEC_FILE,
  STATUS_FILE,
  TEMP_PREFIX,
  folderTimestamp,
  runFile,
  snapshotFile,
  snapshotsDir,
  tempSuffix,
  type RunEnvironment,
  type RunRecord,
  type RunStatusRecord,
} from './layout';
import { appendMetricLines, repairMetricsTail, truncateMetricsAfter } from './metrics';
import { acquireOwnerLock, attachOwnerLock, type OwnerLock } from './ownership';
import { parseStatusRecord } from './records';
import { assertFolderInside } from './safeFiles';

export type { RunEnvironment } from './layout';

/** The experiment name made safe for a folder name on every OS. */
function folderSafe(name: string): string {
  const safe = name
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '')
    .slice(0, 60);
  return safe || 'run';
}

function newStatus(state: RunState, step: number, totalSteps: number, error?: string): RunStatusRecord {
  return {
    state,
    step,
    totalSteps,
    heartbeat: new Date().toISOString(),
    pid: process.pid,
    hostname: os.hostname(),
    ...(error !== undefined ? { error } : {}),
  };
}

function isTargetTaken(error: unknown): boolean {
  // POSIX: ENOTEMPTY/EEXIST; Windows: EPERM when the target folder exists.
  return ['ENOTEMPTY', 'EEXIST', 'EPERM'].includes(errorCode(error) ?? '');
}

/**
 * Create `<runsDir>/<yyyymmdd-hhmmss>-<spec.name>[-n]/` with run.json, spec.json,
 * environment.json, an empty metrics.jsonl and status.json (state 'queued'). The folder is built
 * under a `.tmp-` name and renamed, so it appears complete or not at all. Returns the run folder.
 */
export function createRun(
  runsDir: string,
  spec: ResolvedSpec,
  info: { specFile?: string; environment: RunEnvironment },
): string {
  const cannot = (reason: string) => new Error(`Cannot create a run in the folder "${runsDir}": ${reason}`);
  try {
    fs.mkdirSync(runsDir, { recursive: true });
  } catch (error) {
    throw cannot(errorMessage(error));
  }

  const createdAt = new Date();
  const baseId = `${folderTimestamp(createdAt)}-${folderSafe(spec.name)}`;
  const tempDir = path.join(runsDir, `${TEMP_PREFIX}${baseId}-${tempSuffix()}`);
  try {
    fs.mkdirSync(tempDir);
    writeJsonAtomic(runFile(tempDir, SPEC_FILE), spec);
    writeJsonAtomic(runFile(tempDir, ENVIRONMENT_FILE), info.environment);
    writeJsonAtomic(runFile(tempDir, STATUS_FILE), newStatus('queued', 0, spec.training.steps));
    writeFileDurable(runFile(tempDir, METRICS_FILE), '');

    for (let n = 1; ; n++) {
      const id = n === 1 ? baseId : `${baseId}-${n}`;
      const runDir = path.join(runsDir, id);
      if (fs.existsSync(runDir)) continue;
      const record: RunRecord = {
        formatVersion: RUN_FORMAT_VERSION,
        id,
        name: id,
        experiment: spec.name,
        ...(info.specFile !== undefined ? { specFile: info.specFile } : {}),
        createdAt: createdAt.toISOString(),
        notes: '',
        tags: [],
        ...(spec.init?.step !== undefined ? { init: { run: spec.init.run, step: spec.init.step } } : {}),
      };
      writeJsonAtomic(runFile(tempDir, RUN_FILE), record);
      try {
        renameWithRetry(tempDir, runDir);
      } catch (error) {
        // Another process took this id between the check and the rename: try the next one.
        if (isTargetTaken(error) && fs.existsSync(runDir)) continue;
        throw error;
      }
      fsyncDir(runsDir);
      return runDir;
    }
  } catch (error) {
    fs.rmSync(tempDir, { recursive: true, force: true });
    throw cannot(errorMessage(error));
  }
}

/** (Re)write environment.json, e.g. when a run is resumed on another backend. */
export function recordEnvironment(runDir: string, environment: RunEnvironment): void {
  writeJsonAtomic(runFile(runDir, ENVIRONMENT_FILE), environment);
}

/** Store a view's data as `snapshots/<name>.json`, replaced atomically. */
export function writeSnapshot(runDir: string, name: string, json: unknown): void {
  const file = snapshotFile(runDir, name);
  fs.mkdirSync(snapshotsDir(runDir), { recursive: true });
  writeJsonAtomic(file, json);
}

/** A snapshot written by `writeSnapshot`, or undefined when there is none. */
export function readSnapshot(runDir: string, name: string): unknown {
  const file = snapshotFile(runDir, name);
  if (!fs.existsSync(file)) return undefined;
  assertFolderInside(runDir, snapshotsDir(runDir));
  return readJsonFile(file);
}

function readKeepCheckpoints(runDir: string): number {
  const file = runFile(runDir, SPEC_FILE);
  const spec = readJsonFile(file) as Partial<ResolvedSpec> | null;
  const keep = spec?.training?.keepCheckpoints;
  if (!Number.isSafeInteger(keep) || (keep as number) < 1) {
    throw new RunFileError(file, `/training/keepCheckpoints should be an integer >= 1, got ${describeValue(keep)}`);
  }
  return keep as number;
}

/** Temp files of atomic writes a killed owner left in the run folder (or its snapshots). */
function removeStaleTempFiles(runDir: string): void {
  for (const dir of [runDir, snapshotsDir(runDir)]) {
    if (!fs.existsSync(dir)) continue;
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      if (entry.isFile() && entry.name.startsWith(TEMP_PREFIX)) fs.rmSync(path.join(dir, entry.name), { force: true });
    }
  }
}

/** How often a sink checks, before writing, that it still holds the run's owner lock. */
const OWNERSHIP_CHECK_INTERVAL_MS = 1_000;

export interface SinkOptions {
  /**
   * The token of the owner lock another thread of this process holds for the run (the Engine):
   * the sink checks it is in place and leaves it to its holder. Without one, the sink takes the
   * lock itself (throws RunLockedError while a live owner holds it) and releases it on close.
   */
  ownerToken?: string;
  /** Told when the sink took over a stale lock (see acquireOwnerLock). */
  onTakeover?: (note: string) => void;
}

/**
 * The RunSink of one run folder. One process at a time owns a run (src/runs/ownership.ts): a sink
 * writes only while it holds the owner lock, and opening one repairs what a killed previous
 * owner may have left (a truncated metrics line, checkpoint temp folders).
 *
 * Status writes: `setState` writes at once; `heartbeat` writes at most once per
 * HEARTBEAT_WRITE_INTERVAL_MS, except for the first step after 0 (so progress shows at once).
 * A heartbeat on a 'queued' run marks it 'running'. A failed heartbeat write is retried on the
 * next heartbeat instead of failing the training step.
 */
export class RunFolderSink implements Omit<RunSink, 'saveCheckpoint'> {
  private readonly statusFile: string;
  private readonly metricsFile: string;
  protected readonly keepCheckpoints: number;
  private status: RunStatusRecord;
  private lastStatusWrite = 0;
  private writtenStep: number;
  private closed = false;
  protected readonly lock: OwnerLock;
  /** True when the sink took the lock itself, and so releases it on close. */
  private readonly ownsLock: boolean;
  private lockCheckedAt = Date.now();
  /**
   * Where the last appendMetrics put its records in metrics.jsonl (byte offsets): the training
   * job sends it with its progress message, so the host appends them without reading them back.
   */
  lastAppended?: { fromOffset: number; nextOffset: number };

  constructor(
    protected readonly runDir: string,
    options: SinkOptions = {},
  ) {
    this.statusFile = runFile(runDir, STATUS_FILE);
    this.metricsFile = runFile(runDir, METRICS_FILE);
    if (!fs.existsSync(runFile(runDir, RUN_FILE))) {
      throw new RunFileError(runFile(runDir, RUN_FILE), 'file is missing: this is not a run folder');
    }
    this.ownsLock = options.ownerToken === undefined;
    this.lock = options.ownerToken === undefined
      ? acquireOwnerLock(runDir, { onTakeover: options.onTakeover })
      : attachOwnerLock(runDir, options.ownerToken);
    try {
      this.keepCheckpoints = readKeepCheckpoints(runDir);
      this.status = parseStatusRecord(this.statusFile, readJsonFile(this.statusFile));
      this.writtenStep = this.status.step;
      repairMetricsTail(this.metricsFile);
      removeStaleCheckpointTemps(runDir);
      removeStaleTempFiles(runDir);
    } catch (error) {
      if (this.ownsLock) this.lock.release();
      throw error;
    }
  }

  appendMetrics(records: MetricRecord[]): void {
    this.assertOpen('append metrics');
    this.assertOwner();
    this.lastAppended = appendMetricLines(this.metricsFile, records);
  }

  /**
   * Start again from `step` (0: from scratch): what the abandoned attempt left after it goes.
   * Checkpoints first: a kill between the two steps then leaves metrics that reach past the
   * newest checkpoint (cut again by the next resume), never a checkpoint past missing metrics.
   */
  rewindTo(step: number): void {
    this.assertOpen('rewind metrics');
    this.lock.assertHeld();
    removeCheckpointsAfter(this.runDir, step);
    truncateMetricsAfter(this.metricsFile, step);
    this.status.step = step;
  }

  heartbeat(step: number, elapsedMs?: number): void {
    this.assertOpen('heartbeat');
    this.assertOwner();
    this.status.step = step;
    if (elapsedMs !== undefined) this.status.elapsedMs = Math.round(elapsedMs);
    if (this.status.state === 'queued') this.status.state = 'running';
    const firstProgress = this.writtenStep === 0 && step !== 0;
    if (!firstProgress && Date.now() - this.lastStatusWrite < HEARTBEAT_WRITE_INTERVAL_MS) return;
    try {
      this.writeStatus();
    } catch {
      // Best effort: the next heartbeat retries; a long outage shows up as 'interrupted'.
    }
  }

  setState(state: RunState, error?: string): void {
    this.assertOpen('set the state');
    this.lock.assertHeld();
    const { step, totalSteps, elapsedMs } = this.status;
    // The duration so far stays: a resumed run continues counting from it.
    this.status = { ...newStatus(state, step, totalSteps, error), ...(elapsedMs !== undefined ? { elapsedMs } : {}) };
    this.writeStatus();
  }

  /** Flush the latest step (heartbeats may have been throttled), release a lock the sink took. Further writes throw. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      if (this.status.step !== this.writtenStep && this.lock.isHeld()) this.writeStatus();
    } finally {
      if (this.ownsLock) this.lock.release();
    }
  }

  private writeStatus(): void {
    this.status = { ...this.status, heartbeat: new Date().toISOString(), pid: process.pid, hostname: os.hostname() };
    writeJsonAtomic(this.statusFile, this.status);
    this.lastStatusWrite = Date.now();
    this.writtenStep = this.status.step;
  }

  /** Throws LockLostError once another process has taken the run over (checked at most once a second). */
  private assertOwner(): void {
    if (Date.now() - this.lockCheckedAt < OWNERSHIP_CHECK_INTERVAL_MS) return;
    this.lock.assertHeld();
    this.lockCheckedAt = Date.now();
  }

  protected assertOpen(action: string): void {
    if (this.closed) throw new Error(`Cannot ${action}: the run sink for ${this.runDir} is closed`);
  }
}
