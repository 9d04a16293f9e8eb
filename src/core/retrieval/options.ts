/**
 * The option schemas of the retrieval lab's task, models and objective (TypeBox: each schema is
 * the JSON schema experiment files are checked against, `Static<...>` the options' type). No
 * TensorFlow.js: the manifest, and through it the extension host, import this file.
 */
import { componentOptions, stringEnum, Type, type Static } from '../options';

export const SPLIT_RULES = ['truncate', 'top-up'] as const;
export type SplitRule = (typeof SPLIT_RULES)[number];
export const COEFFICIENT_RULES = ['paper', 'ones', 'random'] as const;
export type CoefficientRule = (typeof COEFFICIENT_RULES)[number];

export const contextualRetrievalOptions = componentOptions({
  seqLen: Type.Integer({ minimum: 2, default: 10, description: 'Tokens per example (N).' }),
  searchFeatures: Type.Integer({ minimum: 1, maximum: 8, default: 2, description: 'Ground-truth searches v_s.' }),
  retrievalFeatures: Type.Integer({ minimum: 1, maximum: 8, default: 4, description: 'Ground-truth retrievals v_p.' }),
  split: stringEnum(['ood', 'iid'], {
    default: 'ood',
    description: "'ood': train on 80% of the retrieval combinations, evaluate also on the held-out ones; 'iid': all combinations everywhere.",
  }),
  // Optional in the type: specs resolved before the rule was recorded lack it (they mean 'top-up').
  splitRule: Type.Optional(
    stringEnum(SPLIT_RULES, {
      default: 'truncate',
      description:
        "How split 'ood' chooses the training combinations: even-indexed ones, then held-out ones from the front until training holds int(0.8 x count) ('truncate', the paper's code: 12 of 16 for 2 x 4, holding out (2,1), (2,3), (3,1), (3,3)). 'top-up' is the rule of runs trained before Model Lab matched the paper (fewer than 0.8 x count: 13 of 16); runs that do not record a rule use it.",
    }),
  ),
  coefficients: stringEnum(COEFFICIENT_RULES, {
    default: 'paper',
    description:
      "Per-search coefficients c_s of the target: the paper's fixed values ('paper': -0.713, -0.606, 0.661, ... the same in every run), all 1 ('ones', the paper's --no-coeff), or drawn once from U(-1, 1) with the seed ('random': a search can get |c_s| near 0 and then barely counts). The values are recorded in the run's spec as `coefficientValues`.",
  }),
  coefficientValues: Type.Optional(
    Type.Array(Type.Number(), {
      description:
        'Recorded by Model Lab when the experiment is read: the c_s the run uses, from `coefficients` (and the seed for \'random\'). Leave it out; a run\'s spec.json holds it. Runs that do not record it use the values `coefficients` names.',
    }),
  ),
});

/** The task's options as a resolved spec holds them (the recorded fields absent in older specs). */
export type ContextualRetrievalSpecOptions = Static<typeof contextualRetrievalOptions>;

const dimOption = () => Type.Integer({ minimum: 2, default: 64, description: 'Model width D (the paper tries 32 to 512).' });
const concatOption = () =>
  Type.Boolean({
    default: true,
    description: "Concatenate a projection of the token itself before the output projection (the paper's --concat).",
  });

export const multiHeadRetrievalOptions = componentOptions({
  dim: dimOption(),
  heads: Type.Integer({ minimum: 1, default: 2, description: 'Attention heads; must divide dim.' }),
  concat: concatOption(),
});
export type RetrievalModelOptions = Static<typeof multiHeadRetrievalOptions>;

export const compositionalRetrievalOptions = componentOptions({
  dim: dimOption(),
  searches: Type.Integer({ minimum: 1, default: 2, description: 'Searches S (query-key attention maps); must divide searchDim.' }),
  retrievals: Type.Integer({ minimum: 1, default: 4, description: 'Retrievals R (value projections shared by all searches); must divide valueDim.' }),
  searchDim: Type.Optional(
    Type.Integer({
      minimum: 1,
      description: 'Total width of the searches (query and key projections); each search gets searchDim / searches. Default: dim.',
    }),
  ),
  valueDim: Type.Optional(
    Type.Integer({
      minimum: 1,
      description: 'Total width of the retrievals (value projection); each retrieval gets valueDim / retrievals. Default: dim.',
    }),
  ),
  concat: concatOption(),
  gumbel: Type.Boolean({
    default: false,
    description: 'Gumbel-softmax (temperature 1) instead of softmax in both competitions while training; the noise is seeded, so runs stay reproducible.',
  }),
  separateValueKeys: Type.Boolean({
    default: false,
    description: "One retrieval-key matrix per retrieval instead of one shared by all (the official --separate).",
  }),
});
export type CompositionalRetrievalOptions = Static<typeof compositionalRetrievalOptions>;

export const l1Options = componentOptions({});
