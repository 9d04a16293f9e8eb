/**
 * Messages of the Attention composition panel (webview/attention <-> src/host/attentionPanel.ts).
 * One or two runs are shown as columns; every column answers for the same split and example
 * index, so multi-head attention's rigid pairing sits next to compositional attention's soft
 * selection. Data types come from src/core/retrieval/attentionSummary.ts (computed in the worker).
 */
import type { AttentionExample, SelectionSummary } from '../core/retrieval/attentionSummary';
import type { RunState } from '../protocol';

export type { AttentionExample, SelectionSummary };

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
}

export interface AttentionSelection {
  split: string;
  index: number;
  /** Examples in the summary over the split. */
  summaryExamples: number;
}

export type ToAttentionWebview =
  /** Full state after 'ready' and when the shown runs change. */
  | { type: 'state'; columns: AttentionColumn[]; splits: string[]; selection: AttentionSelection }
  /** One column changed (step loaded, steps grew, a problem appeared or went away). */
  | { type: 'column'; column: AttentionColumn }
  | { type: 'example'; runId: string; example: AttentionExample }
  | { type: 'summary'; runId: string; summary: SelectionSummary }
  /** A request of a column is being computed (`what`: 'example' | 'summary'). */
  | { type: 'busy'; runId: string; what: 'example' | 'summary' }
  | { type: 'error'; runId?: string; message: string };

export type FromAttentionWebview =
  | { type: 'ready' }
  /** Show example `index` of `split` in every column (and the summary over `summaryExamples`). */
  | { type: 'select'; selection: AttentionSelection }
  /** Load another checkpoint in one column. */
  | { type: 'loadStep'; runId: string; step: number }
  /** Pick a run to show beside the current one. */
  | { type: 'addRun' }
  | { type: 'removeRun'; runId: string };

/** The webview's persisted state (setState): restores the panel after a window reload. */
export interface AttentionPanelState {
  runIds: string[];
  selection?: AttentionSelection;
}

export const ATTENTION_VIEW_TYPE = 'modelLab.attention';
export const DEFAULT_SUMMARY_EXAMPLES = 64;
export { RETRIEVAL_MODELS } from '../core/labPanels';
