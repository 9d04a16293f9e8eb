/**
 * The relational lab in the worker: the factories of its manifest's components and the handlers
 * of its inspection requests (src/core/labs.ts registers them).
 */
import { labRuntime } from '../labRuntime';
import type { RequestHandlers } from '../inspection';
import type { BuildContext } from '../registry';
import { crossEntropyObjective } from './crossEntropy';
import { relationalLab } from './manifest';
import { CoRelNet, RelationalLstm, RelationalTransformer } from './models';
import type { RelationalTaskOptions } from './options';
import { classAverages } from './panelData';
import type { RelationalRequests } from './requests';
import { RelationalTask, resolveObjectSet } from './tasks';
import type { RelationalTaskName } from './trials';

const task = (name: RelationalTaskName) => (options: RelationalTaskOptions, seed: number) =>
  new RelationalTask(name, resolveObjectSet(options.objectSet), options.m, seed);

const requests: RequestHandlers<RelationalRequests> = {
  /** The similarity panel's class averages: at most 256 trials per kind, drawn in the worker. */
  similarityAverages(session, { split, perKind }) {
    if (!Number.isInteger(perKind) || perKind < 1 || perKind > 256) {
      throw new Error(`similarityAverages: perKind must be a whole number from 1 to 256, got ${perKind}`);
    }
    return classAverages((index) => session.inference.example(split, index), perKind, perKind * 16);
  },
};

export const relationalRuntime = labRuntime(
  relationalLab,
  {
    tasks: { 'same-diff': task('same_diff'), rmts: task('RMTS'), dist3: task('dist3'), 'identity-rules': task('identity_rules') },
    models: {
      corelnet: (options, { task, rng }: BuildContext) => new CoRelNet(task, options, rng),
      'relational-transformer': (options, { task, rng }: BuildContext) => new RelationalTransformer(task, options, rng),
      'relational-lstm': (options, { task, rng }: BuildContext) => new RelationalLstm(task, options, rng),
    },
    objectives: { 'cross-entropy': () => crossEntropyObjective },
  },
  requests,
);
