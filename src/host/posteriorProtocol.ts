/**
 * Messages between the Posterior panel's host (src/host/posteriorPanel.ts) and its webview
 * (webview/posterior). Both sides import this file. The answers themselves are the core's
 * (src/core/posterior/panelData.ts), passed through unchanged: plain data, with the samples as one
 * Float32Array (VS Code posts typed arrays to webviews as such).
 */
import type { PanelData, PanelView, PosteriorExample, PosteriorPanelResult } from '../core/posterior/panelData';
import type { PanelCalibration } from '../core/posterior/panelCalibration';
import type { PanelReference } from '../core/posterior/panelReference';

export type { DataPlotKind, PanelData, PanelView, PosteriorExample, PosteriorPanelResult, PosteriorTaskInfo } from '../core/posterior/panelData';
export type { PanelCalibration } from '../core/posterior/panelCalibration';
export type { PanelReference } from '../core/posterior/panelReference';
export { sampleColumn, type SampleMatrix } from '../shared/sampleMatrix';

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
  /** The HMC reference for the data set of reference request `requestId`. */
  | { type: 'reference'; requestId: number; reference: PanelReference; workerMs: number }
  /** SBC of the network at the checkpoint `calibration.step`, for calibration request `requestId`. */
  | { type: 'calibration'; requestId: number; calibration: PanelCalibration; workerMs: number }
  /** A request failed, or the run cannot be shown; `requestId` names the posterior request, if any. */
  | { type: 'error'; message: string; requestId?: number };

export type FromPosteriorWebview =
  | { type: 'ready' }
  | { type: 'example'; index: number }
  | { type: 'posterior'; requestId: number; data: PanelData; samples: number; view?: PanelView }
  /** Run HMC on `data` and compare it with `samples` draws of the network (seconds, not a forward pass). */
  | { type: 'reference'; requestId: number; data: PanelData; samples: number }
  /** Simulation-based calibration of the network at the shown checkpoint (seconds in the worker). */
  | { type: 'calibration'; requestId: number }
  | { type: 'loadStep'; step: number }
  | { type: 'refreshSteps' };
