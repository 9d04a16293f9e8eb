/**
 * The Attention composition panel's messages (webview/attention <-> its host provider). One or
 * two runs are shown as columns; every column answers for the same split and example index, so
 * multi-head attention's rigid pairing sits next to compositional attention's soft selection.
 * The example and summary data come from src/core/retrieval/attentionSummary.ts (computed in the
 * worker, passed through unchanged).
 */
import type { LearnedNote } from './learned';
import type { AttentionExample, SelectionSummary } from '../core/retrieval/attentionSummary';
import type { RunState } from '../shared/runs';
import type { Messages, Notification } from './channel';

export type { AttentionExample, SelectionSummary };

export const ATTENTION_VIEW_TYPE = 'modelLab.attention';
export const DEFAULT_SUMMARY_EXAMPLES = 64;

/** What a column shows about its run, without the example data. */
export interface AttentionColumn {
  runId: string;
  runName: string;
  /** The spec's model name, e.g. 'compositional-attention'. */
  model: string;
  /** One line on the model's shape, e.g. "2 searches x 4 retrievals, width 64". */
  modelDetail: string;
  state: RunState;
  /** The checkpoint the session has loaded (undefined while none is loaded). */
  step?: number;
  /** Every saved checkpoint step, ascending. */
  steps: number[];
  /** Why the column has no data (no checkpoint yet, not a retrieval model, ...). */
  problem?: string;
  /** Whether the run has learned yet (its lab's rule on its last metrics); absent: the rule cannot judge. */
  learned?: LearnedNote;
}

export interface AttentionSelection {
  split: string;
  index: number;
  /** Examples in the summary over the split. */
  summaryExamples: number;
}

/** The page's persisted state (setState): restores the panel after a window reload. */
export interface AttentionPanelState {
  runIds: string[];
  selection?: AttentionSelection;
}

/** Host -> page. The host pushes every answer; the page asks nothing. */
export interface ToAttentionPage extends Messages {
  requests: Record<never, never>;
  notifications: {
    /** Full state after 'ready' and when the shown runs change. */
    state: Notification<{ columns: AttentionColumn[]; splits: string[]; selection: AttentionSelection }>;
    /** One column changed (step loaded, steps grew, a problem appeared or went away). */
    column: Notification<{ column: AttentionColumn }>;
    example: Notification<{ runId: string; example: AttentionExample }>;
    summary: Notification<{ runId: string; summary: SelectionSummary }>;
    /** A request of a column is being computed. */
    busy: Notification<{ runId: string; what: 'example' | 'summary' }>;
    error: Notification<{ runId?: string; message: string }>;
  };
}

/** Page -> host: user intents. */
export interface FromAttentionPage extends Messages {
  requests: Record<never, never>;
  notifications: {
    /** The page listens: replay the full state. */
    ready: Notification<Record<string, never>>;
    /** Show example `index` of `split` in every column (and the summary over `summaryExamples`). */
    select: Notification<{ selection: AttentionSelection }>;
    /** Load another checkpoint in one column. */
    loadStep: Notification<{ runId: string; step: number }>;
    /** Pick a run to show beside the current one. */
    addRun: Notification<Record<string, never>>;
    removeRun: Notification<{ runId: string }>;
  };
}
