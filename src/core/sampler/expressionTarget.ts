/**
 * The user-defined target: a checked expression (src/core/sampler/expression.ts) compiled to
 * TensorFlow.js ops over the columns of x, so log R and its gradient (autodiff) are exact for
 * what was written. It has no known normaliser and no exact samples, and says so.
 */
import * as tf from '@tensorflow/tfjs';
import { ExpressionError, parseExpression, readsCoordinates, type Expression } from './expression';
import type { ExpressionTargetOptions } from './options';
import type { SamplerTarget } from './targets';

/** log R of each row of x [n, d] as the expression says: [n]. */
export function compileExpression(expression: Expression, x: tf.Tensor2D): tf.Tensor {
  const columns = new Map<number, tf.Tensor>();
  const column = (index: number) => {
    if (!columns.has(index)) columns.set(index, tf.reshape(tf.slice(x, [0, index], [-1, 1]), [-1]));
    return columns.get(index)!;
  };
  const build = (node: Expression): tf.Tensor => {
    switch (node.kind) {
      case 'number':
        return tf.scalar(node.value);
      case 'coordinate':
        return column(node.index);
      case 'negate':
        return tf.neg(build(node.argument));
      case 'binary': {
        const left = build(node.left);
        const right = build(node.right);
        switch (node.operator) {
          case '+':
            return tf.add(left, right);
          case '-':
            return tf.sub(left, right);
          case '*':
            return tf.mul(left, right);
          case '/':
            return tf.div(left, right);
          case '**':
            return tf.pow(left, right);
        }
        break;
      }
      case 'call': {
        const args = node.args.map(build);
        switch (node.name) {
          case 'exp':
            return tf.exp(args[0]);
          case 'log':
            return tf.log(args[0]);
          case 'log1p':
            return tf.log1p(args[0]);
          case 'sqrt':
            return tf.sqrt(args[0]);
          case 'abs':
            return tf.abs(args[0]);
          case 'sin':
            return tf.sin(args[0]);
          case 'cos':
            return tf.cos(args[0]);
          case 'tanh':
            return tf.tanh(args[0]);
          case 'sigmoid':
            return tf.sigmoid(args[0]);
          case 'softplus':
            return tf.softplus(args[0]);
          case 'square':
            return tf.square(args[0]);
          case 'logsumexp':
            return tf.logSumExp(tf.stack(args.map((a) => tf.add(a, tf.zeros([x.shape[0]]))), 1), 1);
          case 'min':
            return args.reduce((a, b) => tf.minimum(a, b));
          case 'max':
            return args.reduce((a, b) => tf.maximum(a, b));
        }
      }
    }
    throw new Error(`unexpected expression node ${JSON.stringify(node).slice(0, 80)}`);
  };
  // A term without coordinates is a scalar: broadcast to one value per row.
  return tf.add(build(expression), tf.zeros([x.shape[0]]));
}

export function expressionTarget(options: ExpressionTargetOptions): SamplerTarget {
  const { coordinates, logDensity, range } = options;
  const expression = parseExpression(logDensity, coordinates);
  if (!readsCoordinates(expression)) throw new ExpressionError('task.logDensity reads none of the coordinates: a constant is not a density');
  return {
    name: 'expression',
    dimension: coordinates.length,
    coordinates,
    logZ: { known: false, why: 'a user-defined expression has no known normaliser (log Z estimates are reported without a reference)' },
    range: coordinates.map(() => [range[0], range[1]] as [number, number]),
    logDensity: (x) => tf.tidy(() => compileExpression(expression, x) as tf.Tensor1D),
  };
}
