/**
 * What a worker says about the TensorFlow.js backend it trains on (and Model Lab's own wasm
 * kernels): recorded with each run's environment, shown in the status bar, the Live view and the
 * dashboard. Types only, shared by host, worker, CLI and webviews.
 */

export type Backend = 'node' | 'wasm' | 'cpu';
export type BackendSetting = 'auto' | Backend;

export interface BackendInfo {
  /** The backend actually in use. */
  name: Backend;
  /** What the user asked for. */
  requested: BackendSetting;
  /** Why a fallback happened (e.g. tfjs-node could not be loaded), shown to the user. */
  fallbackReason?: string;
  /** tfjs version string. */
  version: string;
  /** Why a kernel (or the sharing Identity, src/core/kernels/sharedIdentity.ts) is not in use, when one is not. */
  kernelReason?: string;
  /** Model Lab's wasm kernels (wasm backend only), each on or with why not: `kernelSummary` (src/engine/kernelSummary.ts) says it in a line. */
  kernels?: KernelStatus[];
}

/** One of Model Lab's wasm kernels (src/core/kernels/kernels.json): its id (dist/<name>.wasm), and why it is off when it is. */
export interface KernelStatus {
  name: string;
  /** What it computes, as the user reads it ("matrix products"); absent in runs recorded before it was. */
  label?: string;
  active: boolean;
  reason?: string;
}
