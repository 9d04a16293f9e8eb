/**
 * The runs table's messages (webview/runsTable <-> src/host/panels/runsTablePanel.ts): one row
 * per run of the workspace (name, lab, state, duration, the last value of every metric and the
 * resolved spec), replayed whole on `ready` and when runs come or go, a run's row alone when it
 * progresses; the page sorts, filters, draws
 * the HParams view and sends back the runs the user wants overlaid in the dashboard.
 */
import type { RunState } from '../shared/runs';
import type { Messages, Notification } from './channel';

export const RUNS_TABLE_VIEW_TYPE = 'modelLab.runsTable';

/** At most this many runs go to the dashboard at once (a picked set, not the whole table). */
export const MAX_OVERLAY_RUNS = 24;

/** One run as the table shows it. */
export interface RunsTableRow {
  id: string;
  /** The run's display name (src/shared/runs.ts runDisplayName). */
  name: string;
  /** The lab's title, or '' when the spec names no known lab. */
  lab: string;
  experiment: string;
  state: RunState;
  step: number;
  totalSteps: number;
  createdAt: string;
  /** Training time (status.json); absent for runs written before it was recorded. */
  durationMs?: number;
  /** The last logged value of every metric (non-finite values as logged: NaN). */
  metrics: Record<string, number>;
  /** The resolved spec (spec.json), flattened by the page; undefined when unreadable. */
  spec?: unknown;
}

/** The page's persisted state (setState): columns, sort, filter and HParams choices. */
export interface RunsTableState {
  /** Column ids in order (see webview/runsTable/tableModel.ts); absent: the default set. */
  columns?: string[];
  sort?: { column: string; descending: boolean };
  filter?: string;
  tab?: 'table' | 'hparams';
  /** `log: false` keeps hyperparameter axes linear (default: log from a 10x span). */
  hparams?: { metric?: string; param?: string; axes?: string[]; log?: boolean };
}

/** Host -> page. */
export interface ToRunsTablePage extends Messages {
  requests: Record<never, never>;
  notifications: {
    /** Every run, newest first: after `ready`, and when runs come or go. */
    rows: Notification<{ rows: RunsTableRow[] }>;
    /** The rows of runs that progressed or logged metrics (same runs listed). */
    changedRows: Notification<{ rows: RunsTableRow[] }>;
  };
}

/** Page -> host: user intents. */
export interface FromRunsTablePage extends Messages {
  requests: Record<never, never>;
  notifications: {
    ready: Notification<Record<string, never>>;
    /** Open the dashboard with these runs overlaid. */
    overlay: Notification<{ runIds: string[] }>;
  };
}
