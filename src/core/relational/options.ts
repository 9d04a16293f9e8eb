/**
 * The option schemas of the relational lab's tasks and models (TypeBox: each schema is the JSON
 * schema experiment files are checked against, `Static<...>` the options' type). No TensorFlow.js:
 * the manifest, and through it the extension host, import this file.
 */
import { componentOptions, stringEnum, Type, type Static } from '../options';
import { TASK_LAYOUTS, type RelationalTaskName } from './trials';

/** `"procedural"` (seeded glyphs, the default) or a folder of the user's 32 x 32 PNG images. */
export type ObjectSetOption = 'procedural' | { folder: string };

export const relationalTaskOptions = (task: RelationalTaskName) =>
  componentOptions({
    m: Type.Integer({
      minimum: 0,
      maximum: 100 - TASK_LAYOUTS[task].distinctObjects,
      default: 0,
      description:
        "Objects held out (the papers' m_holdout): training uses the other 100 - m, the 'test' split only these m unseen ones. 0: both use all objects. The paper's grid: 0, 50, 85, 95 (and 98 for same-diff).",
    }),
    // A choice between a constant and an object: written as the schema always was (`oneOf`), typed by hand once here.
    objectSet: Type.Unsafe<ObjectSetOption>({
      default: 'procedural',
      description:
        "The objects: 'procedural' (100 seeded distinct glyphs, the same for every run) or { \"folder\": \"path\" } with 32 x 32 PNG images (e.g. the original ESBN glyphs), the path absolute or relative to the experiment file; the run records it absolute.",
      oneOf: [
        { const: 'procedural' },
        {
          type: 'object',
          required: ['folder'],
          additionalProperties: false,
          properties: { folder: { type: 'string', minLength: 1, description: 'A folder of 32 x 32 PNG images, absolute or relative to the experiment file (images in natural order of their names).' } },
        },
      ],
    }),
  });

export type RelationalTaskOptions = Static<ReturnType<typeof relationalTaskOptions>>;

const contextNormOption = () =>
  Type.Boolean({
    default: true,
    description:
      'Context normalisation of the encoded objects across the sequence (per pair in rmts), as in the reference code. On a 2-object sequence it maps two identical objects to exactly 0, which makes same-diff nearly trivial for any model.',
  });

export const SIMILARITY_NORMALISATIONS = ['masked-softmax', 'softmax', 'sigmoid'] as const;
export type SimilarityNormalisation = (typeof SIMILARITY_NORMALISATIONS)[number];

export const corelnetOptions = componentOptions({
  normalisation: stringEnum(SIMILARITY_NORMALISATIONS, {
    default: 'masked-softmax',
    description:
      "How the similarity matrix is normalised: 'masked-softmax' (each row over the entries up to the diagonal; the decoder sees the lower triangle, the paper's default), 'softmax' (each full row; all T^2 entries), 'sigmoid' (each entry; the lower triangle).",
  }),
  asymmetric: Type.Boolean({ default: false, description: 'Asymmetric relations R = (W1 Z)(W2 Z)^T with learned W1, W2 (the paper\'s "asym").' }),
  concatObjects: Type.Boolean({
    default: false,
    description: 'Also give the decoder the encoded objects Z (the paper\'s "cat"; it hurts generalisation to unseen objects).',
  }),
  contextNorm: contextNormOption(),
});
export type CoRelNetOptions = Static<typeof corelnetOptions>;

export const TRANSFORMER_ATTENTIONS = ['multi-head', 'compositional'] as const;
export type TransformerAttention = (typeof TRANSFORMER_ATTENTIONS)[number];

export const relationalTransformerOptions = componentOptions({
  // Optional in the type: older specs and checkpoints have no such field (they mean multi-head).
  attention: Type.Optional(
    stringEnum(TRANSFORMER_ATTENTIONS, {
      default: 'multi-head',
      description:
        "The self-attention layer: 'multi-head' (ESBN's baseline) or 'compositional' (Mittal et al. 2022: the heads become searches, each token picks one of `retrievals` shared retrievals per search; softmax competitions, no Gumbel noise).",
    }),
  ),
  heads: Type.Integer({ minimum: 1, default: 8, description: 'Attention heads (searches of the compositional layer); must divide 128.' }),
  // Optional in the type for the same reason as `attention`.
  retrievals: Type.Optional(Type.Integer({ minimum: 1, default: 8, description: "Retrievals of the compositional layer (ignored by 'multi-head'); must divide 128." })),
  feedForward: Type.Integer({ minimum: 1, default: 512, description: 'Width of the feed-forward block.' }),
  contextNorm: contextNormOption(),
});

export interface TransformerOptions extends Static<typeof relationalTransformerOptions> {
  /** Test hook of the compositional layer: retrieval r = search s, which makes it multi-head attention. */
  fixedSelection?: 'identity';
}

export const relationalLstmOptions = componentOptions({
  hidden: Type.Integer({ minimum: 1, default: 512, description: 'LSTM hidden units (512 in the reference code).' }),
  contextNorm: contextNormOption(),
});
export type LstmOptions = Static<typeof relationalLstmOptions>;

export const crossEntropyOptions = componentOptions({});
