/**
 * The labs, as their manifests: the one list. A new lab adds one line here (and its runtime to
 * src/core/labs.ts, which the worker loads, and its request types to src/core/labRequests.ts).
 * Every question about a run's lab goes through `labOf`: the Runs view's context value, the
 * panels' pickers, the Live miniature, which lab answers an inspection request.
 * Pure: no TensorFlow.js, no vscode (the extension host bundles it).
 */
import type { LabManifest, SpecNames } from './labManifest';
import { posteriorLab } from './posterior/manifest';
import { relationalLab } from './relational/manifest';
import { retrievalLab } from './retrieval/manifest';
import { samplerLab } from './sampler/manifest';

export const LABS = [retrievalLab, relationalLab, posteriorLab, samplerLab] as const satisfies readonly LabManifest[];

export type LabId = (typeof LABS)[number]['id'];

export const labById = (id: string): LabManifest | undefined => LABS.find((lab) => lab.id === id);

/** The task and model names of a spec read from anywhere (a run folder is untrusted input). */
export function specNames(spec: unknown): SpecNames | undefined {
  const { task, model } = (spec ?? {}) as { task?: { name?: unknown }; model?: { name?: unknown } };
  if (typeof task?.name !== 'string' || typeof model?.name !== 'string') return undefined;
  return spec as SpecNames;
}

/**
 * The lab a run belongs to, from its resolved experiment: the lab that declares its task (a lab
 * owns its task family, whatever model trains on it), else the one that declares its model.
 * Undefined for a spec no lab declares (or one that is not a spec).
 */
export function labOf(spec: unknown): LabManifest | undefined {
  const names = specNames(spec);
  if (!names) return undefined;
  return (
    LABS.find((lab) => lab.tasks.some((task) => task.name === names.task.name)) ??
    LABS.find((lab) => lab.models.some((model) => model.name === names.model.name))
  );
}

/** The lab whose templates a template file name belongs to (`retrieval-mha` -> retrieval). */
export const labOfTemplate = (templateName: string): LabManifest | undefined =>
  LABS.find((lab) => templateName.startsWith(lab.templates.prefix));
