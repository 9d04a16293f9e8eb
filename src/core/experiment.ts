/** Builds task + model + objective from a resolved spec through the registry. */
import './labs';
import { findModel, findObjective, findTask, type Batch, type BatchRequest, type Model, type Objective, type Task } from './registry';
import { createRng } from './rng';
import type { ComponentSpec, ResolvedSpec } from './spec/types';

export interface Experiment {
  task: Task;
  model: Model;
  objective: Objective;
}

function optionsOf(component: ComponentSpec): Record<string, unknown> {
  const { name: _name, ...options } = component;
  return options;
}

export function buildExperiment(spec: ResolvedSpec): Experiment {
  const taskEntry = findTask(spec.task.name);
  const modelEntry = findModel(spec.model.name);
  const objectiveEntry = findObjective(spec.objective.name);
  if (!taskEntry) throw new Error(`unknown task '${spec.task.name}'`);
  if (!modelEntry) throw new Error(`unknown model '${spec.model.name}'`);
  if (!objectiveEntry) throw new Error(`unknown objective '${spec.objective.name}'`);

  const task = taskEntry.create(optionsOf(spec.task), spec.seed);
  const context = { spec, task, rng: createRng(spec.seed, 'init') };
  const model = modelEntry.create(optionsOf(spec.model), context);
  try {
    return { task, model, objective: objectiveEntry.create(optionsOf(spec.objective), context) };
  } catch (error) {
    // An objective that rejects the combination (e.g. forward KL on data without theta) must not leave the model's weights behind.
    for (const p of model.parameters) p.variable.dispose();
    throw error;
  }
}

/** A step's batch: the objective's own draw from the model when it has one (a sampler's trajectories), else the task's data. */
export function drawBatch({ task, model, objective }: Experiment, request: BatchRequest): Batch {
  return objective.drawBatch ? objective.drawBatch(model, request) : task.batch(request.size, request.split, request.rng);
}

/**
 * The key of the training data stream: (seed, 'train'); a run that starts from another run's
 * weights (`init`) adds the checkpoint it starts from, so continuing a run with the same seed
 * does not train again on the batches that run saw at the same step numbers (both count from 1).
 */
export const trainingStreamKey = (spec: ResolvedSpec): (string | number)[] =>
  spec.init ? [spec.seed, 'train', 'init', spec.init.run, spec.init.step ?? 'newest'] : [spec.seed, 'train'];

/** Every data stream is keyed by (seed, purpose, ...): resuming at any step replays the same data. */
export const trainingBatchRng = (spec: ResolvedSpec, step: number) => createRng(...trainingStreamKey(spec), step);
export const evaluationBatchRng = (spec: ResolvedSpec, split: string, step: number, batch: number) =>
  createRng(spec.seed, 'eval', split, step, batch);
export const inspectionRng = (spec: ResolvedSpec, split: string, index: number) =>
  createRng(spec.seed, 'inspect', split, index);
