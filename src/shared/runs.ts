/**
 * The run and metric vocabulary every layer shares: a run's state, one line of `metrics.jsonl`,
 * the summary the views list, a chart series. Types only, with no DOM, node or vscode, so the
 * run store, the worker, the host and the webviews all import it.
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
}

/** One metric of one run as a chart draws it (src/shared/series.ts builds them). */
export interface ChartSeries {
  runId: string;
  runName: string;
  metric: string;
  steps: number[];
  values: number[];
}
