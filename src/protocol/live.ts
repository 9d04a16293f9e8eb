/**
 * The Live view's messages (webview/live <-> src/host's Live view provider): the selected or
 * active run at a glance (the dashboard's run notifications, ./dashboard.ts) and its lab
 * miniature, a small key picture of the run's lab (attention selection, posterior samples,
 * similarity matrix, sampler samples over the target's contours) computed by the host from the
 * run's latest checkpoint.
 */
import type { Messages, Notification } from './channel';
import type { RunNotifications } from './dashboard';

export const LIVE_VIEW_ID = 'modelLab.live';

/** tokens x (search·retrieval): probability that search s of a token uses retrieval r. */
export interface AttentionMiniature {
  kind: 'attention';
  /** matrix[token][s * retrievals + r], values in [0, 1]. */
  matrix: number[][];
  searches: number;
  retrievals: number;
  /** Column groups are named like the Attention panel's: 'h' (heads, multi-head) or 's' (searches), from 0. */
  groupPrefix: 'h' | 's';
}

/** Samples of the network's posterior q(theta | D) against the exact posterior's, for one simulated data set. */
export interface PosteriorMiniature {
  kind: 'posterior';
  /** Names of the (at most two) plotted parameters. */
  axes: string[];
  /** [n][1 or 2]. */
  network: number[][];
  exact?: number[][];
  /** The parameters the data set was simulated from. */
  truth: number[];
}

/** T x T similarity matrix of one trial (what CoRelNet's decoder reads). */
export interface SimilarityMiniature {
  kind: 'similarity';
  matrix: number[][];
}

/** Samples of a diffusion sampler over its target's log-density (two coordinates), with the mixture's modes. */
export interface SamplerMiniature {
  kind: 'sampler';
  /** Names of the two plotted coordinates. */
  axes: [string, string];
  /** [n][2]. */
  samples: number[][];
  /** log R on a grid x grid lattice over `range` (index b * grid + a, a along the first axis); very negative where R is 0. */
  landscape: { grid: number; range: [[number, number], [number, number]]; logDensity: number[] };
  /** Mixture targets: the component means, [k][2]. */
  modes?: number[][];
}

export type MiniaturePicture = AttentionMiniature | PosteriorMiniature | SimilarityMiniature | SamplerMiniature;

export interface LabMiniature {
  runId: string;
  step: number;
  /** One line saying what the picture is, e.g. "retrieval selection, example 0, step 1200". */
  caption: string;
  /** The button that opens the lab's full panel. */
  open: { command: string; label: string };
  picture: MiniaturePicture;
}

/** Host -> page. */
export interface ToLivePage extends Messages {
  requests: Record<never, never>;
  notifications: RunNotifications & {
    /** `miniature` undefined: the shown run has none (other lab, or no checkpoint yet): hide the slot. */
    miniature: Notification<{ runId?: string; miniature?: LabMiniature }>;
  };
}

/** Page -> host: user intents. */
export interface FromLivePage extends Messages {
  requests: Record<never, never>;
  notifications: {
    /** The page listens: replay the full state and the miniature. */
    ready: Notification<Record<string, never>>;
    openDashboard: Notification<{ runId?: string }>;
    stopRun: Notification<{ runId: string }>;
    resumeRun: Notification<{ runId: string }>;
    /** Open the lab's full panel on the run (the miniature's button). */
    openLab: Notification<{ runId: string }>;
  };
}
