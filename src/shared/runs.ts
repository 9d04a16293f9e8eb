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
