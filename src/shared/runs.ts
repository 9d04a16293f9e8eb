/**
 * The run and metric vocabulary every layer shares: a run's state, one line of `metrics.jsonl`,
 * the summary the views list, a chart series, the name a run is shown by. No DOM, node or
 * vscode, so the run store, the worker, the host and the webviews all import it.
 */

export type RunState = 'queued' | 'running' | 'completed' | 'cancelled' | 'failed' | 'interrupted';

/** One line of `metrics.jsonl`: a step and any number of named scalar values. */
export interface MetricRecord {
  step: number;
  /** Milliseconds since the run started (wall clock of the worker). */
  time: number;
  /** e.g. `train/loss`, `eval/id/l1`, `eval/ood/l1`. */
  values: Record<string, number>;
}

/** Where a run started from (its spec's `init`, with the checkpoint step resolved): run.json's `init`. */
export interface RunInit {
  /** The run id (folder name) in the same runs folder. */
  run: string;
  step: number;
}

export interface RunSummary {
  id: string;
  dir: string;
  name: string;
  experiment: string;
  specFile?: string;
  state: RunState;
  step: number;
  totalSteps: number;
  createdAt: string;
  notes: string;
  tags: string[];
  error?: string;
  /** Training time so far (status.json); absent in runs written before it was recorded. */
  elapsedMs?: number;
  /** The run and step it started from (run.json `init`); absent for a fresh start. */
  init?: RunInit;
}

/** At most this many runs are followed up a chain of continuations (a hand-edited loop ends there too). */
const MAX_CHAIN = 1000;

/**
 * The runs a run continues (spec `init`), oldest first, ending with the run itself: its parent,
 * the parent's parent, ... as far as they can be read (a deleted parent ends the chain; so does a
 * loop a hand-edited run.json could make).
 */
export function continuationChain<T extends Pick<RunSummary, 'id' | 'init'>>(run: T, readRun: (runId: string) => T | undefined): T[] {
  const chain = [run];
  const seen = new Set([run.id]);
  for (let at = run; at.init && !seen.has(at.init.run) && chain.length < MAX_CHAIN; ) {
    const parent = readRun(at.init.run);
    if (!parent) break;
    seen.add(parent.id);
    chain.unshift(parent);
    at = parent;
  }
  return chain;
}

/**
 * Where a run's curve starts on the step axis of joined curves: a run that starts from another
 * run's checkpoint at step N continues that run's curve at N, so its own step s is drawn at N + s;
 * along a chain of continuations the init steps add up (a deleted parent's own offset is unknown: 0).
 */
export function initStepOffset<T extends Pick<RunSummary, 'id' | 'init'>>(run: T, readRun: (runId: string) => T | undefined): number {
  return continuationChain(run, readRun).reduce((offset, member) => offset + (member.init?.step ?? 0), 0);
}

/**
 * A run's training time (ms, its records' `time`) at `step`: the time of the last record at that
 * step (the latest logged by then), else interpolated between the records around it (a checkpoint step need not be a logged one),
 * else the last record's before it; undefined when no record has a time.
 */
export function recordTimeAtStep(records: readonly MetricRecord[], step: number): number | undefined {
  let before: MetricRecord | undefined;
  let after: MetricRecord | undefined;
  for (const record of records) {
    if (!Number.isFinite(record.time)) continue;
    if (record.step <= step && (!before || record.step >= before.step)) before = record;
    if (record.step >= step && (!after || record.step < after.step)) after = record;
  }
  if (before && (before.step === step || !after)) return before.time;
  if (!after) return undefined;
  const from = before ?? { step: 0, time: 0 };
  return from.time + ((after.time - from.time) * (step - from.step)) / (after.step - from.step);
}

/**
 * Where a run's curve starts on the wall-clock axis of joined curves, as initStepOffset on the
 * step axis: a run that starts from another's step N checkpoint continues that run's curve at the
 * time it had trained by step N (`timeAt`), adding up along a chain; an unknown time (a deleted
 * parent, records without times) counts 0.
 */
export function initTimeOffset<T extends Pick<RunSummary, 'id' | 'init'>>(
  run: T,
  readRun: (runId: string) => T | undefined,
  timeAt: (runId: string, step: number) => number | undefined,
): number {
  return continuationChain(run, readRun).reduce((offset, member) => offset + (member.init ? (timeAt(member.init.run, member.init.step) ?? 0) : 0), 0);
}

/** A run that continues another, as views show it: the run it starts from (id, display name) at `step`, and where its own curve starts. */
export interface RunContinues {
  runId: string;
  name: string;
  step: number;
  /** Its step s is drawn at stepOffset + s (initStepOffset). */
  stepOffset: number;
  /** Its time t (ms) is drawn at timeOffsetMs + t on the wall-clock axis (initTimeOffset); given when the view reads metrics. */
  timeOffsetMs?: number;
}

/**
 * What a view says of a run that continues another (undefined for a fresh start); a deleted parent
 * is named by its id. With `timeAt` (a run's training time at a step) it also says where the run
 * starts on the wall-clock axis.
 */
export function runContinues(
  run: RunSummary,
  readRun: (runId: string) => RunSummary | undefined,
  timeAt?: (runId: string, step: number) => number | undefined,
): RunContinues | undefined {
  if (!run.init) return undefined;
  const parent = readRun(run.init.run);
  return {
    runId: run.init.run,
    name: parent ? runDisplayName(parent) : run.init.run,
    step: run.init.step,
    stepOffset: initStepOffset(run, readRun),
    ...(timeAt ? { timeOffsetMs: initTimeOffset(run, readRun, timeAt) } : {}),
  };
}

/** One metric of one run as a chart draws it (src/shared/series.ts builds them). */
export interface ChartSeries {
  runId: string;
  runName: string;
  metric: string;
  steps: number[];
  values: number[];
}

const DEFAULT_ID = /^(\d{4})(\d{2})(\d{2})-(\d{2})(\d{2})(\d{2})-(.*)$/;

/**
 * The one name a run goes by in every view (tree, dashboard, Live view, panels). A renamed run
 * keeps its name. A run called by its id (`20250131-142501-<experiment>[-n]`) is shown as its
 * experiment and start time, `mha 2025-01-31 14:25:01 #2`; under its experiment's group in
 * the Runs tree (`experimentShown`) the time alone tells it apart.
 */
export function runDisplayName(
  run: Pick<RunSummary, 'id' | 'name' | 'experiment'>,
  options: { experimentShown?: boolean } = {},
): string {
  const match = run.name === run.id ? DEFAULT_ID.exec(run.id) : null;
  if (!match) return run.name;
  const [, year, month, day, hours, minutes, seconds, rest] = match;
  const counter = rest.startsWith(`${run.experiment}-`) ? /^\d+$/.exec(rest.slice(run.experiment.length + 1))?.[0] : undefined;
  const time = `${year}-${month}-${day} ${hours}:${minutes}:${seconds}${counter ? ` #${counter}` : ''}`;
  return options.experimentShown ? time : `${run.experiment} ${time}`;
}
