/**
 * The Sampler panel's edits of a run's target (a mixture's dragged means and weights, an
 * expression target's log-density), checked, and the experiment that fine-tunes the run under
 * the edited target from one of its checkpoints (`init: { run, step }`). Pure (no TensorFlow.js):
 * the worker checks an edit before it draws the edited contours, the extension host before it
 * writes the experiment file. An edit comes from a webview: every field is checked, sizes bounded.
 */
import { MAX_GMM_COMPONENTS } from './mixtures';
import type { SamplerTargetInfo, TargetEdit } from './requests';

/** Means and weights of an edited mixture stay within this (the `sampler-gmm` schema's bound). */
export const MAX_EDIT_MAGNITUDE = 1e6;
export const MAX_EDIT_EXPRESSION = 4000;

type TargetShape = Pick<SamplerTargetInfo, 'name' | 'dimension' | 'mixture'>;

const shown = (value: unknown) => (JSON.stringify(value) ?? String(value)).slice(0, 80);
const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && Math.abs(v) <= MAX_EDIT_MAGNITUDE;

/** The edit, checked against the target it edits; a problem in words (`where` names the message). */
export function checkTargetEdit(edit: unknown, target: TargetShape, where: string): { edit: TargetEdit } | { problem: string } {
  const e = (edit ?? {}) as Record<string, unknown>;
  if (e.kind === 'mixture') {
    const mixture = target.mixture;
    if (!mixture) return { problem: `${where}: target '${target.name}' is not a mixture: its modes cannot be moved` };
    const k = mixture.means.length;
    const { means, weights } = e;
    if (!Array.isArray(means) || means.length !== k || k > MAX_GMM_COMPONENTS) {
      return { problem: `${where}: edit.means must be ${k} means (one per component of the target), got ${Array.isArray(means) ? means.length : shown(means)}` };
    }
    const bad = means.findIndex((mean) => !Array.isArray(mean) || mean.length !== target.dimension || !mean.every(finite));
    if (bad >= 0) return { problem: `${where}: edit.means[${bad}] must be ${target.dimension} finite numbers within ±${MAX_EDIT_MAGNITUDE}, got ${shown(means[bad])}` };
    if (!Array.isArray(weights) || weights.length !== k) {
      return { problem: `${where}: edit.weights must be ${k} weights (one per component), got ${Array.isArray(weights) ? weights.length : shown(weights)}` };
    }
    const badWeight = weights.findIndex((w) => !finite(w) || w <= 0);
    if (badWeight >= 0) return { problem: `${where}: edit.weights[${badWeight}] must be a positive number up to ${MAX_EDIT_MAGNITUDE}, got ${shown(weights[badWeight])}` };
    return { edit: { kind: 'mixture', means: (means as number[][]).map((mean) => [...mean]), weights: [...(weights as number[])] } };
  }
  if (e.kind === 'expression') {
    if (target.name !== 'expression') return { problem: `${where}: target '${target.name}' is not an expression: its log-density cannot be rewritten` };
    const { logDensity } = e;
    if (typeof logDensity !== 'string' || logDensity.trim() === '' || logDensity.length > MAX_EDIT_EXPRESSION) {
      return { problem: `${where}: edit.logDensity must be an expression of 1..${MAX_EDIT_EXPRESSION} characters, got ${shown(logDensity)}` };
    }
    return { edit: { kind: 'expression', logDensity } };
  }
  return { problem: `${where}: edit.kind must be 'mixture' or 'expression', got ${shown(e.kind)}` };
}

/**
 * The experiment that fine-tunes run `init.run` from its checkpoint `init.step` under the edited
 * target: the run's resolved spec with the task replaced (a mixture becomes a `sampler-gmm` with
 * the run's std and modes-covered rule; an expression keeps its coordinates and range), `init`
 * set, and a name and description that say where it comes from. Model, objective, training and
 * seed are the run's: the user may change them in the file.
 */
export function fineTuneExperiment(
  spec: Record<string, unknown>,
  target: Pick<SamplerTargetInfo, 'mixture' | 'modeRule'>,
  edit: TargetEdit,
  init: { run: string; step: number },
  name: string,
): Record<string, unknown> {
  const task = (spec.task ?? {}) as Record<string, unknown>;
  let editedTask: Record<string, unknown>;
  let what: string;
  if (edit.kind === 'mixture') {
    const rule = target.modeRule;
    editedTask = {
      name: 'sampler-gmm',
      means: edit.means,
      weights: edit.weights,
      std: target.mixture!.std,
      ...(rule ? { modeRadius: rule.radius, modeShare: rule.share } : {}),
    };
    const moved = edit.means.filter((mean, k) => mean.some((v, j) => v !== target.mixture!.means[k][j])).length;
    const reweighted = edit.weights.filter((w, k) => w !== target.mixture!.weights[k]).length;
    what = `${moved} mode${moved === 1 ? '' : 's'} moved and ${reweighted} weight${reweighted === 1 ? '' : 's'} changed`;
  } else {
    editedTask = { ...task, logDensity: edit.logDensity };
    what = `log-density rewritten as ${edit.logDensity}`;
  }
  const { init: _previous, ...rest } = spec;
  return {
    ...rest,
    name,
    description: `Fine-tuned from run ${init.run} at step ${init.step} (${String(task.name)}, ${what}), written by the Sampler panel.`,
    init,
    task: editedTask,
  };
}
