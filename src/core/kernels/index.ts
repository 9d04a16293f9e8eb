/**
 * Model Lab's wasm kernels, one table: each kernel's id (dist/<id>.wasm), its C source in
 * src/kernels/, the label the user reads and what runs without it (kernels.json, which the build
 * scripts read too), joined here with its registration (the module that plugs it into tfjs's
 * wasm backend). The worker turns the table on once per process (`enableKernels`); every op
 * that a kernel serves chooses its implementation then (`fusedOp` in wasmModule.ts), so models
 * import their ops from here and never ask whether a kernel is active. The backend info lists the
 * table's kernels, each on or with why not (src/shared/backend.ts `KernelStatus`).
 */
import type { KernelStatus } from '../../shared/backend';
import { adamKernels } from './adam';
import { batchedMatMulKernels } from './batchedMatMul';
import { copyKernels } from './copy';
import { denseKernels } from './dense';
import rows from './kernels.json';
import { layerNormKernels } from './layerNorm';
import { maskedAttentionKernels } from './maskedAttention';
import { disableSharedIdentity, enableSharedIdentity } from './sharedIdentity';
import { stridedConvKernels } from './stridedConv';
import type { RegisteredKernels } from './wasmModule';

export { adamUpdate } from './adam';
export { rowDotProducts, weightedRowSums } from './batchedMatMul';
export { dense, gelu, type Activation } from './dense';
export { layerNorm } from './layerNorm';
export { maskedAttention, selfAttention, selfAttentionWithMaps } from './maskedAttention';
export { stridedConv, stridedConvRelu } from './stridedConv';

/** A row of kernels.json. */
interface KernelRow {
  id: string;
  /** Its C source in src/kernels/. */
  source: string;
  /** What it computes, as the user reads it ("Model Lab wasm kernels for matrix products, ..."). */
  label: string;
  /** What runs without it, for the build's message when its module is missing. */
  fallback: string;
}

export interface KernelEntry extends KernelRow {
  /** How it is turned on and off, and whether it is on. */
  registration: RegisteredKernels<unknown>;
}

const REGISTRATIONS = [batchedMatMulKernels, stridedConvKernels, maskedAttentionKernels, layerNormKernels, denseKernels, copyKernels, adamKernels] as RegisteredKernels<unknown>[];

/** The kernels, in kernels.json's order (the order the backend info lists them in). */
export const KERNEL_TABLE: readonly KernelEntry[] = (rows as KernelRow[]).map((row) => {
  const registration = REGISTRATIONS.find(({ id }) => id === row.id);
  if (!registration) throw new Error(`src/core/kernels/kernels.json lists '${row.id}' but src/core/kernels/index.ts registers no module for it`);
  return { ...row, registration };
});
for (const { id } of REGISTRATIONS) {
  if (!KERNEL_TABLE.some((entry) => entry.id === id)) throw new Error(`src/core/kernels/index.ts registers '${id}', which src/core/kernels/kernels.json does not list`);
}

/** The table's kernels, each on or with why not (`reasonOf` gives the reason, undefined when on). */
export function kernelStatuses(reasonOf: (entry: KernelEntry) => string | undefined): KernelStatus[] {
  return KERNEL_TABLE.map((entry) => {
    const reason = reasonOf(entry);
    return { name: entry.id, label: entry.label, active: reason === undefined, ...(reason === undefined ? {} : { reason }) };
  });
}

/**
 * Turns every kernel on, with the sharing Identity (it makes the custom gradients' saved inputs
 * free): the kernels' list, and the reasons of whatever could not be turned on.
 */
export function enableKernels(): { kernels: KernelStatus[]; problems: string[] } {
  const reasons = new Map(KERNEL_TABLE.map((entry) => [entry.id, entry.registration.enable()]));
  const identity = enableSharedIdentity();
  const problems = [...reasons.values(), identity].filter((reason): reason is string => reason !== undefined);
  return { kernels: kernelStatuses(({ id }) => reasons.get(id)), problems };
}

/** Gives every op back to tfjs. */
export function disableKernels(): void {
  for (const { registration } of KERNEL_TABLE) registration.disable();
  disableSharedIdentity();
}
