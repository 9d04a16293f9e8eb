/**
 * Compositional attention (Mittal et al. 2022, docs/research/compositional-attention.md): S searches
 * and R retrievals kept as separate banks; every token, for every search, softly picks a retrieval.
 *   Q = x Wq, K = x Wk                      (D -> search_dim, S searches of width d_s)
 *   A_s = softmax(Q_s K_s^T / sqrt(d_s))     (diagonal masked in the retrieval model)
 *   V = x Wv                                 (D -> value_dim, R retrievals of width d_v, shared by all searches)
 *   O[s, r] = A_s V_r                        (every pairing)
 *   q_s = (x Wq')_s / sqrt(d_s),  k[s, r] = O[s, r] Wk'   (Wk': d_v -> d_s, shared, or one per r)
 *   alpha[s, :] = softmax_r(q_s . k[s, r])   (per token and search)
 *   h_s = sum_r alpha[s, r] O[s, r]
 *   out = concat(h_1 .. h_S [, x Win]) Wo    (with `concat`, x Win: D -> d_v)
 * Parameter names follow the official state_dict (`query_net`, `value_query`, `value_key`, `in_`,
 * `out_proj`), kernels stored [in, out].
 */
import * as tf from '@tensorflow/tfjs';
import { rowDotProducts, weightedRowSums } from '../kernels';
import type { Parameter } from '../registry';
import type { Rng } from '../rng';
import { Linear } from './linear';

export interface CompositionalAttentionOptions {
  dim: number;
  searches: number;
  retrievals: number;
  searchDim: number;
  valueDim: number;
  concat: boolean;
  /** Gumbel-softmax (temperature 1, as the official code) in both competitions, when training. */
  gumbel: boolean;
  /** One value_key matrix per retrieval (the official `--separate`). */
  separateValueKeys: boolean;
  maskDiagonal: boolean;
  /**
   * Test hook: 'identity' forces alpha[s, r] = [r == s] (needs R = S), which turns the layer
   * into multi-head attention.
   */
  fixedSelection?: 'identity';
}

export interface CompositionalAttentionResult {
  output: tf.Tensor3D;
  /** A: [B, S, N, N] */
  searchMaps: tf.Tensor4D;
  /** alpha: [B, N, S, R] */
  retrievalSelection: tf.Tensor4D;
}

export interface ApplyMode {
  training: boolean;
  /** Source of the Gumbel noise seeds; required when `gumbel` is on and `training` is true. */
  noise?: Rng;
}

const NEGATIVE_INFINITY_LOGIT = -1e9;
/** Keeps -log(-log(u)) finite when a float32 uniform rounds to 0 or 1. */
const UNIFORM_MARGIN = 1e-7;

/** Throws a message naming both fields when `total` is not a multiple of `parts`. */
export function requireDivisible(totalField: string, total: number, partsField: string, parts: number): void {
  if (!Number.isInteger(total / parts)) {
    throw new Error(`model.${totalField} (${total}) must be divisible by model.${partsField} (${parts})`);
  }
}

/**
 * R blocks of d_v -> d_s maps, one per retrieval: kernel [R, d_v, d_s], bias [R, d_s].
 * Initialised like the official GroupLinearLayer (Xavier-uniform weights, zero bias).
 */
export class GroupedLinear {
  readonly kernel: tf.Variable;
  readonly bias: tf.Variable;

  constructor(readonly name: string, readonly groups: number, readonly inputs: number, readonly outputs: number, rng: Rng) {
    const bound = Math.sqrt(6) / Math.sqrt(inputs + outputs);
    const count = groups * inputs * outputs;
    const values = Float32Array.from({ length: count }, () => (2 * rng.next() - 1) * bound);
    this.kernel = tf.tidy(() => tf.variable(tf.tensor3d(values, [groups, inputs, outputs])));
    this.bias = tf.tidy(() => tf.variable(tf.zeros([groups, outputs])));
  }

  /** x: [M, groups, in] -> [M, groups, out], group g through its own matrix. */
  apply(x: tf.Tensor3D): tf.Tensor3D {
    const byGroup = x.transpose([1, 0, 2]) as tf.Tensor3D; // [groups, M, in]
    const mapped = tf.matMul(byGroup, this.kernel as tf.Tensor3D).add(this.bias.expandDims(1));
    return mapped.transpose([1, 0, 2]) as tf.Tensor3D;
  }

  parameters(): Parameter[] {
    return [
      { name: `${this.name}.kernel`, variable: this.kernel },
      { name: `${this.name}.bias`, variable: this.bias },
    ];
  }
}

export class CompositionalAttention {
  /** d_s */
  readonly searchHeadDim: number;
  /** d_v */
  readonly valueHeadDim: number;
  readonly query: Linear;
  readonly key: Linear;
  readonly value: Linear;
  readonly retrievalQuery: Linear;
  readonly retrievalKey: Linear | GroupedLinear;
  readonly tokenProjection: Linear | undefined;
  readonly out: Linear;

  constructor(name: string, readonly options: CompositionalAttentionOptions, rng: Rng) {
    const { dim, searches, retrievals, searchDim, valueDim, concat } = options;
    requireDivisible('searchDim', searchDim, 'searches', searches);
    requireDivisible('valueDim', valueDim, 'retrievals', retrievals);
    if (options.fixedSelection === 'identity' && searches !== retrievals) {
      throw new Error(`an identity retrieval selection needs model.retrievals (${retrievals}) = model.searches (${searches})`);
    }
    this.searchHeadDim = searchDim / searches;
    this.valueHeadDim = valueDim / retrievals;
    // Same creation order as the official module, so the parameter list reads like its state_dict.
    this.query = new Linear(`${name}.query_net`, dim, searchDim, rng);
    this.key = new Linear(`${name}.key_net`, dim, searchDim, rng);
    this.value = new Linear(`${name}.value_net`, dim, valueDim, rng);
    this.retrievalQuery = new Linear(`${name}.value_query`, dim, searchDim, rng);
    this.retrievalKey = options.separateValueKeys
      ? new GroupedLinear(`${name}.value_key`, retrievals, this.valueHeadDim, this.searchHeadDim, rng)
      : new Linear(`${name}.value_key`, this.valueHeadDim, this.searchHeadDim, rng);
    this.tokenProjection = concat ? new Linear(`${name}.in_`, dim, this.valueHeadDim, rng) : undefined;
    this.out = new Linear(`${name}.out_proj`, (searches + (concat ? 1 : 0)) * this.valueHeadDim, dim, rng);
  }

  /** x: [B, N, D] -> output [B, N, D], search maps [B, S, N, N], retrieval selection [B, N, S, R]. */
  apply(x: tf.Tensor3D, mode: ApplyMode = { training: false }): CompositionalAttentionResult {
    const [batch, tokens] = x.shape;
    const { searches: S, retrievals: R } = this.options;
    const [ds, dv] = [this.searchHeadDim, this.valueHeadDim];
    const noisy = this.options.gumbel && mode.training;
    if (noisy && !mode.noise) throw new Error('Gumbel noise needs a seeded noise source while training');
    const compete = (logits: tf.Tensor) => (noisy ? gumbelSoftmax(logits, mode.noise!.int32()) : tf.softmax(logits));

    // 1. Search: S attention maps.
    const q = splitHeads(this.query.apply(x), S);
    const k = splitHeads(this.key.apply(x), S);
    let searchScores = tf.matMul(q, k, false, true).div(Math.sqrt(ds));
    if (this.options.maskDiagonal) searchScores = searchScores.add(tf.eye(tokens).mul(NEGATIVE_INFINITY_LOGIT));
    const searchMaps = compete(searchScores) as tf.Tensor4D; // [B, S, N, N]

    // 2-3. Values shared by all searches, and all pairings O[s, r] = A_s V_r in one product:
    // [B, S*N, N] x [B, N, R*dv] -> [B, S, N, R, dv] -> [B, N, S, R, dv].
    const values = this.value.apply(x) as tf.Tensor3D;
    const pairings = tf
      .matMul(searchMaps.reshape([batch, S * tokens, tokens]) as tf.Tensor3D, values)
      .reshape([batch, S, tokens, R, dv])
      .transpose([0, 2, 1, 3, 4]);
    const perTokenSearch = batch * tokens * S; // rows of the retrieval competition
    const pairingRows = pairings.reshape([perTokenSearch, R, dv]) as tf.Tensor3D;

    // 4. Retrieval selection: q_s . k[s, r], softmax over r.
    let retrievalSelection: tf.Tensor4D;
    if (this.options.fixedSelection === 'identity') {
      retrievalSelection = tf.broadcastTo(tf.eye(S, R), [batch, tokens, S, R]) as tf.Tensor4D;
    } else {
      const retrievalQuery = this.retrievalQuery.apply(x).reshape([perTokenSearch, 1, ds]).div(Math.sqrt(ds)) as tf.Tensor3D;
      const retrievalKeys = this.retrievalKey.apply(pairingRows) as tf.Tensor3D; // k[s, r]: [B*N*S, R, ds]
      const selectionScores = rowDotProducts(retrievalKeys, retrievalQuery).reshape([batch, tokens, S, R]);
      retrievalSelection = compete(selectionScores) as tf.Tensor4D;
    }

    // 5. h_s = sum_r alpha[s, r] O[s, r], then the output projection.
    const selected = weightedRowSums(retrievalSelection.reshape([perTokenSearch, R]), pairingRows);
    let merged = selected.reshape([batch, tokens, S * dv]);
    if (this.tokenProjection) merged = tf.concat([merged, this.tokenProjection.apply(x)], -1);
    return { output: this.out.apply(merged) as tf.Tensor3D, searchMaps, retrievalSelection };
  }

  parameters(): Parameter[] {
    const layers = [this.query, this.key, this.value, this.retrievalQuery, this.retrievalKey, this.tokenProjection, this.out];
    return layers.flatMap((layer) => (layer ? layer.parameters() : []));
  }
}

/** [B, N, H*d] -> [B, H, N, d] */
function splitHeads(t: tf.Tensor, heads: number): tf.Tensor4D {
  const [batch, tokens, width] = t.shape;
  return t.reshape([batch, tokens, heads, width / heads]).transpose([0, 2, 1, 3]) as tf.Tensor4D;
}

/** softmax(logits + g) over the last axis, g ~ Gumbel(0, 1) from tf's seeded uniform generator. */
export function gumbelSoftmax(logits: tf.Tensor, seed: number): tf.Tensor {
  const uniform = tf.randomUniform(logits.shape, UNIFORM_MARGIN, 1 - UNIFORM_MARGIN, 'float32', seed);
  const gumbel = tf.neg(tf.log(tf.neg(tf.log(uniform))));
  return tf.softmax(tf.add(logits, gumbel));
}
