/**
 * How a PyTorch layer stores what one of our layers stores: one rule per kind of layer, each
 * naming the PyTorch key of a parameter and converting its values both ways.
 *   linear        `<m>.kernel` [in, out]        <-> `<m>.weight` [out, in]   (nn.Linear: transposed)
 *                 `<m>.bias`   [out]            <-> `<m>.bias`   [out]
 *   groupedLinear `<m>.kernel` [R, in, out]     <-> `<m>.w`      [R, in, out] (GroupLinearLayer)
 *                 `<m>.bias`   [R, out]         <-> `<m>.b`      [1, R, out]
 *   conv4x4       `<m>.kernel` [4*4*in, out]    <-> `<m>.weight` [out, in, 4, 4] (nn.Conv2d)
 *                 (ours is tf.conv2d's [kh, kw, in, out] filter flattened)
 *                 `<m>.bias`   [out]            <-> `<m>.bias`   [out]
 *   asIs          any parameter whose name and layout already are PyTorch's (nn.LayerNorm's
 *                 weight and bias, a bare nn.Parameter such as a CLS token or a gain)
 * A rule matches on the module path `<m>` (the name without its last part), or on the whole name
 * for `asIs`, so a family lists exactly the modules its reference has.
 */
import * as tf from '@tensorflow/tfjs';
import type { Parameter } from '../registry';

/** How one of our parameters is stored in a file. */
export interface Mapping {
  parameter: Parameter;
  key: string;
  shape: number[];
  /** Our tensor -> the file's layout (and back). */
  toFile(t: tf.Tensor): tf.Tensor;
  fromFile(t: tf.Tensor): tf.Tensor;
}

/** A parameter's mapping if the rule covers it, else undefined. */
export type LayerRule = (parameter: Parameter) => Mapping | undefined;

const same = (t: tf.Tensor) => t.clone();

/** `encoder.fc1.kernel` -> ['encoder.fc1', 'kernel']. */
function splitName(name: string): [module: string, kind: string] {
  const dot = name.lastIndexOf('.');
  return [name.slice(0, dot), name.slice(dot + 1)];
}

/** Whether the whole of `text` matches `pattern` (rules are written unanchored, for reading). */
const fullMatch = (pattern: RegExp, text: string) => new RegExp(`^(?:${pattern.source})$`).test(text);

export function linear(modules: RegExp): LayerRule {
  return (parameter) => {
    const [module, kind] = splitName(parameter.name);
    const shape = parameter.variable.shape;
    if (!fullMatch(modules, module)) return undefined;
    if (kind === 'kernel' && shape.length === 2) {
      return { parameter, key: `${module}.weight`, shape: [shape[1], shape[0]], toFile: (t) => t.transpose(), fromFile: (t) => t.transpose() };
    }
    if (kind === 'bias' && shape.length === 1) return { parameter, key: `${module}.bias`, shape: [...shape], toFile: same, fromFile: same };
    return undefined;
  };
}

export function groupedLinear(modules: RegExp): LayerRule {
  return (parameter) => {
    const [module, kind] = splitName(parameter.name);
    const shape = parameter.variable.shape;
    if (!fullMatch(modules, module)) return undefined;
    if (kind === 'kernel' && shape.length === 3) return { parameter, key: `${module}.w`, shape: [...shape], toFile: same, fromFile: same };
    if (kind === 'bias' && shape.length === 2) {
      return { parameter, key: `${module}.b`, shape: [1, ...shape], toFile: (t) => t.reshape([1, ...shape]), fromFile: (t) => t.reshape(shape) };
    }
    return undefined;
  };
}

const KERNEL = 4;

export function conv4x4(modules: RegExp): LayerRule {
  return (parameter) => {
    const [module, kind] = splitName(parameter.name);
    const shape = parameter.variable.shape;
    if (!fullMatch(modules, module)) return undefined;
    if (kind === 'bias' && shape.length === 1) return { parameter, key: `${module}.bias`, shape: [...shape], toFile: same, fromFile: same };
    if (kind !== 'kernel' || shape.length !== 2 || shape[0] % (KERNEL * KERNEL) !== 0) return undefined;
    const [rows, outputs] = shape;
    const inputs = rows / (KERNEL * KERNEL);
    return {
      parameter,
      key: `${module}.weight`,
      shape: [outputs, inputs, KERNEL, KERNEL],
      // [kh, kw, in, out] -> [out, in, kh, kw], and back.
      toFile: (t) => t.reshape([KERNEL, KERNEL, inputs, outputs]).transpose([3, 2, 0, 1]),
      fromFile: (t) => t.transpose([2, 3, 1, 0]).reshape(shape),
    };
  };
}

export function asIs(names: RegExp): LayerRule {
  return (parameter) =>
    fullMatch(names, parameter.name) ? { parameter, key: parameter.name, shape: [...parameter.variable.shape], toFile: same, fromFile: same } : undefined;
}

/** Prefix of the keys of parameters no reference has: Model Lab's own name and layout follow it. */
export const MODEL_LAB_PREFIX = 'model_lab.';

/** A parameter no reference has, stored under `model_lab.<our name>` in our own layout (kernels [in, out]). */
export function modelLabOwn(parameter: Parameter): Mapping {
  return { parameter, key: `${MODEL_LAB_PREFIX}${parameter.name}`, shape: [...parameter.variable.shape], toFile: same, fromFile: same };
}
