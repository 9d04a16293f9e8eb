/**
 * Every message that crosses a thread or an iframe, by conversation: one typed Channel
 * (./channel.ts) carries them all.
 *   host <-> worker            ./worker.ts (training jobs, inference sessions)
 *   host <-> each panel page   ./attention.ts, ./posterior.ts, ./similarity.ts, ./dashboard.ts, ./live.ts
 * The records they carry (runs, metrics, backends) are src/shared/'s, re-exported here.
 */

// ---------------------------------------------------------------- shared data (src/shared)

export type { Backend, BackendInfo, BackendSetting, KernelStatus } from '../shared/backend';
export type { ChartSeries, MetricRecord, RunState, RunSummary } from '../shared/runs';

// ---------------------------------------------------------------- host <-> worker (training internals)

export type { FromGradientWorker, PlainTensorMessage, ToGradientWorker } from './worker';
