/**
 * Every message the three rooms exchange, in one place:
 *   host <-> worker   (engine: training jobs and inference sessions)
 *   host <-> webview  (panels and the Live view: render data, user intents)
 * Both sides import these types; nothing else crosses a thread or iframe boundary.
 */

// ---------------------------------------------------------------- shared data (src/shared)

export type { Backend, BackendInfo, BackendSetting, KernelFlag, KernelStatus } from '../shared/backend';
export type { ChartSeries, MetricRecord, RunState, RunSummary } from '../shared/runs';
import type { BackendInfo } from '../shared/backend';
import type { MetricRecord, RunSummary } from '../shared/runs';

// ---------------------------------------------------------------- host <-> worker

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

/** Training worker -> its gradient worker (training.gradientWorkers = 2): one shard per step. */
export type ToGradientWorker = { type: 'compute'; step: number; shard: number; weights: Float32Array[] };

export type FromGradientWorker =
  | { type: 'ready' }
  | { type: 'result'; step: number; loss: number; gradients: Float32Array[] }
  | { type: 'error'; message: string };

export type ToWorker =
  /** `ownerToken`: the run's owner lock, held by the engine for the job. `resumeStep`: resume from that checkpoint. */
  | { type: 'train'; jobId: string; runDir: string; resume: boolean; ownerToken: string; resumeStep?: number }
  | { type: 'cancel'; jobId: string }
  | { type: 'openSession'; sessionId: string; runDir: string; step?: number }
  | { type: 'sessionRequest'; sessionId: string; requestId: number; request: InferenceRequest }
  | { type: 'closeSession'; sessionId: string }
  | { type: 'shutdown' };

export type FromWorker =
  | { type: 'ready'; backend: BackendInfo }
  | { type: 'progress'; jobId: string; step: number; totalSteps: number; metrics: MetricRecord[] }
  | { type: 'finished'; jobId: string; state: 'completed' | 'cancelled' | 'failed'; error?: string }
  | { type: 'sessionOpened'; sessionId: string; step: number; steps: number[]; error?: string }
  | { type: 'sessionReply'; sessionId: string; requestId: number; result?: unknown; error?: string }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string };

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
