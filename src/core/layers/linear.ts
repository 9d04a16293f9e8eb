/**
 * A dense layer with PyTorch's default initialisation (weight and bias ~ U(-1/sqrt(in), 1/sqrt(in))),
 * so that our models start where the reference implementations start. The kernel is stored
 * [in, out] (PyTorch stores [out, in]; checkpoint exchange transposes).
 *
 * Speed: tfjs's own gradient of `matMul` asks for transposed products (`matMul(dy, W, false, true)`,
 * `matMul(x, dy, true, false)`), which the wasm backend runs on a slow path, about 10x slower
 * than a plain product of the same size (bench/README.md). Unless Model Lab's wasm matMul kernel
 * is on (it takes transpose flags at full speed), this module replaces that gradient for 2-D
 * products with explicit transposes.
 */
import * as tf from '@tensorflow/tfjs';
import { batchedMatMulKernelActive } from '../kernels/batchedMatMul';
import { denseKernelActive, denseOnKernel } from '../kernels/dense';
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
    return this.applyWith(x, false);
  }

  /** relu(apply(x)), in one kernel when Model Lab's dense kernel is on. */
  applyRelu(x: tf.Tensor): tf.Tensor {
    return this.applyWith(x, true);
  }

  private applyWith(x: tf.Tensor, relu: boolean): tf.Tensor {
    const flat = x.reshape([-1, this.inputs]) as tf.Tensor2D;
    let y: tf.Tensor;
    if (this.bias && denseKernelActive() && x.dtype === 'float32') {
      y = denseOnKernel(flat, this.kernel as tf.Tensor2D, this.bias as tf.Tensor1D, relu);
    } else {
      const product = this.bias ? addRowBias(tf.matMul(flat, this.kernel), this.bias) : tf.matMul(flat, this.kernel);
      y = relu ? tf.relu(product) : product;
    }
    return y.reshape([...x.shape.slice(0, -1), this.outputs]);
  }

  parameters(): Parameter[] {
    const own: Parameter[] = [{ name: `${this.name}.kernel`, variable: this.kernel }];
    if (this.bias) own.push({ name: `${this.name}.bias`, variable: this.bias });
    return own;
  }
}

/**
 * Gradient of a plain 2-D product y = a b with untransposed products: da = dy b^T, db = a^T dy,
 * where tfjs's own gradient (kept for every other case) runs `matMul` with transpose flags.
 * Registered process-wide, once, when this module loads: it changes speed, not values beyond
 * float rounding order, and every model that multiplies 2-D matrices benefits.
 */
function registerUntransposedMatMulGradient(): void {
  const builtin = tf.getGradient('BatchMatMul');
  if (!builtin || (builtin as { untransposed?: boolean }).untransposed) return;
  const config: tf.GradConfig & { untransposed: boolean } = {
    kernelName: 'BatchMatMul',
    inputsToSave: ['a', 'b'],
    untransposed: true,
    gradFunc: (dy, saved, attrs) => {
      const [a, b] = saved;
      const { transposeA, transposeB } = attrs as { transposeA: boolean; transposeB: boolean };
      // On Model Lab's kernel tfjs's own gradient, with its transpose flags, is the fast one.
      if (transposeA || transposeB || a.rank !== 2 || b.rank !== 2 || batchedMatMulKernelActive()) return builtin.gradFunc(dy, saved, attrs);
      const upstream = dy as tf.Tensor2D;
      return {
        a: () => tf.matMul(upstream, tf.transpose(b as tf.Tensor2D)),
        b: () => tf.matMul(tf.transpose(a as tf.Tensor2D), upstream),
      };
    },
  };
  tf.registerGradient(config);
}
registerUntransposedMatMulGradient();

/**
 * y [M, out] + bias [out]. The gradient of the bias is 1^T dy as a product: tfjs's own gradient
 * of the broadcast add is sum(dy, 0), which the wasm backend runs through a transpose, about
 * 13x slower than the product at [4096, 32] (bench/README.md).
 */
const addRowBias = tf.customGrad((...inputs: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const [y, bias] = inputs as tf.Tensor[];
  return {
    value: tf.add(y, bias),
    gradFunc: (dy: tf.Tensor | tf.Tensor[]) => {
      const upstream = dy as tf.Tensor2D;
      return [upstream, tf.reshape(tf.matMul(tf.ones([1, upstream.shape[0]]), upstream), bias.shape)];
    },
  };
}) as (y: tf.Tensor, bias: tf.Tensor) => tf.Tensor;

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
