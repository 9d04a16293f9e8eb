/**
 * One line saying which of Model Lab's wasm kernels a backend runs, for the CLI's `train` and
 * `show`, the demo and the status bar: "kernels: 7 of 7", or "kernels: 5 of 7 (missing: dense
 * (why), adam (why))". It reads only the backend info, which is also what a run's
 * environment.json records, so it describes runs trained elsewhere; it imports no tfjs, so the
 * host can use it.
 */
import type { BackendInfo } from '../protocol';

/** `reasons: false` gives the count alone ("kernels: 5 of 7"), for a status bar item. */
export function kernelSummary(backend: Partial<BackendInfo>, { reasons = true }: { reasons?: boolean } = {}): string {
  if (backend.name !== undefined && backend.name !== 'wasm') return "kernels: none (Model Lab's kernels run on the wasm backend only)";
  // A run recorded before the kernel list existed.
  if (!Array.isArray(backend.kernels)) return 'kernels: not recorded';
  const missing = backend.kernels.filter((kernel) => !kernel.active);
  const count = `kernels: ${backend.kernels.length - missing.length} of ${backend.kernels.length}`;
  if (missing.length === 0 || !reasons) return count;
  // Kernels missing for one reason (MODEL_LAB_KERNELS=off, say) are named together.
  const byReason = new Map<string, string[]>();
  for (const { name, reason = 'no reason recorded' } of missing) byReason.set(reason, [...(byReason.get(reason) ?? []), name]);
  return `${count} (missing: ${[...byReason].map(([reason, names]) => `${names.join(', ')} (${reason})`).join(', ')})`;
}

/** What the backend's active kernels compute, in the table's order, as the host's log line names them ("matrix products", ...). */
export function kernelsInUse(backend: Partial<BackendInfo>): string[] {
  if (!Array.isArray(backend.kernels)) return [];
  return backend.kernels.filter((kernel) => kernel.active).map((kernel) => kernel.label ?? kernel.name);
}
