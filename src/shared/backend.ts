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
  /** Whether matrix products run on Model Lab's wasm kernel (dist/batched-matmul.wasm) instead of tfjs's. */
  batchedMatMulKernel?: boolean;
  /** Whether the relational encoder's convolution gradients run on Model Lab's wasm kernels (dist/strided-conv.wasm). */
  stridedConvKernels?: boolean;
  /** Whether tf.clone shares the buffer instead of copying it (src/core/kernels/sharedIdentity.ts). */
  sharedIdentity?: boolean;
  /** Whether the posterior transformer's attention runs on Model Lab's wasm kernel (dist/masked-attention.wasm). */
  maskedAttentionKernel?: boolean;
  /** Whether layer normalisation runs on Model Lab's wasm kernel (dist/layer-norm.wasm). */
  layerNormKernel?: boolean;
  /** Whether dense layers (product, bias, ReLU) run on Model Lab's wasm kernel (dist/dense.wasm). */
  denseKernel?: boolean;
  /** Whether Concat, Slice and SplitV run on Model Lab's wasm kernel (dist/copy.wasm). */
  copyKernel?: boolean;
  /** Whether Adam's update runs on Model Lab's wasm kernel (dist/adam.wasm). */
  adamKernel?: boolean;
  /** Why a kernel is not in use, when one is not. */
  kernelReason?: string;
  /** Model Lab's wasm kernels (wasm backend only), each on or with why not: `kernelSummary` (src/engine/kernelSummary.ts) says it in a line. */
  kernels?: KernelStatus[];
}

/** One of Model Lab's wasm kernels: its name (dist/<name>.wasm), and why it is off when it is. */
export interface KernelStatus {
  name: string;
  active: boolean;
  reason?: string;
}

/** The BackendInfo fields that say whether one of Model Lab's kernels is in use. */
export type KernelFlag = 'batchedMatMulKernel' | 'stridedConvKernels' | 'sharedIdentity' | 'maskedAttentionKernel' | 'layerNormKernel' | 'denseKernel' | 'copyKernel' | 'adamKernel';
