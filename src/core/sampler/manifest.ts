/**
 * The sampler lab (diffusion samplers for unnormalised densities, Sendera et al. 2024; notes:
 * docs/research/diffusion-samplers.md): what the host, the validator and package.json know about
 * it. Targets are tasks, the sampler is the model, its losses are objectives. No TensorFlow.js
 * here: the factories and request handlers are in runtime.ts.
 */
import { SAMPLER_VIEW_TYPE } from '../../protocol/sampler';
import { component, type LabManifest, type LearnedVerdict } from '../labManifest';
import { checkCoordinateNames, ExpressionError, parseExpression, readsCoordinates } from './expression';
import { checkGmmOptions } from './gmmOptions';
import { samplerShape } from './memory';
import {
  diffusionSamplerOptions,
  expressionTargetOptions,
  funnelOptions,
  gmm25Options,
  gmm40Options,
  gmmOptions,
  manywellOptions,
  pisOptions,
  trajectoryBalanceOptions,
  varGradOptions,
} from './options';

export const gmm25Task = component({
  name: 'sampler-gmm25',
  description: 'Target 25GMM: equal mixture of N(mu, 0.3 I) with mu on the grid {-10, -5, 0, 5, 10}^2. log Z = 0; exact samples; modes covered.',
  options: gmm25Options,
});
export const gmm40Task = component({
  name: 'sampler-gmm40',
  description: "Target GMM-40 (iDEM): 40 equal components with iDEM's fixed means in [-40, 40]^2, std softplus(1) = 1.3133 per axis. log Z = 0; exact samples; modes covered.",
  options: gmm40Options,
});
export const gmmTask = component({
  name: 'sampler-gmm',
  description:
    'Target: a Gaussian mixture you write (task.means, task.weights, task.std; the defaults are 25GMM). log Z = log of the weight sum (0 when the weights are 1/K, the default); exact samples; modes covered. The Sampler panel writes one when you drag a mode and fine-tune.',
  options: gmmOptions,
  // Shapes JSON schema cannot say (rows as long as each other, one weight per mean), as located problems; omitted weights recorded.
  recorded: { keys: [], fill: checkGmmOptions },
});
export const funnelTask = component({
  name: 'sampler-funnel',
  description: "Target Neal's funnel (10-D): x1 ~ N(0, 3^2), x_i | x1 ~ N(0, exp(x1)). log Z = 0; exact samples.",
  options: funnelOptions,
});
export const manywellTask = component({
  name: 'sampler-manywell',
  description: 'Target Manywell (32-D): 16 independent double wells, log R(x1, x2) = -x1^4 + 6 x1^2 + x1/2 - x2^2/2. log Z = 164.696; exact samples.',
  options: manywellOptions,
});

export const expressionTask = component({
  name: 'sampler-expression',
  description: 'A user-defined target: log R written as an expression over named coordinates (task.logDensity, task.coordinates). No known log Z, no exact samples.',
  options: expressionTargetOptions,
  // Checked while the spec is validated, so a bad expression is a located problem (in the editor too), not a failed run.
  recorded: {
    keys: [],
    fill(options) {
      const names = checkCoordinateNames(options.coordinates);
      if (names) return [{ path: '/coordinates', message: names }];
      if (!(options.range[0] < options.range[1])) return [{ path: '/range', message: `range [${options.range.join(', ')}] must have low < high` }];
      try {
        if (!readsCoordinates(parseExpression(options.logDensity, options.coordinates))) {
          return [{ path: '/logDensity', message: 'the expression reads none of the coordinates: a constant is not a density' }];
        }
        return [];
      } catch (error) {
        if (error instanceof ExpressionError) return [{ path: '/logDensity', message: error.message }];
        throw error;
      }
    },
  },
});

export const diffusionSamplerModel = component({
  name: 'diffusion-sampler',
  description:
    'Discrete-time diffusion sampler (gfn-diffusion): T steps from x_0 = 0 with a learned drift (Fourier time embedding + state embedding network, zero-initialised output), fixed Brownian-bridge backward policy, a scalar log Z; optional Langevin parametrisation.',
  options: diffusionSamplerOptions,
  memory: samplerShape,
});

export const trajectoryBalanceObjective = component({
  name: 'trajectory-balance',
  description:
    'Trajectory balance: (log Z + sum log p_F - sum log p_B - log R)^2 / 2 on trajectories of the sampler (states detached, so they may come from an exploring policy). Logs log Z estimates (ELBO, importance-weighted, learned), ESS, EUBO, sliced W2, MMD and modes covered.',
  options: trajectoryBalanceOptions,
});
export const varGradObjective = component({
  name: 'vargrad',
  description: 'VarGrad: trajectory balance with log Z replaced by the batch mean of log w (the batch variance of log w / 2). Same metrics as trajectory-balance.',
  options: varGradOptions,
});

export const pisObjective = component({
  name: 'pis',
  description:
    'PIS (path integral sampler): the reverse KL sum log p_F - sum log p_B - log R on reparameterised trajectories, backpropagated through all T steps (grad log R of the Langevin parametrisation is not differentiated). On-policy; no log Z parameter (log-z-learned stays 0). Same metrics as trajectory-balance.',
  options: pisOptions,
});

/**
 * The bar for the lab's benchmark: the best method covers at least 20 of 25 modes of
 * 25GMM. For any mixture a run has learned when it covers 80% of the modes. The official code
 * covers only the central 9 of 25 (36%) after about 1.2k iterations (the research note).
 */
export const SAMPLER_LEARNED_MODE_SHARE = 0.8;

function samplerLearned(metrics: Readonly<Record<string, number>>): LearnedVerdict {
  const covered = metrics['eval/train/modes-covered'];
  const total = metrics['eval/train/modes-total'];
  if (Number.isFinite(covered) && Number.isFinite(total) && total > 0) {
    const share = covered / total;
    const reason = `eval/train/modes-covered ${covered} of ${total} (learned: >= ${Math.round(SAMPLER_LEARNED_MODE_SHARE * 100)}%)`;
    return { verdict: share >= SAMPLER_LEARNED_MODE_SHARE ? 'learned' : 'not-yet', reason };
  }
  return { verdict: 'unknown', reason: 'no modes covered logged (only mixture targets have modes)' };
}

export const samplerLab = {
  id: 'sampler',
  title: 'Diffusion samplers',
  description:
    'Diffusion samplers of unnormalised densities (25GMM, GMM-40, your own mixture, Funnel, Manywell, your own expression) trained by trajectory balance (with exploration and local search), VarGrad or PIS; log Z estimates, ESS, W2, MMD and modes covered.',
  tasks: [gmm25Task, gmm40Task, gmmTask, funnelTask, manywellTask, expressionTask],
  models: [diffusionSamplerModel],
  objectives: [trajectoryBalanceObjective, varGradObjective, pisObjective],
  panel: { viewType: SAMPLER_VIEW_TYPE, title: 'Sampler', command: 'modelLab.openSampler' },
  commands: [{ id: 'modelLab.openSampler', title: 'Open Sampler', icon: 'graph-scatter', menus: [{ where: 'runs', group: '1_open@7' }] }],
  miniature: { kind: 'sampler', openLabel: 'Open Sampler' },
  templates: { prefix: 'sampler-', label: 'Diffusion samplers' },
  runContext: 'sampler',
  hasLearned: samplerLearned,
} as const satisfies LabManifest;
