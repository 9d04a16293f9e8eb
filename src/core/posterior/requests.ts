/**
 * The posterior lab's inspection requests (types only: the protocol composes every lab's map;
 * the handlers are in runtime.ts). The Posterior panel and the Live miniature ask them.
 */
import type { Request } from '../../protocol/channel';
import type { PanelCalibration } from './panelCalibration';
import type { PanelData, PanelView, PosteriorExample, PosteriorPanelResult } from './panelData';
import type { PanelReference } from './panelReference';

export interface PosteriorRequests {
  /**
   * Samples of the network's posterior q(theta | data) from one forward pass, with the exact
   * posterior where the task has one, the predictive band (1-D regression) or probability field
   * (2-D classification) over `view`.
   */
  posteriorSamples: Request<{ data: PanelData; samples: number; seed?: number; view?: PanelView }, PosteriorPanelResult>;
  /** HMC on the same data set, and its W2 to `samples` draws of the network. */
  posteriorReference: Request<{ data: PanelData; samples: number }, PanelReference>;
  /** Simulation-based calibration of the network at the session's checkpoint (default settings). */
  posteriorCalibration: Request<Record<string, never>, PanelCalibration>;
  /** Data set `index` simulated from the run's task, to start editing from. */
  posteriorExample: Request<{ index: number }, PosteriorExample>;
}
