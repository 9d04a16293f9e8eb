/**
 * The dashboard's messages (webview/dashboard <-> its host provider): the shown runs, their
 * metrics as they grow, and what the user asks of them. The Live view (./live.ts) shows one run
 * with the same run notifications.
 */
import type { BackendInfo } from '../shared/backend';
import type { MetricRecord, RunContinues, RunSummary } from '../shared/runs';

export type { RunContinues } from '../shared/runs';
import type { XAxis } from '../shared/series';
import type { Messages, Notification } from './channel';

export const DASHBOARD_VIEW_TYPE = 'modelLab.dashboard';

/** The page's persisted state (setState): survives hide/show and lets the serializer restore the panel. */
export interface DashboardState {
  runIds: string[];
  smoothing: number;
  logScale: boolean;
  onlyDiffering: boolean;
  /** Step or wall-clock time on the x axes (absent in state saved before it existed: step). */
  xAxis?: XAxis;
  /** The metrics drawn together in the overlay chart (two or more show it). */
  overlay?: string[];
}

/** The runs' full state: sent after `ready` and whenever the shown runs change (replay after hide). */
export interface RunsState {
  runs: RunSummary[];
  metrics: Record<string, MetricRecord[]>;
  specs: Record<string, unknown>;
  /** The backend each run trained on (from its environment), when known. */
  backends?: Record<string, BackendInfo>;
  /**
   * Runs that continue another run (spec `init`): where their curve starts on the step axis (the
   * init steps of their chain added up, src/shared/runs.ts initStepOffset) and on the wall-clock
   * axis (the parents' training times at those steps, initTimeOffset), and the run they
   * continue, by display name, for the link. Absent: the run starts at step 0 of its own.
   */
  continues?: Record<string, RunContinues>;
}


/** What the host tells a page that shows runs (the dashboard and the Live view). A type, not an interface: it must fit `Messages`' index signature. */
export type RunNotifications = {
  state: Notification<RunsState>;
  /** Incremental metrics for a run that is training. */
  metrics: Notification<{ runId: string; records: MetricRecord[] }>;
  runStatus: Notification<{ run: RunSummary }>;
  error: Notification<{ message: string }>;
};

/** Host -> page. */
export interface ToDashboardPage extends Messages {
  requests: Record<never, never>;
  notifications: RunNotifications;
}

/** Page -> host: user intents. */
export interface FromDashboardPage extends Messages {
  requests: Record<never, never>;
  notifications: {
    /** The page listens: replay the full state. */
    ready: Notification<Record<string, never>>;
    exportCsv: Notification<Record<string, never>>;
    /** `data` is a data: URL. `name` suggests a file name, e.g. the metric. */
    saveImage: Notification<{ format: 'png' | 'svg'; data: string; name?: string }>;
    stopRun: Notification<{ runId: string }>;
    resumeRun: Notification<{ runId: string }>;
    /** The link of a run that continues another: open that run (only a shown run's parent is opened). */
    openParent: Notification<{ runId: string }>;
  };
}
