/**
 * Every lab as the worker runs it: its manifest joined to its factories and inspection request
 * handlers. Importing this module (the worker, the CLI, tests) attaches the factories to the
 * registry's components; the extension host never imports it, so it loads no TensorFlow.js.
 * A new lab adds its runtime to LAB_RUNTIMES (and its manifest to src/core/labList.ts).
 */
import type { InspectionSession } from './inspection';
import { LABS } from './labList';
import type { LabRuntime } from './labRuntime';
import { posteriorRuntime } from './posterior/runtime';
import { findModel, findObjective, findTask, registerModel, registerObjective, registerTask } from './registry';
import { relationalRuntime } from './relational/runtime';
import { retrievalRuntime } from './retrieval/runtime';
import { samplerRuntime } from './sampler/runtime';

export const LAB_RUNTIMES: readonly LabRuntime[] = [retrievalRuntime, relationalRuntime, posteriorRuntime, samplerRuntime];

for (const runtime of LAB_RUNTIMES) {
  for (const [name, create] of Object.entries(runtime.tasks)) registerTask({ ...findTask(name)!, create });
  for (const [name, create] of Object.entries(runtime.models)) registerModel({ ...findModel(name)!, create });
  for (const [name, create] of Object.entries(runtime.objectives)) registerObjective({ ...findObjective(name)!, create });
}

/** A lab's inspection request handler and the lab it belongs to. */
interface RegisteredRequest {
  lab: string;
  handle: (session: InspectionSession, params: unknown) => unknown;
}

const requestHandlers = new Map<string, RegisteredRequest>();
for (const runtime of LAB_RUNTIMES) {
  for (const [kind, handle] of Object.entries(runtime.requests)) {
    if (requestHandlers.has(kind)) throw new Error(`inspection request '${kind}' is registered by two labs`);
    requestHandlers.set(kind, { lab: runtime.manifest.id, handle });
  }
}

/** The handler of a lab's inspection request, or undefined for a kind no lab registers. */
export const inspectionRequest = (kind: string): RegisteredRequest | undefined => requestHandlers.get(kind);

/** Every kind of inspection request the labs answer. */
export const inspectionRequestKinds = (): string[] => [...requestHandlers.keys()];

/** Labs whose manifest has no runtime, or whose runtime is not in the list: a mistake in these two lists. */
export function unjoinedLabs(): string[] {
  const runtimeIds = LAB_RUNTIMES.map((runtime) => runtime.manifest.id);
  return LABS.map((lab) => lab.id).filter((id) => !runtimeIds.includes(id));
}
