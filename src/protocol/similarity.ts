/**
 * The Similarity panel's messages (webview/similarity <-> its host provider): one run's trials,
 * similarity matrices and class averages, or a sweep's held-out accuracy grid. The data shapes
 * come from src/core/relational/panelData.ts.
 */
import type { LearnedNote } from './learned';
import type { ClassAverage, SweepGrid, TrialView } from '../core/relational/panelData';
import type { Messages, Notification } from './channel';

export type { ClassAverage, SweepGrid, TrialView };

export const SIMILARITY_VIEW_TYPE = 'modelLab.similarity';

export type SimilarityTarget = { kind: 'run'; runId: string } | { kind: 'sweep'; sweepId: string };

/** The page's persisted state (setState): the serializer reopens the panel on it. */
export interface SimilarityViewState {
  target: SimilarityTarget;
}

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
  /** Whether the run has learned yet (its lab's rule on its last metrics); absent: the rule cannot judge. */
  learned?: LearnedNote;
}

export interface SweepMemberState {
  runId: string;
  label: string;
  state: string;
}

/** Host -> page. */
export interface ToSimilarityPage extends Messages {
  requests: Record<never, never>;
  notifications: {
    run: Notification<{ run: SimilarityRunInfo }>;
    trial: Notification<{ trial: TrialView }>;
    averages: Notification<{ split: string; averages: ClassAverage[] }>;
    sweep: Notification<{ sweepId: string; name: string; grid: SweepGrid; members: SweepMemberState[] }>;
    /** Work in progress (e.g. class averages being computed); empty clears it. */
    status: Notification<{ message: string }>;
    error: Notification<{ message: string }>;
  };
}

/** Page -> host. */
export interface FromSimilarityPage extends Messages {
  requests: Record<never, never>;
  notifications: {
    /** The page listens: replay the run (or sweep) and its data. */
    ready: Notification<Record<string, never>>;
    showTrial: Notification<{ split: string; index: number }>;
    /** Open the panel on a member run (a cell of the sweep grid). */
    openRun: Notification<{ runId: string }>;
  };
}
