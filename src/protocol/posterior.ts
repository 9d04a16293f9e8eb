/**
 * The Posterior panel's messages (webview/posterior <-> its host provider). The answers are the
 * core's (src/core/posterior/panelData.ts ...), passed through unchanged: plain data, with the
 * samples as one Float32Array (VS Code posts typed arrays to webviews as such). The page's
 * forward passes, HMC references and calibrations are requests: the reply comes back to the
 * call that asked, and the page keeps only the latest answer of each kind.
 */
import type { LearnedNote } from './learned';
import type { PanelData, PanelView, PosteriorExample, PosteriorPanelResult } from '../core/posterior/panelData';
import type { PanelCalibration } from '../core/posterior/panelCalibration';
import type { PanelReference } from '../core/posterior/panelReference';
import type { Messages, Notification, Request } from './channel';

export type { DataPlotKind, PanelData, PanelView, PosteriorExample, PosteriorPanelResult, PosteriorTaskInfo } from '../core/posterior/panelData';
export type { PanelCalibration } from '../core/posterior/panelCalibration';
export type { PanelReference } from '../core/posterior/panelReference';
export type { SampleMatrix } from '../shared/sampleMatrix';

export const POSTERIOR_VIEW_TYPE = 'modelLab.posterior';

/** What the page keeps with setState (restores the panel and the user's edits after a reload). */
export interface PosteriorViewState {
  runId: string;
  exampleIndex: number;
  /** The edited data set; undefined: the simulated example as is. */
  data?: PanelData;
  samples: number;
}

/** Host -> page. */
export interface ToPosteriorPage extends Messages {
  requests: Record<never, never>;
  notifications: {
    /** The run and the session's checkpoint (sent after 'ready', and after every step change). */
    session: Notification<{ runId: string; runName: string; step: number; steps: number[]; learned?: LearnedNote }>;
    example: Notification<{ example: PosteriorExample }>;
    /** Something the page did not ask for failed, or the run cannot be shown. */
    error: Notification<{ message: string }>;
  };
}

/** Page -> host. A failed request rejects with the reason, in words. `workerMs`: host -> worker -> host, measured in the host. */
export interface FromPosteriorPage extends Messages {
  requests: {
    /** Samples of the network's posterior for `data` (one forward pass). */
    posterior: Request<{ data: PanelData; samples: number; view?: PanelView }, { result: PosteriorPanelResult; workerMs: number }>;
    /** HMC on `data`, compared with `samples` draws of the network (seconds, not a forward pass). */
    reference: Request<{ data: PanelData; samples: number }, { reference: PanelReference; workerMs: number }>;
    /** Simulation-based calibration of the network at the shown checkpoint (seconds in the worker). */
    calibration: Request<Record<string, never>, { calibration: PanelCalibration; workerMs: number }>;
  };
  notifications: {
    /** The page listens: send the session (and so, the example). */
    ready: Notification<Record<string, never>>;
    /** Simulated data set `index` of the run's task; answered with an `example` notification. */
    example: Notification<{ index: number }>;
    loadStep: Notification<{ step: number }>;
    refreshSteps: Notification<Record<string, never>>;
  };
}
