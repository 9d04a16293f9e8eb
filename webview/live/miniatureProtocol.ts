/**
 * The lab miniature of the Live view: a small key picture of the shown run's lab (attention
 * selection, posterior samples, similarity matrix) computed by the host from the run's latest
 * checkpoint. Types only: the host (src/host/liveView.ts) and the webview (webview/live) import it.
 */

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

export type MiniaturePicture = AttentionMiniature | PosteriorMiniature | SimilarityMiniature;

export interface LabMiniature {
  runId: string;
  step: number;
  /** One line saying what the picture is, e.g. "retrieval selection, example 0, step 1200". */
  caption: string;
  /** The button that opens the lab's full panel. */
  open: { command: string; label: string };
  picture: MiniaturePicture;
}

export type ToLiveMiniature =
  /** `miniature` undefined: the shown run has none (other lab, or no checkpoint yet): hide the slot. */
  { type: 'miniature'; runId?: string; miniature?: LabMiniature };

export type FromLiveMiniature = { type: 'openLab'; runId: string };
