/**
 * Turns on Model Lab's own wasm kernels once the backend is chosen (selectBackend), and says in
 * the backend info (recorded in each run's environment.json) whether they are in use and why
 * not. Only the wasm backend has them; MODEL_LAB_KERNELS=off turns them off (benchmarks compare
 * both in one invocation).
 */
import { enableBatchedMatMulKernel, disableBatchedMatMulKernel } from '../core/kernels/batchedMatMul';
import { disableLayerNormKernel, enableLayerNormKernel } from '../core/kernels/layerNorm';
import { disableMaskedAttentionKernel, enableMaskedAttentionKernel } from '../core/kernels/maskedAttention';
import { disableSharedIdentity, enableSharedIdentity } from '../core/kernels/sharedIdentity';
import { disableStridedConvKernels, enableStridedConvKernels } from '../core/kernels/stridedConv';
import type { BackendInfo } from '../protocol';

export const KERNELS_VARIABLE = 'MODEL_LAB_KERNELS';

export function selectKernels(backend: BackendInfo, setting: string | undefined = process.env[KERNELS_VARIABLE]): BackendInfo {
  const value = setting === undefined || setting === '' ? 'on' : setting;
  if (value !== 'on' && value !== 'off') throw new Error(`${KERNELS_VARIABLE} must be 'on' or 'off', got '${setting}'`);
  const disableAll = () => {
    disableBatchedMatMulKernel();
    disableStridedConvKernels();
    disableSharedIdentity();
    disableMaskedAttentionKernel();
    disableLayerNormKernel();
  };
  // The kernels plug into the wasm backend only; tfjs-node and cpu keep their own ops.
  if (backend.name !== 'wasm') {
    disableAll();
    return backend;
  }
  if (value === 'off') {
    disableAll();
    return { ...backend, batchedMatMulKernel: false, stridedConvKernels: false, sharedIdentity: false, maskedAttentionKernel: false, layerNormKernel: false, kernelReason: `${KERNELS_VARIABLE}=off` };
  }
  const matMulProblem = enableBatchedMatMulKernel();
  const convProblem = enableStridedConvKernels();
  const identityProblem = enableSharedIdentity();
  const attentionProblem = enableMaskedAttentionKernel();
  const layerNormProblem = enableLayerNormKernel();
  const reasons = [matMulProblem, convProblem, identityProblem, attentionProblem, layerNormProblem].filter((r): r is string => r !== undefined);
  return {
    ...backend,
    batchedMatMulKernel: matMulProblem === undefined,
    stridedConvKernels: convProblem === undefined,
    sharedIdentity: identityProblem === undefined,
    maskedAttentionKernel: attentionProblem === undefined,
    layerNormKernel: layerNormProblem === undefined,
    ...(reasons.length > 0 ? { kernelReason: reasons.join('; ') } : {}),
  };
}
