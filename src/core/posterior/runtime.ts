/**
 * The posterior lab in the worker: the factories of its manifest's components and the handlers
 * of its inspection requests (src/core/labs.ts registers them).
 */
import * as tf from '@tensorflow/tfjs';
import { labRuntime } from '../labRuntime';
import type { InspectionSession, RequestHandlers } from '../inspection';
import { posteriorLab } from './manifest';
import { createAmortizedPosterior } from './model';
import { createForwardKl, createReverseKl } from './objectives';
import { calibrationForPanel } from './panelCalibration';
import { openPosteriorPanelModel, posteriorForData, referenceForData, simulatedExample, type PosteriorPanelModel } from './panelData';
import type { PosteriorRequests } from './requests';
import { posteriorTaskFactories } from './tasks';

/** The Posterior panel's model at the session's current step: a second copy of the weights, built on first use. */
function panelModelOf(session: InspectionSession): Promise<PosteriorPanelModel> {
  return session.atStep(
    'posterior-panel',
    async () => {
      const checkpoint = await session.source.load(session.inference.step);
      try {
        return openPosteriorPanelModel(session.spec, checkpoint);
      } finally {
        tf.dispose([...checkpoint.weights, ...checkpoint.optimizer].map((named) => named.tensor));
      }
    },
    (panel) => panel.dispose(),
  );
}

const requests: RequestHandlers<PosteriorRequests> = {
  posteriorSamples: async (session, { data, samples, seed, view }) => posteriorForData(await panelModelOf(session), data, { samples, seed, view }),
  posteriorReference: async (session, { data, samples }) => referenceForData(await panelModelOf(session), data, { samples }),
  posteriorCalibration: async (session) => calibrationForPanel(await panelModelOf(session)),
  posteriorExample: async (session, { index }) => simulatedExample(await panelModelOf(session), index),
};

export const posteriorRuntime = labRuntime(
  posteriorLab,
  {
    tasks: posteriorTaskFactories,
    models: { 'amortized-posterior': createAmortizedPosterior },
    objectives: { 'forward-kl': createForwardKl, 'reverse-kl': createReverseKl },
  },
  requests,
);
