/**
 * The relational lab (CoRelNet and its transformer and LSTM baselines on the ESBN tasks, Kerg et
 * al. 2022; notes: docs/research/relational-corelnet.md): what the host, the validator and
 * package.json know about it. No TensorFlow.js here: the factories and request handlers are in
 * runtime.ts.
 */
import { SIMILARITY_VIEW_TYPE } from '../../protocol/similarity';
import { component, type LabManifest, type SpecNames } from '../labManifest';
import { relationalShape } from './memory';
import { objectFolderFiles } from './objectFiles';
import { corelnetOptions, crossEntropyOptions, relationalLstmOptions, relationalTaskOptions, relationalTransformerOptions } from './options';

export const sameDiffTask = component({
  name: 'same-diff',
  description: 'Same/different: are the two objects the same? (ESBN / CoRelNet, 2 objects, 2 classes)',
  options: relationalTaskOptions('same_diff'),
  files: objectFolderFiles('same_diff'),
});

export const rmtsTask = component({
  name: 'rmts',
  description:
    "Relational match-to-sample: which of two candidate pairs shares the source pair's relation (both same or both different)? (6 objects, 2 classes)",
  options: relationalTaskOptions('RMTS'),
  files: objectFolderFiles('RMTS'),
});

export const dist3Task = component({
  name: 'dist3',
  description: 'Distribution of three: row 1 shows three objects, row 2 two of them; which of four options completes row 2? (9 objects, 4 classes)',
  options: relationalTaskOptions('dist3'),
  files: objectFolderFiles('dist3'),
});

export const identityRulesTask = component({
  name: 'identity-rules',
  description: 'Identity rules: row 1 follows AAA, ABA or ABB; which of four options completes row 2 by the same rule? (9 objects, 4 classes)',
  options: relationalTaskOptions('identity_rules'),
  files: objectFolderFiles('identity_rules'),
});

export const corelnetModel = component({
  name: 'corelnet',
  description: 'CoRelNet: conv encoder, context normalisation, similarity matrix Z Z^T, masked row softmax, MLP decoder that sees only the relations (Kerg et al. 2022).',
  options: corelnetOptions,
  memory: relationalShape,
});

export const relationalTransformerModel = component({
  name: 'relational-transformer',
  description:
    'Transformer baseline of the relational tasks: the same conv encoder, one self-attention layer (multi-head with 8 heads, or compositional with 8 searches), mean over objects, MLP head.',
  options: relationalTransformerOptions,
  memory: relationalShape,
});

export const relationalLstmModel = component({
  name: 'relational-lstm',
  description: 'LSTM baseline of the relational tasks: the same conv encoder, an LSTM over the objects, the last state to the classes.',
  options: relationalLstmOptions,
  memory: relationalShape,
});

export const crossEntropyObjective = component({
  name: 'cross-entropy',
  description: 'Softmax cross-entropy over the classes; reports accuracy (fraction correct) and the loss per split.',
  options: crossEntropyOptions,
});

/** Whether the run's model has a similarity matrix to show (CoRelNet's decoder reads one; the baselines have none). */
export const hasSimilarityMatrix = (spec: SpecNames): boolean => spec.model.name === corelnetModel.name;

/**
 * Which entries of the similarity matrix the decoder never sees: the upper triangle, except with
 * a full-row softmax (all T^2 entries). None for a model without the matrix.
 */
export const unseenSimilarity = (spec: SpecNames): 'upper' | 'none' =>
  hasSimilarityMatrix(spec) && spec.model.normalisation !== 'softmax' ? 'upper' : 'none';

/**
 * Chance is 0.5 on same-diff and rmts, 0.25 on dist3 and identity-rules. CoRelNet is perfect even
 * on held-out objects with the official code (docs/research/relational-corelnet.md) and the
 * templates reach 0.98-1.0 within 300-500 steps; a baseline that fits its training objects does
 * so on the training split too (examples/relational-sweep.lab.json). 0.8 on the training split is
 * 0.3 above chance on the two-class tasks and more than three times chance on the four-class
 * ones: the model has learned the relation on the objects it trained on. The test split (unseen
 * objects) is what the lab studies, so it is not part of the rule.
 */
export const RELATIONAL_LEARNED_ACCURACY = 0.8;

export const relationalLab = {
  id: 'relational',
  title: 'Relational models (CoRelNet)',
  description:
    'CoRelNet and its variants, transformer and LSTM baselines on same/different, RMTS, distribution-of-3 and identity rules, with held-out objects (Kerg et al. 2022).',
  tasks: [sameDiffTask, rmtsTask, dist3Task, identityRulesTask],
  models: [corelnetModel, relationalTransformerModel, relationalLstmModel],
  objectives: [crossEntropyObjective],
  panel: { viewType: SIMILARITY_VIEW_TYPE, title: 'Similarity', command: 'modelLab.openSimilarity' },
  commands: [
    {
      id: 'modelLab.openSimilarity',
      title: 'Open Similarity',
      icon: 'symbol-array',
      menus: [
        { where: 'runsAndSweeps', group: '1_open@4' },
        { where: 'sweepInline', group: 'inline@1' },
      ],
    },
  ],
  // A relational run's miniature is its similarity matrix: CoRelNet's alone has one.
  miniature: { kind: 'similarity', openLabel: 'Open Similarity', shows: hasSimilarityMatrix },
  templates: { prefix: 'relational-', label: 'Relational models (CoRelNet)' },
  runContext: 'similarity',
  hasLearned(metrics) {
    const accuracy = metrics['eval/train/accuracy'];
    if (accuracy === undefined || !Number.isFinite(accuracy)) return { verdict: 'unknown', reason: 'no eval/train/accuracy logged yet' };
    const compared = `eval/train/accuracy ${accuracy.toFixed(3)} ${accuracy >= RELATIONAL_LEARNED_ACCURACY ? '>=' : '<'} ${RELATIONAL_LEARNED_ACCURACY} (chance: 0.5 or 0.25)`;
    return { verdict: accuracy >= RELATIONAL_LEARNED_ACCURACY ? 'learned' : 'not-yet', reason: compared };
  },
} as const satisfies LabManifest;
