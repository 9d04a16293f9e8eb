/**
 * Messages between the similarity panel's host (src/host/similarityPanel.ts) and its webview
 * (webview/similarity). The data shapes come from src/core/relational/panelData.ts.
 */
import type { ClassAverage, SweepGrid, TrialView } from '../core/relational/panelData';

export type SimilarityTarget = { kind: 'run'; runId: string } | { kind: 'sweep'; sweepId: string };

export interface SimilarityRunInfo {
  runId: string;
  name: string;
  model: string;
  task: string;
  m?: number;
  step: number;
  splits: string[];
  /** Names of the answer classes (index = class). */
  classNames: string[];
  /** Entries the decoder never reads (drawn empty): the upper triangle for masked softmax and sigmoid. */
  unseen: 'upper' | 'none';
  /** False for models without a similarity matrix (baselines): the panel says so. */
  hasSimilarity: boolean;
}

export interface SweepMemberState {
  runId: string;
  label: string;
  state: string;
}

export type ToSimilarity =
  | { type: 'run'; run: SimilarityRunInfo }
  | { type: 'trial'; trial: TrialView }
  | { type: 'averages'; split: string; averages: ClassAverage[] }
  | { type: 'sweep'; sweepId: string; name: string; grid: SweepGrid; members: SweepMemberState[] }
  /** Work in progress (e.g. class averages being computed); empty clears it. */
  | { type: 'status'; message: string }
  | { type: 'error'; message: string };

export type FromSimilarity =
  | { type: 'ready' }
  | { type: 'showTrial'; split: string; index: number }
  /** Open the panel on a member run (a cell of the sweep grid). */
  | { type: 'openRun'; runId: string };
