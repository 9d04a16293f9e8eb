/**
 * Turns on Model Lab's own wasm kernels once the backend is chosen (selectBackend), and says in
 * the backend info (recorded in each run's environment.json) whether they are in use and why
 * not. Only the wasm backend has them; MODEL_LAB_KERNELS=off turns them off (benchmarks compare
 * both in one invocation).
 */
import { disableAdamKernel, enableAdamKernel } from '../core/kernels/adam';
import { enableBatchedMatMulKernel, disableBatchedMatMulKernel } from '../core/kernels/batchedMatMul';
import { disableCopyKernel, enableCopyKernel } from '../core/kernels/copy';
import { disableDenseKernel, enableDenseKernel } from '../core/kernels/dense';
import { disableLayerNormKernel, enableLayerNormKernel } from '../core/kernels/layerNorm';
import { disableMaskedAttentionKernel, enableMaskedAttentionKernel } from '../core/kernels/maskedAttention';
import { disableSharedIdentity, enableSharedIdentity } from '../core/kernels/sharedIdentity';
import { disableStridedConvKernels, enableStridedConvKernels } from '../core/kernels/stridedConv';
import type { BackendInfo, KernelFlag } from '../protocol';

export const KERNELS_VARIABLE = 'MODEL_LAB_KERNELS';

/** Each kernel: its flag in the backend info, and how to turn it on (undefined, or why not) and off. */
const KERNELS: { flag: KernelFlag; enable: () => string | undefined; disable: () => void }[] = [
  { flag: 'batchedMatMulKernel', enable: () => enableBatchedMatMulKernel(), disable: disableBatchedMatMulKernel },
  { flag: 'stridedConvKernels', enable: () => enableStridedConvKernels(), disable: disableStridedConvKernels },
  { flag: 'sharedIdentity', enable: enableSharedIdentity, disable: disableSharedIdentity },
  { flag: 'maskedAttentionKernel', enable: () => enableMaskedAttentionKernel(), disable: disableMaskedAttentionKernel },
  { flag: 'layerNormKernel', enable: () => enableLayerNormKernel(), disable: disableLayerNormKernel },
  { flag: 'denseKernel', enable: () => enableDenseKernel(), disable: disableDenseKernel },
  { flag: 'copyKernel', enable: () => enableCopyKernel(), disable: disableCopyKernel },
  { flag: 'adamKernel', enable: () => enableAdamKernel(), disable: disableAdamKernel },
];

export function selectKernels(backend: BackendInfo, setting: string | undefined = process.env[KERNELS_VARIABLE]): BackendInfo {
  const value = setting === undefined || setting === '' ? 'on' : setting;
  if (value !== 'on' && value !== 'off') throw new Error(`${KERNELS_VARIABLE} must be 'on' or 'off', got '${setting}'`);
  // The kernels plug into the wasm backend only; tfjs-node and cpu keep their own ops.
  if (backend.name !== 'wasm' || value === 'off') {
    for (const { disable } of KERNELS) disable();
    if (backend.name !== 'wasm') return backend;
    return { ...backend, ...Object.fromEntries(KERNELS.map(({ flag }) => [flag, false])), kernelReason: `${KERNELS_VARIABLE}=off` };
  }
  const problems = KERNELS.map(({ enable }) => enable());
  const reasons = problems.filter((r): r is string => r !== undefined);
  return {
    ...backend,
    ...Object.fromEntries(KERNELS.map(({ flag }, i) => [flag, problems[i] === undefined])),
    ...(reasons.length > 0 ? { kernelReason: reasons.join('; ') } : {}),
  };
}
