/**
 * Turns on Model Lab's own wasm kernels once the backend is chosen (selectBackend), and says in
 * the backend info (recorded in each run's environment.json) whether they are in use and why
 * not. Only the wasm backend has them; MODEL_LAB_KERNELS=off turns them off (benchmarks compare
 * both in one invocation).
 */
import { ADAM_FILE, disableAdamKernel, enableAdamKernel } from '../core/kernels/adam';
import { enableBatchedMatMulKernel, disableBatchedMatMulKernel, KERNEL_FILE as BATCHED_MATMUL_FILE } from '../core/kernels/batchedMatMul';
import { COPY_FILE, disableCopyKernel, enableCopyKernel } from '../core/kernels/copy';
import { DENSE_FILE, disableDenseKernel, enableDenseKernel } from '../core/kernels/dense';
import { disableLayerNormKernel, enableLayerNormKernel, LAYER_NORM_FILE } from '../core/kernels/layerNorm';
import { disableMaskedAttentionKernel, enableMaskedAttentionKernel, MASKED_ATTENTION_FILE } from '../core/kernels/maskedAttention';
import { disableSharedIdentity, enableSharedIdentity } from '../core/kernels/sharedIdentity';
import { disableStridedConvKernels, enableStridedConvKernels, STRIDED_CONV_FILE } from '../core/kernels/stridedConv';
import type { BackendInfo, KernelFlag, KernelStatus } from '../protocol';

export const KERNELS_VARIABLE = 'MODEL_LAB_KERNELS';

/**
 * Each kernel: its flag in the backend info, its module in dist/ (the wasm kernels; sharedIdentity
 * is plain JavaScript), and how to turn it on (undefined, or why not) and off.
 */
const KERNELS: { flag: KernelFlag; file?: string; enable: () => string | undefined; disable: () => void }[] = [
  { flag: 'batchedMatMulKernel', file: BATCHED_MATMUL_FILE, enable: () => enableBatchedMatMulKernel(), disable: disableBatchedMatMulKernel },
  { flag: 'stridedConvKernels', file: STRIDED_CONV_FILE, enable: () => enableStridedConvKernels(), disable: disableStridedConvKernels },
  { flag: 'sharedIdentity', enable: enableSharedIdentity, disable: disableSharedIdentity },
  { flag: 'maskedAttentionKernel', file: MASKED_ATTENTION_FILE, enable: () => enableMaskedAttentionKernel(), disable: disableMaskedAttentionKernel },
  { flag: 'layerNormKernel', file: LAYER_NORM_FILE, enable: () => enableLayerNormKernel(), disable: disableLayerNormKernel },
  { flag: 'denseKernel', file: DENSE_FILE, enable: () => enableDenseKernel(), disable: disableDenseKernel },
  { flag: 'copyKernel', file: COPY_FILE, enable: () => enableCopyKernel(), disable: disableCopyKernel },
  { flag: 'adamKernel', file: ADAM_FILE, enable: () => enableAdamKernel(), disable: disableAdamKernel },
];

/** The wasm kernels' list for the backend info (environment.json): each one's name, on or why not. */
function kernelList(problems: (string | undefined)[]): KernelStatus[] {
  return KERNELS.flatMap(({ file }, i) => {
    if (file === undefined) return [];
    const reason = problems[i];
    return [{ name: file.replace(/\.wasm$/, ''), active: reason === undefined, ...(reason === undefined ? {} : { reason }) }];
  });
}

export function selectKernels(backend: BackendInfo, setting: string | undefined = process.env[KERNELS_VARIABLE]): BackendInfo {
  const value = setting === undefined || setting === '' ? 'on' : setting;
  if (value !== 'on' && value !== 'off') throw new Error(`${KERNELS_VARIABLE} must be 'on' or 'off', got '${setting}'`);
  // The kernels plug into the wasm backend only; tfjs-node and cpu keep their own ops.
  if (backend.name !== 'wasm' || value === 'off') {
    for (const { disable } of KERNELS) disable();
    if (backend.name !== 'wasm') return backend;
    const off = `${KERNELS_VARIABLE}=off`;
    return { ...backend, ...Object.fromEntries(KERNELS.map(({ flag }) => [flag, false])), kernelReason: off, kernels: kernelList(KERNELS.map(() => off)) };
  }
  const problems = KERNELS.map(({ enable }) => enable());
  const reasons = problems.filter((r): r is string => r !== undefined);
  return {
    ...backend,
    ...Object.fromEntries(KERNELS.map(({ flag }, i) => [flag, problems[i] === undefined])),
    ...(reasons.length > 0 ? { kernelReason: reasons.join('; ') } : {}),
    kernels: kernelList(problems),
  };
}
