/**
 * A lab as the worker runs it: its manifest joined to the factories that build its tasks, models
 * and objectives (with TensorFlow.js) and to the handlers of its inspection requests. Each
 * factory receives its options typed from the manifest's schema (`Static<...>`): the validator
 * has checked them against that same schema and filled in its defaults.
 */
import type { BuildContext, Model, Objective, Task } from './registry';
import type { ComponentManifest, LabManifest, OptionsOf } from './labManifest';
import type { InspectionSession, RequestHandlers, RequestMap } from './inspection';

type ByName<C extends readonly ComponentManifest[]> = { [E in C[number] as E['name']]: E };

/** Exactly one factory per component the manifest declares, typed by its options. */
export interface LabFactories<M extends LabManifest> {
  tasks: { [N in keyof ByName<M['tasks']>]: (options: OptionsOf<ByName<M['tasks']>[N]>, seed: number) => Task };
  models: { [N in keyof ByName<M['models']>]: (options: OptionsOf<ByName<M['models']>[N]>, context: BuildContext) => Model };
  objectives: { [N in keyof ByName<M['objectives']>]: (options: OptionsOf<ByName<M['objectives']>[N]>, context: BuildContext) => Objective };
}

/** What the registry stores: the same, erased to plain option records (they come from a spec). */
export interface LabRuntime {
  readonly manifest: LabManifest;
  readonly tasks: Readonly<Record<string, (options: Record<string, unknown>, seed: number) => Task>>;
  readonly models: Readonly<Record<string, (options: Record<string, unknown>, context: BuildContext) => Model>>;
  readonly objectives: Readonly<Record<string, (options: Record<string, unknown>, context: BuildContext) => Objective>>;
  readonly requests: Readonly<Record<string, (session: InspectionSession, params: unknown) => unknown>>;
}

export function labRuntime<M extends LabManifest, R extends RequestMap<R>>(
  manifest: M,
  factories: LabFactories<M>,
  requests: RequestHandlers<R>,
): LabRuntime {
  // The one place options lose their type: a spec's component is a JSON record, validated
  // against the very schema the factory's parameter type is derived from.
  return { manifest, ...(factories as unknown as Omit<LabRuntime, 'manifest' | 'requests'>), requests: requests as LabRuntime['requests'] };
}
