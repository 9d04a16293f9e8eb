/**
 * The user-defined target (src/core/sampler/expression.ts, expressionTarget.ts): an expression
 * equals the hand-written target it spells out (log R and autodiff gradient), hostile or
 * malformed expressions get located errors (in the parser and as spec problems at
 * /task/logDensity), and a run on an expression target trains and says log Z is unknown.
 */
import * as tf from '@tensorflow/tfjs';
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { parseSpec } from '../../src/core/spec/validate';
import { train } from '../../src/core/train';
import { ExpressionError, parseExpression } from '../../src/core/sampler/expression';
import { expressionTarget } from '../../src/core/sampler/expressionTarget';
import { manywellTarget, type SamplerTarget } from '../../src/core/sampler/targets';
import { useWasmBackend } from '../helpers/backend';
import { MemorySink } from '../helpers/memorySink';

before(useWasmBackend);

const values = (target: SamplerTarget, points: number[][]) =>
  tf.tidy(() => {
    const x = tf.tensor2d(points);
    return {
      logR: Array.from(target.logDensity(x).dataSync()),
      grad: Array.from(tf.grad((y: tf.Tensor) => tf.sum(target.logDensity(y as tf.Tensor2D)))(x).dataSync()),
    };
  });

test('an expression target equals the hand-written target it spells out (log R and gradient)', () => {
  const written = expressionTarget({ logDensity: '-(x1**4) + 6 * x1**2 + 0.5 * x1 - 0.5 * square(x2)', coordinates: ['x1', 'x2'], range: [-3, 3] });
  const points = [[0.3, -1.2], [-1.7, 0.4], [1.9, 2.5]];
  const a = values(written, points);
  const b = values(manywellTarget({ dim: 2 }), points);
  a.logR.forEach((v, i) => assert.ok(Math.abs(v - b.logR[i]) < 1e-4, `log R ${v} vs ${b.logR[i]}`));
  a.grad.forEach((v, i) => assert.ok(Math.abs(v - b.grad[i]) < 1e-3, `gradient ${v} vs ${b.grad[i]}`));
  assert.deepEqual(written.logZ.known, false);
  assert.equal(written.sample, undefined);
  // Functions, constants, right-associative powers and a term without coordinates.
  const other = expressionTarget({ logDensity: 'logsumexp(-(a**2), -((a - 2)**2)) + log(pi) - 2**3**0.5 + max(a, 0)', coordinates: ['a'], range: [-5, 5] });
  const [at] = values(other, [[0.7]]).logR;
  const expected = Math.log(Math.exp(-0.49) + Math.exp(-1.69)) + Math.log(Math.PI) - 2 ** (3 ** 0.5) + 0.7;
  assert.ok(Math.abs(at - expected) < 1e-4, `${at} vs ${expected}`);
});

test('hostile or malformed expressions get errors that say where and what is allowed', () => {
  const cases: [string, RegExp][] = [
    ['x1 ^ 2', /operator '\^' is not allowed: write powers as \*\*/],
    ['exp(x1', /at character \d+/],
    ['x1 *', /at character \d+/],
    ['process.exit(1)', /unknown function/],
    ['constructor', /unknown name 'constructor' at character 1/],
    ['__proto__ + x1', /unknown name '__proto__'/],
    ['x1, x2', /more than one expression|a sequence/],
    ['this', /'this' is not allowed/],
    ["'abc' + x1", /is not a number/],
    ['x1 > 0 ? x1 : 0', /conditional|operator '>'/],
    ['[1, 2]', /an array is not allowed/],
    ['x1[0]', /member access/],
    ['1e400 * x1', /not a finite float32 number/],
    ['foo(x1)', /unknown function 'foo' at character 1/],
    ['exp(x1, x2)', /exp at character 1 takes 1 argument, got 2/],
    [`${'exp('.repeat(100)}x1${')'.repeat(100)}`, /nested more than 64 deep/],
    ['-x1 ** 2', /the base of \*\* starts with a sign/],
    ['x1+'.repeat(2000) + 'x1', /at most 4000/],
    ['   ', /empty/],
  ];
  for (const [text, expected] of cases) {
    assert.throws(() => parseExpression(text, ['x1', 'x2']), (error: unknown) => error instanceof ExpressionError && expected.test(error.message), text.slice(0, 40));
  }
});

const specText = (task: Record<string, unknown>) =>
  JSON.stringify({
    formatVersion: 1,
    kind: 'train',
    name: 'sampler-expression',
    seed: 0,
    task: { name: 'sampler-expression', ...task },
    model: { name: 'diffusion-sampler', steps: 4, hidden: 8, harmonics: 4, tScale: 1 },
    objective: { name: 'trajectory-balance', evalSamples: 10 },
    training: { steps: 2, batchSize: 8, learningRate: 0.001, logEvery: 1, evalEvery: 2, evalBatches: 1, checkpointEvery: 2 },
  });

test('a bad expression is a spec problem located at /task/logDensity (coordinates and range too), before any run', () => {
  const problems = (task: Record<string, unknown>) => parseSpec(specText(task), 'e.lab.json').problems.map((p) => `${p.path}: ${p.message}`);
  assert.match(problems({ logDensity: 'x1 ^ 2' }).join('\n'), /^\/task\/logDensity: operator '\^' is not allowed: write powers as \*\*/);
  assert.match(problems({ logDensity: '3' }).join('\n'), /^\/task\/logDensity: the expression reads none of the coordinates/);
  assert.match(problems({ logDensity: '-u**2', coordinates: ['u', 'exp'] }).join('\n'), /^\/task\/coordinates: coordinate name 'exp' is a function/);
  assert.match(problems({ logDensity: '-x1**2', range: [2, 1] }).join('\n'), /^\/task\/range: /);
  assert.deepEqual(problems({ logDensity: '-(x1**2 + x2**2) / 2' }), []);
});

test('a run on an expression target trains; its metrics have log Z estimates but no reference', async () => {
  const { spec, problems } = parseSpec(specText({ logDensity: '-(x1**2 + x2**2) / 2' }), 'e.lab.json');
  assert.deepEqual(problems, []);
  const sink = new MemorySink();
  await train({ spec: spec!, sink, shouldStop: () => false });
  const last = sink.values().at(-1)![1];
  assert.ok(Number.isFinite(last['eval/train/log-z-iw']));
  assert.equal(last['eval/train/delta-log-z-iw'], undefined);
  assert.equal(last['eval/train/eubo'], undefined);
});
