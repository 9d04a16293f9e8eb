/**
 * Every run of the workspace, indexed by id across the runs folders of all workspace folders:
 * the `RunDataSource` the Runs tree, the dashboard and the Live view read from.
 *
 * Sources of change, all funnelled into `onRunChanged` / `onMetrics`:
 * - training jobs of this window (`trackJob`): progress messages, then the final state. A
 *   message carries the new records with where they were written in metrics.jsonl, the step and
 *   the training time, so the registry appends the records and moves its read cursor past them:
 *   neither metrics.jsonl nor run.json/status.json is read per message (the file is read only to
 *   catch up: a resumed job's earlier records, or a message that does not follow on);
 * - other processes (the CLI, another window, a terminal's `mv`): run folders appearing or
 *   disappearing (`refresh`, driven by a file watcher, and by a poll of the runs folders' names:
 *   VS Code's watcher misses some, see runsWatcher.ts) and a poll of runs that are active on
 *   disk, which also turns a run whose owner died into 'interrupted' (its heartbeat goes stale
 *   without any file changing, so no watcher would notice).
 * Metrics of other processes' runs are read from disk incrementally (by byte offset); either
 * way `readMetrics` followed by `onMetrics` gives every record exactly once. No 'vscode' import.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { BackendInfo, MetricRecord, RunSummary } from '../../protocol';
import type { TrainingJob } from '../../engine/engine';
import type { JobProgressDetail } from '../../protocol/worker';
import type { RunDataSource } from '../panels/dashboardPanel';
import { readJsonFile } from '../../runs/atomic';
import { ENVIRONMENT_FILE, runFile } from '../../runs/layout';
import { listRuns, readMetrics, readRun, readSpec } from '../../runs/reader';
import { asReadBack } from '../../runs/metrics';
import { isActive } from './runsTreeModel';
import { isSweepFolder, listSweepFolders, type SweepSummary } from '../../runs/sweeps';
import type { Disposable } from '../../shared/disposable';
import { errorMessage } from '../../shared/errors';
import type { Log } from '../../shared/log';

/** What stop/resume do; provided by the training controller (it owns the engine). */
export interface RunActions {
  stop(runId: string): void;
  resume(runId: string): void;
}

export interface RunRegistryOptions {
  log?: Log;
  /** How often the runs folders' names are compared with the last listing, and runs that are active on disk but not trained here are re-read (0: never). */
  pollIntervalMs?: number;
  /** Progress-only changes of a run are announced at most this often. */
  progressThrottleMs?: number;
  /** Reads metrics.jsonl from a byte offset (default: src/runs/reader.ts readMetrics); tests count the reads. */
  metricsReader?: (runDir: string, fromOffset: number) => { records: MetricRecord[]; nextOffset: number };
}

interface MetricsCache {
  records: MetricRecord[];
  nextOffset: number;
}

/** A job of this window: its live progress overrides the (slower) status file. */
interface TrackedJob {
  job: TrainingJob;
  started: boolean;
  step: number;
  totalSteps: number;
  /**
   * The metrics cache is a prefix of the run's metrics.jsonl, so a message's records that follow
   * on from it can be appended without reading the file. A new run's file starts empty; a resumed
   * run's is read once its worker has cut the records after its checkpoint (its first message).
   */
  inStep: boolean;
}

type Listener<T extends unknown[]> = (...args: T) => void;

class Emitter<T extends unknown[]> {
  private readonly listeners = new Set<Listener<T>>();
  on(listener: Listener<T>): Disposable {
    this.listeners.add(listener);
    return { dispose: () => void this.listeners.delete(listener) };
  }
  fire(...args: T): void {
    for (const listener of [...this.listeners]) listener(...args);
  }
  clear(): void {
    this.listeners.clear();
  }
}

export class RunRegistry implements RunDataSource {
  private dirs: string[] = [];
  private readonly runs = new Map<string, RunSummary>();
  /** Sweep folders (sweep.json); their members are ordinary runs in `runs`. */
  private sweeps: SweepSummary[] = [];
  private readonly metrics = new Map<string, MetricsCache>();
  private readonly jobs = new Map<string, TrackedJob>();
  private readonly lastAnnounced = new Map<string, number>();
  private readonly runChanged = new Emitter<[RunSummary]>();
  private readonly metricsAppended = new Emitter<[string, MetricRecord[]]>();
  private readonly listChanged = new Emitter<[]>();
  private actions?: RunActions;
  private readonly pollTimer?: NodeJS.Timeout;
  /** The runs folders' entry names at the last refresh (folderNames). */
  private listedNames = '';
  private readonly log: Log;
  private readonly progressThrottleMs: number;
  private readonly metricsReader: (runDir: string, fromOffset: number) => { records: MetricRecord[]; nextOffset: number };

  constructor(options: RunRegistryOptions = {}) {
    this.log = options.log ?? (() => undefined);
    this.metricsReader = options.metricsReader ?? readMetrics;
    this.progressThrottleMs = options.progressThrottleMs ?? 500;
    const pollIntervalMs = options.pollIntervalMs ?? 2_000;
    if (pollIntervalMs > 0) {
      this.pollTimer = setInterval(() => this.poll(), pollIntervalMs);
      this.pollTimer.unref?.();
    }
  }

  setActions(actions: RunActions): void {
    this.actions = actions;
  }

  /** The runs folders to index (one per workspace folder); re-lists them. */
  setRunsDirs(dirs: readonly string[]): void {
    this.dirs = [...new Set(dirs.map((dir) => path.resolve(dir)))];
    this.refresh();
  }

  runsDirs(): readonly string[] {
    return this.dirs;
  }

  /** Adds a runs folder (e.g. one a spec outside the usual folders trained into). */
  addRunsDir(dir: string): void {
    const resolved = path.resolve(dir);
    if (this.dirs.includes(resolved)) return;
    this.dirs.push(resolved);
    this.refresh();
  }

  // ------------------------------------------------------------------ RunDataSource

  listRuns(): RunSummary[] {
    return [...this.runs.values()].sort(
      (a, b) => b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id),
    );
  }

  readRun(runId: string): RunSummary | undefined {
    return this.runs.get(runId);
  }

  /** Sweeps of the indexed runs folders, newest first. */
  listSweeps(): SweepSummary[] {
    return [...this.sweeps];
  }

  readSweep(sweepId: string): SweepSummary | undefined {
    return this.sweeps.find((sweep) => sweep.id === sweepId);
  }

  readMetrics(runId: string): MetricRecord[] {
    const run = this.runs.get(runId);
    if (!run) return [];
    if (!this.jobs.get(runId)?.inStep) this.tailMetrics(run); // a job's own records come with its messages
    return [...(this.metrics.get(runId)?.records ?? [])];
  }

  readSpec(runId: string): unknown {
    const run = this.runs.get(runId);
    if (!run) return undefined;
    try {
      return readSpec(run.dir);
    } catch (error) {
      this.log('warn', `Cannot read the spec of run ${runId}: ${errorMessage(error)}`);
      return undefined;
    }
  }

  /** The backend recorded in the run's environment.json (rewritten by the worker on every start). */
  readBackend(runId: string): BackendInfo | undefined {
    const run = this.runs.get(runId);
    if (!run) return undefined;
    try {
      const environment = readJsonFile(runFile(run.dir, ENVIRONMENT_FILE)) as { backend?: Partial<BackendInfo> } | null;
      const backend = environment?.backend;
      return backend && typeof backend.name === 'string' && typeof backend.requested === 'string' ? (backend as BackendInfo) : undefined;
    } catch {
      return undefined; // a run without a readable environment simply shows no backend
    }
  }

  onMetrics(listener: (runId: string, records: MetricRecord[]) => void): Disposable {
    return this.metricsAppended.on(listener);
  }

  onRunChanged(listener: (run: RunSummary) => void): Disposable {
    return this.runChanged.on(listener);
  }

  /** Any change of the list or of a run (for the tree, which redraws as a whole). */
  onDidChange(listener: () => void): Disposable {
    return this.listChanged.on(listener);
  }

  stopRun(runId: string): void {
    this.actions?.stop(runId);
  }

  resumeRun(runId: string): void {
    this.actions?.resume(runId);
  }

  // ------------------------------------------------------------------ jobs of this window

  /** Follow a job started here: live step counts and metrics, then its final state. */
  trackJob(runDir: string, job: TrainingJob, resume: boolean): void {
    const runId = path.basename(runDir);
    this.addRunsDir(path.dirname(runDir));
    if (resume) this.metrics.delete(runId); // resuming rewrites metrics.jsonl after the checkpoint step
    // A new run (src/app/launch.ts created it just now) has an empty metrics.jsonl.
    else if (!this.metrics.has(runId)) this.metrics.set(runId, { records: [], nextOffset: 0 });
    const tracked: TrackedJob = { job, started: false, step: 0, totalSteps: 0, inStep: !resume };
    this.jobs.set(runId, tracked);
    this.reread(runId, runDir, true);
    job.onProgress((step, totalSteps, records, detail) => {
      tracked.started = true;
      tracked.step = step;
      tracked.totalSteps = totalSteps;
      const run = this.runs.get(runId);
      if (!run) return;
      this.appendJobMetrics(run, tracked, records, detail);
      this.store(this.overlay({ ...run, state: 'running', ...(detail?.elapsedMs !== undefined ? { elapsedMs: detail.elapsedMs } : {}) }), false);
    });
    void job.done.then((outcome) => {
      this.jobs.delete(runId);
      const run = this.runs.get(runId);
      if (run) this.tailMetrics(run, true);
      this.reread(runId, runDir, true);
      this.log(outcome.state === 'failed' ? 'error' : 'info', `Run ${runId} ${outcome.state}${outcome.error ? `: ${outcome.error}` : ''}`);
    });
  }

  /** Run ids with a job of this window that has not finished. */
  activeJobRunIds(): string[] {
    return [...this.jobs.keys()];
  }

  jobOf(runId: string): TrainingJob | undefined {
    return this.jobs.get(runId)?.job;
  }

  // ------------------------------------------------------------------ disk

  /** Re-list every runs folder; announces added, changed and removed runs. */
  refresh(): void {
    this.listedNames = this.folderNames();
    const seen = new Set<string>();
    let structureChanged = false;
    for (const dir of this.dirs) {
      let listed: RunSummary[];
      try {
        listed = listRuns(dir);
      } catch (error) {
        this.log('warn', errorMessage(error));
        continue;
      }
      for (const run of listed) {
        if (seen.has(run.id)) {
          this.log('warn', `Two runs have the id ${run.id}; showing the one in ${this.runs.get(run.id)?.dir ?? dir}.`);
          continue;
        }
        seen.add(run.id);
        if (!this.runs.has(run.id)) structureChanged = true;
        this.store(this.overlay(run), true);
      }
    }
    for (const id of [...this.runs.keys()]) {
      if (!seen.has(id) && !this.jobs.has(id)) {
        this.runs.delete(id);
        this.metrics.delete(id);
        structureChanged = true;
      }
    }
    if (this.refreshSweeps()) structureChanged = true;
    if (structureChanged) this.listChanged.fire();
  }

  /** Re-reads the sweep folders; true when the set of sweeps or their members changed. */
  private refreshSweeps(): boolean {
    const before = JSON.stringify(this.sweeps.map((s) => [s.id, s.record.members.length]));
    this.sweeps = this.dirs.flatMap((dir) =>
      listSweepFolders(dir, (sweepDir, error) => this.log('warn', `Cannot read the sweep in ${sweepDir}: ${errorMessage(error)}`)),
    );
    return JSON.stringify(this.sweeps.map((s) => [s.id, s.record.members.length])) !== before;
  }

  /** Re-read one run folder, e.g. after a file watcher saw it change. */
  refreshRunDir(runDir: string): void {
    this.reread(path.basename(runDir), runDir, true);
  }

  /** What the poll timer does: re-lists when a run folder came or went, then re-reads the active runs. */
  poll(): void {
    if (this.folderNames() !== this.listedNames) this.refresh();
    this.pollActive();
  }

  /** Re-read runs that are active on disk but not trained by this window (CLI, other windows). */
  pollActive(): void {
    for (const run of [...this.runs.values()]) {
      if (!isActive(run) || this.jobs.has(run.id)) continue;
      this.tailMetrics(run, true);
      this.reread(run.id, run.dir, true);
    }
  }

  dispose(): void {
    if (this.pollTimer) clearInterval(this.pollTimer);
    this.runChanged.clear();
    this.metricsAppended.clear();
    this.listChanged.clear();
  }

  // ------------------------------------------------------------------ internals

  /**
   * The entry names of every runs folder, one readdir each (cheap enough to poll): a run or sweep
   * folder moved in or out changes them. Temp names (`.tmp-`, a run being written or deleted) are
   * left out, as the listing skips them.
   */
  private folderNames(): string {
    return this.dirs
      .map((dir) => {
        try {
          return fs.readdirSync(dir).filter((name) => !name.startsWith('.')).sort().join('/');
        } catch {
          return ''; // not there (yet): refresh lists nothing either
        }
      })
      .join('\n');
  }

  private reread(runId: string, runDir: string, announceNow: boolean): void {
    if (isSweepFolder(runDir)) {
      if (this.refreshSweeps()) this.listChanged.fire();
      return;
    }
    let run: RunSummary;
    try {
      run = readRun(runDir);
    } catch {
      // The folder is gone (deleted here or elsewhere).
      if (this.runs.delete(runId)) {
        this.metrics.delete(runId);
        this.listChanged.fire();
      }
      return;
    }
    const isNew = !this.runs.has(runId);
    this.store(this.overlay(run), announceNow);
    if (isNew) this.listChanged.fire();
  }

  /** Live progress of a job of this window beats the status file, which is written once a second. */
  private overlay(run: RunSummary): RunSummary {
    const tracked = this.jobs.get(run.id);
    if (!tracked) return run;
    if (!tracked.started) {
      // Waiting for a free worker: the folder may still say 'cancelled' (a resume) or 'queued'.
      return run.state === 'running' ? run : { ...run, state: 'queued', error: undefined };
    }
    if (run.state !== 'running' && run.state !== 'queued') return run;
    return {
      ...run,
      state: 'running',
      step: Math.max(run.step, tracked.step),
      totalSteps: tracked.totalSteps || run.totalSteps,
    };
  }

  private store(run: RunSummary, announceNow: boolean): void {
    const previous = this.runs.get(run.id);
    this.runs.set(run.id, run);
    if (previous && sameSummary(previous, run)) return;
    const onlyProgress = previous !== undefined && sameExceptProgress(previous, run);
    const now = Date.now();
    if (onlyProgress && !announceNow && now - (this.lastAnnounced.get(run.id) ?? 0) < this.progressThrottleMs) return;
    this.lastAnnounced.set(run.id, now);
    this.runChanged.fire(run);
    this.listChanged.fire();
  }

  /**
   * A job's records from its progress message: appended when they follow on from the cache
   * (the read cursor moves past them, nothing is read), skipped when a read from disk already
   * has them, else the file is read from the cursor (the job's first message after a resume, or
   * a sender that does not say where the records are).
   */
  private appendJobMetrics(run: RunSummary, tracked: TrackedJob, records: MetricRecord[], detail: JobProgressDetail | undefined): void {
    const cache = this.metrics.get(run.id);
    const at = detail?.metrics;
    if (tracked.inStep && cache && at) {
      if (at.fromOffset === cache.nextOffset) {
        const written = asReadBack(records); // Infinity, say, as the file gives it back: NaN
        cache.records.push(...written);
        cache.nextOffset = at.nextOffset;
        if (written.length > 0) this.metricsAppended.fire(run.id, written);
        return;
      }
      if (at.nextOffset <= cache.nextOffset) return;
    }
    this.tailMetrics(run, true);
    // A message comes after the worker's rewind (a resume's cut): from here on the cache is the file's.
    tracked.inStep = this.metrics.has(run.id);
  }

  /** Read what was appended to metrics.jsonl since the last read; announce it when asked. */
  private tailMetrics(run: RunSummary, announce = false): void {
    const cache = this.metrics.get(run.id) ?? { records: [], nextOffset: 0 };
    let read: { records: MetricRecord[]; nextOffset: number };
    try {
      read = this.metricsReader(run.dir, cache.nextOffset);
    } catch (error) {
      this.log('warn', `Cannot read the metrics of run ${run.id}: ${errorMessage(error)}`);
      return;
    }
    if (read.nextOffset < cache.nextOffset) {
      // The file was replaced by a shorter one (a resume cut records after the checkpoint): start over.
      this.metrics.delete(run.id);
      this.tailMetrics(run, announce);
      return;
    }
    cache.records.push(...read.records);
    cache.nextOffset = read.nextOffset;
    this.metrics.set(run.id, cache);
    if (announce && read.records.length > 0) this.metricsAppended.fire(run.id, read.records);
  }
}

function sameSummary(a: RunSummary, b: RunSummary): boolean {
  return sameExceptProgress(a, b) && a.step === b.step && a.totalSteps === b.totalSteps;
}

function sameExceptProgress(a: RunSummary, b: RunSummary): boolean {
  return (
    a.dir === b.dir &&
    a.name === b.name &&
    a.experiment === b.experiment &&
    a.state === b.state &&
    a.notes === b.notes &&
    a.error === b.error &&
    a.specFile === b.specFile &&
    a.createdAt === b.createdAt &&
    a.tags.join('\n') === b.tags.join('\n')
  );
}
