/**
 * Which PyTorch reference each of our models is exchanged with, and which of its modules have a
 * counterpart there (read from the reference code; the layer rules are in layerLayouts.ts):
 *   multi-head-attention, compositional-attention
 *       the official Contextual Retrieval code (docs/research/compositional-attention.md, "The official
 *       checkpoint layout"): every parameter; our names already are its module paths.
 *   corelnet
 *       bench/reference/corelnet.py `CoRelNet`: encoder.conv1-3 (nn.Conv2d), encoder.fc1-2,
 *       contextnorm.gamma/beta, decoder.0/.2. Not there: the asymmetric projections w1, w2.
 *   relational-transformer, relational-lstm
 *       the same encoder and context norm (corelnet.py's ObjectEncoder and ContextNorm); the
 *       transformer layer, the LSTM and their heads have no reference in bench/reference/.
 *   amortized-posterior
 *       bench/reference/posterior.py `AmortizedPosterior`: with the transformer encoder every
 *       encoder parameter (embed, cls, layers.N.norm1/attention.query|key|value|out/norm2/
 *       linear1/linear2, norm) and the head; the DeepSets and GRU encoders and the flow family's
 *       parameters have no reference there (its family is the diagonal Gaussian, which has none).
 * A parameter no rule covers is stored as `model_lab.<our name>` in our own layout, and the file's
 * metadata lists it with the reason given here. bench/reference/ is the reference, not the papers'
 * repositories: those name the relational modules otherwise and flatten the encoder's feature
 * map channels-first (RELATIONAL_NOTE, which the metadata carries).
 */
import type { ComponentSpec } from '../spec/types';
import { asIs, conv4x4, groupedLinear, linear, type LayerRule } from './layerLayouts';

export interface ReferenceLayout {
  /** The reference whose state_dict keys the covered parameters take. */
  reference: string;
  rules: LayerRule[];
  /** Why the parameters no rule covers have no counterpart, for the file's metadata. */
  uncovered: string;
  /** What a reader of the file must know beyond the keys (the metadata's `layout_note`). */
  note?: string;
}

const RETRIEVAL: ReferenceLayout = {
  reference: 'the official Contextual Retrieval code (compositional attention, Mittal et al. 2022)',
  rules: [linear(/.*/), groupedLinear(/.*/)],
  uncovered: 'not part of the official model',
};

/** corelnet.py's ObjectEncoder and ContextNorm, shared by every relational model. */
const RELATIONAL_ENCODER: LayerRule[] = [conv4x4(/encoder\.conv[123]/), linear(/encoder\.fc[12]/), asIs(/contextnorm\.(gamma|beta)/)];

const CORELNET_REFERENCE = 'bench/reference/corelnet.py (CoRelNet)';

/**
 * corelnet.py flattens the last feature map as ours does; the papers' code does not, and names
 * its modules otherwise (read in giancarlok/relationaltasks and taylorwwebb/emergent_symbols).
 */
const RELATIONAL_NOTE =
  "encoder.fc1.weight's 512 inputs are the 4 x 4 x 32 feature map flattened (row, column, channel), as in bench/reference/corelnet.py; " +
  'the official code (giancarlok/relationaltasks, taylorwwebb/emergent_symbols) flattens (channel, row, column) and names the modules otherwise ' +
  '(shape_encoder or encoder, final, a top-level gamma and beta), so a file for it needs fc1.weight\'s columns permuted and the keys renamed';

const POSTERIOR_TRANSFORMER: LayerRule[] = [
  linear(/encoder\.embed/),
  asIs(/encoder\.cls/),
  asIs(/encoder\.(layers\.\d+\.norm[12]|norm)\.(weight|bias)/),
  linear(/encoder\.layers\.\d+\.(attention\.(query|key|value|out)|linear[12])/),
];

export function referenceLayoutOf(model: ComponentSpec): ReferenceLayout {
  switch (model.name) {
    case 'multi-head-attention':
    case 'compositional-attention':
      return RETRIEVAL;
    case 'corelnet':
      return {
        reference: CORELNET_REFERENCE,
        rules: [...RELATIONAL_ENCODER, linear(/decoder\.[02]/)],
        uncovered: 'the asymmetric projections w1, w2 are not in the reference, which covers the symmetric CoRelNet',
        note: RELATIONAL_NOTE,
      };
    case 'relational-transformer':
    case 'relational-lstm':
      return {
        reference: `${CORELNET_REFERENCE}: its ObjectEncoder and ContextNorm`,
        rules: RELATIONAL_ENCODER,
        uncovered: `bench/reference/ has no ${model.name === 'relational-lstm' ? 'LSTM' : 'transformer'} baseline: only the shared encoder and context norm have a reference`,
        note: RELATIONAL_NOTE,
      };
    case 'amortized-posterior': {
      const transformer = model.encoder === 'transformer';
      const missing = [...(transformer ? [] : [`the ${String(model.encoder)} encoder`]), ...(model.family === 'flow' ? ['the flow family'] : [])];
      return {
        reference: 'bench/reference/posterior.py (AmortizedPosterior: transformer encoder, diagonal Gaussian family)',
        rules: [...(transformer ? POSTERIOR_TRANSFORMER : []), linear(/head/)],
        uncovered: `bench/reference/posterior.py has no counterpart for ${missing.join(' or ') || 'them'} (its encoder is the transformer, its family the diagonal Gaussian, which has no parameters)`,
      };
    }
    default:
      return { reference: 'none', rules: [], uncovered: `model '${model.name}' has no PyTorch reference` };
  }
}
