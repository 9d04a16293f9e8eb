/**
 * A model's weight layout (each parameter's name and shape) and how two layouts differ, in
 * words: what `init` (start from another run's weights) checks before a run starts. Pure, no
 * TensorFlow.js: the launch compares the worker's layout of the new model with the checkpoint's
 * manifest in the host, and the training loop compares again with the tensors it loaded.
 */

export interface WeightShape {
  name: string;
  shape: readonly number[];
}

const MAX_LISTED = 4;

const shapeText = (shape: readonly number[]) => `[${shape.join(', ')}]`;

function listed(items: string[]): string {
  const shown = items.slice(0, MAX_LISTED).join(', ');
  return items.length > MAX_LISTED ? `${shown} and ${items.length - MAX_LISTED} more` : shown;
}

/**
 * What differs between the model's weights (`model`) and those of a checkpoint (`checkpoint`),
 * as one sentence naming the weights: shapes that differ, weights only the model has, weights
 * only the checkpoint has. Undefined when every name and shape matches.
 */
export function weightLayoutDifference(model: readonly WeightShape[], checkpoint: readonly WeightShape[]): string | undefined {
  const saved = new Map(checkpoint.map((w) => [w.name, w.shape]));
  const modelNames = new Set(model.map((w) => w.name));
  const reshaped: string[] = [];
  const missing: string[] = [];
  for (const { name, shape } of model) {
    const there = saved.get(name);
    if (!there) missing.push(name);
    else if (there.length !== shape.length || there.some((size, i) => size !== shape[i])) {
      reshaped.push(`${name} is ${shapeText(shape)} here, ${shapeText(there)} there`);
    }
  }
  const extra = checkpoint.filter((w) => !modelNames.has(w.name)).map((w) => w.name);
  const parts = [
    ...(reshaped.length > 0 ? [`shapes differ: ${listed(reshaped)}`] : []),
    ...(missing.length > 0 ? [`the checkpoint has no ${listed(missing)}`] : []),
    ...(extra.length > 0 ? [`this model has no ${listed(extra)}`] : []),
  ];
  return parts.length > 0 ? parts.join('; ') : undefined;
}
