/**
 * Turns on Model Lab's own wasm kernels (the table in src/core/kernels/index.ts) once the backend
 * is chosen (selectBackend), and says in the backend info (recorded in each run's
 * environment.json) which are in use and why not. Only the wasm backend has them;
 * MODEL_LAB_KERNELS=off turns them off (benchmarks compare both in one invocation).
 */
import { disableKernels, enableKernels, kernelStatuses } from '../core/kernels';
import type { BackendInfo } from '../protocol';

export const KERNELS_VARIABLE = 'MODEL_LAB_KERNELS';

export function selectKernels(backend: BackendInfo, setting: string | undefined = process.env[KERNELS_VARIABLE]): BackendInfo {
  const value = setting === undefined || setting === '' ? 'on' : setting;
  if (value !== 'on' && value !== 'off') throw new Error(`${KERNELS_VARIABLE} must be 'on' or 'off', got '${setting}'`);
  // The kernels plug into the wasm backend only; tfjs-node and cpu keep their own ops.
  if (backend.name !== 'wasm' || value === 'off') {
    disableKernels();
    if (backend.name !== 'wasm') return backend;
    const off = `${KERNELS_VARIABLE}=off`;
    return { ...backend, kernelReason: off, kernels: kernelStatuses(() => off) };
  }
  const { kernels, problems } = enableKernels();
  return { ...backend, ...(problems.length > 0 ? { kernelReason: problems.join('; ') } : {}), kernels };
}
