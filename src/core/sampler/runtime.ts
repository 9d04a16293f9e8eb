/**
 * The sampler lab in the worker: the factories of its manifest's components and the handlers of
 * its inspection requests (src/core/labs.ts registers them; the answers are in panelData.ts).
 */
import type { RequestHandlers } from '../inspection';
import { labRuntime } from '../labRuntime';
import { samplerLab } from './manifest';
import { createPis, createTrajectoryBalance, createVarGrad } from './objectives';
import { samplerLandscapeAnswer, samplerSamplesAnswer, samplerTargetAnswer } from './panelData';
import type { SamplerRequests } from './requests';
import { createDiffusionSampler } from './sampler';
import { samplerTaskFactories } from './targets';

const requests: RequestHandlers<SamplerRequests> = {
  samplerTarget: (session) => samplerTargetAnswer(session),
  samplerSamples: (session, params) => samplerSamplesAnswer(session, params),
  samplerLandscape: (session, params) => samplerLandscapeAnswer(session, params),
};

export const samplerRuntime = labRuntime(
  samplerLab,
  {
    tasks: samplerTaskFactories,
    models: { 'diffusion-sampler': createDiffusionSampler },
    objectives: { 'trajectory-balance': createTrajectoryBalance, vargrad: createVarGrad, pis: createPis },
  },
  requests,
);
