/**
 * Turns on Model Lab's own wasm kernels once the backend is chosen (selectBackend), and says in
 * the backend info (recorded in each run's environment.json) whether they are in use and why
 * not. Only the wasm backend has them; MODEL_LAB_KERNELS=off turns them off (benchmarks compare
 * both in one invocation).
 */
import { enableBatchedMatMulKernel, disableBatchedMatMulKernel } from '../core/kernels/batchedMatMul';
import type { BackendInfo } from '../protocol';

export const KERNELS_VARIABLE = 'MODEL_LAB_KERNELS';

export function selectKernels(backend: BackendInfo, setting: string | undefined = process.env[KERNELS_VARIABLE]): BackendInfo {
  const value = setting === undefined || setting === '' ? 'on' : setting;
  if (value !== 'on' && value !== 'off') throw new Error(`${KERNELS_VARIABLE} must be 'on' or 'off', got '${setting}'`);
  const without = (reason: string): BackendInfo => {
    disableBatchedMatMulKernel();
    return { ...backend, batchedMatMulKernel: false, kernelReason: reason };
  };
  // The kernel plugs into the wasm backend only; tfjs-node and cpu keep their own matMul.
  if (backend.name !== 'wasm') {
    disableBatchedMatMulKernel();
    return backend;
  }
  if (value === 'off') return without(`${KERNELS_VARIABLE}=off`);
  const problem = enableBatchedMatMulKernel();
  return problem ? without(problem) : { ...backend, batchedMatMulKernel: true };
}
