/**
 * The Sampler panel's messages (webview/sampler <-> its host provider, src/host/panels/samplerPanel.ts).
 * The answers are the core's (src/core/sampler/requests.ts, computed in panelData.ts), passed
 * through unchanged: samples, trajectories and log-densities as Float32Arrays (VS Code posts typed
 * arrays to webviews as such). The run's description and its metrics over training come from the
 * host (spec.json and metrics.jsonl); everything computed on a checkpoint is a request of the page.
 */
import type { LearnedNote } from './learned';
import type { SamplerLandscape, SamplerSamples, SamplerTargetInfo, TargetEdit } from '../core/sampler/requests';
import type { StepSeries } from '../shared/series';
import type { Messages, Notification, Request } from './channel';

export type { LogZEstimates, ModeRule, SamplerLandscape, SamplerSamples, SamplerTargetInfo, TargetEdit, TargetLogZ, TargetMixture } from '../core/sampler/requests';
export type { SampleMatrix } from '../shared/sampleMatrix';
export type { StepSeries } from '../shared/series';

export const SAMPLER_VIEW_TYPE = 'modelLab.sampler';

/** The run as its spec.json describes it: what the page says about the sampler and its training. */
export interface SamplerRunInfo {
  runId: string;
  runName: string;
  /** Task (target), model and objective names, e.g. 'sampler-gmm25', 'diffusion-sampler', 'trajectory-balance'. */
  task: string;
  model: string;
  objective: string;
  /** Steps the run was asked to train. */
  trainingSteps: number;
  /** Whether local search (MALA with a replay buffer) is on: the buffer is shown beside the policy. */
  localSearch: boolean;
  /** Exploration noise on (its decay is part of training). */
  exploration: boolean;
  /** An expression target's log R as written (the panel's editor starts from it). */
  logDensity?: string;
  /** The run this one was started from (`init`), when it was. */
  init?: { run: string; step?: number };
  /** Whether the run has learned yet (its lab's rule on its last metrics); absent: the rule cannot judge. */
  learned?: LearnedNote;
}

/** What the page keeps with setState (restores the panel after a reload). */
export interface SamplerViewState {
  runId: string;
  samples: number;
  /** The plotted coordinates (indices). */
  pair: [number, number];
}

/** Host -> page. */
export interface ToSamplerPage extends Messages {
  requests: Record<never, never>;
  notifications: {
    /** The run and the session's checkpoint (after 'ready', and after every step change). */
    session: Notification<{ run: SamplerRunInfo; step: number; steps: number[] }>;
    /**
     * The run's metrics over training, by metric name (all of them: a sampler run logs few). Sent
     * in full after 'ready' (`replace`), then the new points as the run trains.
     */
    metrics: Notification<{ series: Record<string, StepSeries>; replace: boolean }>;
    /** Something the page did not ask for failed, or the run cannot be shown. */
    error: Notification<{ message: string }>;
  };
}

/** Page -> host. A failed request rejects with the reason, in words. `workerMs`: host -> worker -> host. */
export interface FromSamplerPage extends Messages {
  requests: {
    target: Request<Record<string, never>, { target: SamplerTargetInfo }>;
    /** Samples with log-weights and `trajectories` full paths at the shown checkpoint (with `edit`: counted per mode at the edited modes). */
    samples: Request<{ n: number; seed?: number; trajectories?: number; edit?: TargetEdit }, { result: SamplerSamples; workerMs: number }>;
    /** log R on a grid over two coordinates (the contours under the samples); with `edit`, of the target as the user edited it. */
    landscape: Request<
      { dims: [number, number]; grid: number; range?: [[number, number], [number, number]]; slice?: number[]; edit?: TargetEdit },
      { landscape: SamplerLandscape; workerMs: number }
    >;
    /**
     * "Fine-tune from this checkpoint": the host writes an experiment file next to the run's with
     * the edited target and `init: { run, step }`, trains it, and opens its Sampler panel beside
     * this one. Answers the new run and the file (its name); rejects with the reason, in words.
     */
    fineTune: Request<{ step: number; edit: TargetEdit }, { runId: string; file: string }>;
  };
  notifications: {
    /** The page listens: send the session and the metrics. */
    ready: Notification<Record<string, never>>;
    loadStep: Notification<{ step: number }>;
    refreshSteps: Notification<Record<string, never>>;
  };
}
