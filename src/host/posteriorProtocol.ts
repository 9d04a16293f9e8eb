/**
 * Messages between the Posterior panel's host (src/host/posteriorPanel.ts) and its webview
 * (webview/posterior). Types only: both sides import this file. The answers themselves are the
 * core's JSON (src/core/posterior/panelData.ts), passed through unchanged.
 */
import type { PanelData, PanelView, PosteriorExample, PosteriorPanelResult } from '../core/posterior/panelData';

export type { DataPlotKind, PanelData, PanelView, PosteriorExample, PosteriorPanelResult, PosteriorTaskInfo } from '../core/posterior/panelData';

export const POSTERIOR_VIEW_TYPE = 'modelLab.posterior';

/** What the webview keeps with setState (restores the panel and the user's edits after a reload). */
export interface PosteriorViewState {
  runId: string;
  exampleIndex: number;
  /** The edited data set; undefined: the simulated example as is. */
  data?: PanelData;
  samples: number;
}

export type ToPosteriorWebview =
  /** The run and the session's checkpoint (sent after 'ready', and after every step change). */
  | { type: 'session'; runId: string; runName: string; step: number; steps: number[] }
  | { type: 'example'; example: PosteriorExample }
  /** `workerMs`: host -> worker -> host, measured in the host. */
  | { type: 'posterior'; requestId: number; result: PosteriorPanelResult; workerMs: number }
  /** A request failed, or the run cannot be shown; `requestId` names the posterior request, if any. */
  | { type: 'error'; message: string; requestId?: number };

export type FromPosteriorWebview =
  | { type: 'ready' }
  | { type: 'example'; index: number }
  | { type: 'posterior'; requestId: number; data: PanelData; samples: number; view?: PanelView }
  | { type: 'loadStep'; step: number }
  | { type: 'refreshSteps' };
