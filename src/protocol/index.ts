/**
 * Every message that crosses a thread or an iframe, by conversation: one typed Channel
 * (./channel.ts) carries them all.
 *   host <-> worker            ./worker.ts (training jobs, inference sessions)
 *   host <-> each panel page   ./attention.ts, ./posterior.ts, ./similarity.ts, ./dashboard.ts, ./live.ts
 * The records they carry (runs, metrics, backends) are src/shared/'s, re-exported here.
 */

// ---------------------------------------------------------------- shared data (src/shared)

export type { Backend, BackendInfo, BackendSetting, KernelFlag, KernelStatus } from '../shared/backend';
export type { ChartSeries, MetricRecord, RunState, RunSummary } from '../shared/runs';
import type { BackendInfo } from '../shared/backend';
import type { MetricRecord, RunSummary } from '../shared/runs';

// ---------------------------------------------------------------- host <-> worker

/** @deprecated Sessions are asked through src/protocol/worker.ts (InspectionRequests); left until src/engine/sessions.ts dispatches by kind. */
export type InferenceRequest =
  /** Run the model on one example of a split; returns whatever the model exposes for inspection. */
  | { kind: 'example'; split: string; index: number }
  /** List the checkpoint steps the session can switch to. */
  | { kind: 'steps' }
  /** Switch the session to another saved step. */
  | { kind: 'load'; step: number }
  // -- Attention composition panel (src/core/retrieval/attentionSummary.ts computes the answers)
  /** The task's splits, training split first. */
  | { kind: 'splits' }
  /** One example of a retrieval model as the panel shows it: an AttentionExample. */
  | { kind: 'attentionExample'; split: string; index: number }
  /** Examples 0 .. examples-1 of a split, summarised in the worker: a SelectionSummary. */
  | { kind: 'selectionSummary'; split: string; examples: number }
  // -- Posterior panel (src/core/posterior/panelData.ts computes the answers)
  /**
   * Samples of the network's posterior q(theta | data) from one forward pass, with the exact
   * posterior where the task has one, the predictive band (1-D regression) or probability field
   * (2-D classification) over `view`: a PosteriorPanelResult.
   */
  | {
      kind: 'posteriorSamples';
      data: { x: number[][]; y?: number[] };
      samples: number;
      seed?: number;
      view?: { x: [number, number]; y: [number, number] };
    }
  /** HMC on the same data set, and its W2 to `samples` draws of the network: a PanelReference. */
  | { kind: 'posteriorReference'; data: { x: number[][]; y?: number[] }; samples: number }
  /** Simulation-based calibration of the network at the session's checkpoint (default settings). */
  | { kind: 'posteriorCalibration' }
  /** Data set `index` simulated from the run's task, to start editing from: a PosteriorExample. */
  | { kind: 'posteriorExample'; index: number }
  // -- Similarity panel (src/core/relational/panelData.ts computes the answers)
  /** Mean similarity matrix per trial kind over `perKind` trials of each: ClassAverage[]. */
  | { kind: 'similarityAverages'; split: string; perKind: number };

export type { FromGradientWorker, ToGradientWorker } from './worker';

// ---------------------------------------------------------------- host <-> webview

export type ToWebview =
  /** Full state: sent after `ready` and whenever the shown runs change (replay after hide). */
  | {
      type: 'state';
      runs: RunSummary[];
      metrics: Record<string, MetricRecord[]>;
      specs: Record<string, unknown>;
      /** Added for the webviews: the backend each run trained on (from its environment), when known. */
      backends?: Record<string, BackendInfo>;
    }
  /** Incremental metrics for a run that is training. */
  | { type: 'metrics'; runId: string; records: MetricRecord[] }
  | { type: 'runStatus'; run: RunSummary }
  | { type: 'error'; message: string };

export type FromWebview =
  | { type: 'ready' }
  | { type: 'openDashboard'; runId?: string }
  | { type: 'exportCsv' }
  /** `data` is a data: URL. `name` (added for the webviews) suggests a file name, e.g. the metric. */
  | { type: 'saveImage'; format: 'png' | 'svg'; data: string; name?: string }
  | { type: 'stopRun'; runId: string }
  | { type: 'resumeRun'; runId: string };
