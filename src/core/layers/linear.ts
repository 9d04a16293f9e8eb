/**
 * A dense layer with PyTorch's default initialisation (weight and bias ~ U(-1/sqrt(in), 1/sqrt(in))),
 * so that our models start where the reference implementations start. The kernel is stored
 * [in, out] (PyTorch stores [out, in]; checkpoint exchange transposes). It computes with the dense
 * op (src/core/kernels/dense.ts: one wasm kernel each way where Model Lab's kernels are on).
 */
import * as tf from '@tensorflow/tfjs';
import { dense, type Activation } from '../kernels';
import type { Parameter } from '../registry';
import type { Rng } from '../rng';

export class Linear {
  readonly kernel: tf.Variable;
  readonly bias: tf.Variable | undefined;

  constructor(
    readonly name: string,
    readonly inputs: number,
    readonly outputs: number,
    rng: Rng,
    withBias = true,
  ) {
    const bound = 1 / Math.sqrt(inputs);
    const uniform = (count: number) => Float32Array.from({ length: count }, () => (2 * rng.next() - 1) * bound);
    // tidy frees the initial values; variables survive it.
    this.kernel = tf.tidy(() => tf.variable(tf.tensor2d(uniform(inputs * outputs), [inputs, outputs])));
    this.bias = withBias ? tf.tidy(() => tf.variable(tf.tensor1d(uniform(outputs)))) : undefined;
  }

  /** x: [..., in] -> [..., out] */
  apply(x: tf.Tensor): tf.Tensor {
    return this.applyWith(x, 'identity');
  }

  /** relu(apply(x)), in one kernel when Model Lab's dense kernel is on. */
  applyRelu(x: tf.Tensor): tf.Tensor {
    return this.applyWith(x, 'relu');
  }

  /** gelu(apply(x)) (PyTorch's exact erf form), in one kernel when Model Lab's dense kernel is on. */
  applyGelu(x: tf.Tensor): tf.Tensor {
    return this.applyWith(x, 'gelu');
  }

  private applyWith(x: tf.Tensor, activation: Activation): tf.Tensor {
    const flat = x.reshape([-1, this.inputs]) as tf.Tensor2D;
    const y = dense(flat, this.kernel as tf.Tensor2D, this.bias as tf.Tensor1D | undefined, activation);
    return y.reshape([...x.shape.slice(0, -1), this.outputs]);
  }

  parameters(): Parameter[] {
    const own: Parameter[] = [{ name: `${this.name}.kernel`, variable: this.kernel }];
    if (this.bias) own.push({ name: `${this.name}.bias`, variable: this.bias });
    return own;
  }
}

/** Linear -> ReLU -> Linear, named like PyTorch's `nn.Sequential` (`<name>.0`, `<name>.2`). */
export class TwoLayerMlp {
  readonly first: Linear;
  readonly second: Linear;

  constructor(name: string, inputs: number, hidden: number, outputs: number, rng: Rng) {
    this.first = new Linear(`${name}.0`, inputs, hidden, rng);
    this.second = new Linear(`${name}.2`, hidden, outputs, rng);
  }

  apply(x: tf.Tensor): tf.Tensor {
    return this.second.apply(this.first.applyRelu(x));
  }

  parameters(): Parameter[] {
    return [...this.first.parameters(), ...this.second.parameters()];
  }
}
