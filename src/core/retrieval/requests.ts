/**
 * The retrieval lab's inspection requests (types only: the protocol composes every lab's map;
 * the handlers are in runtime.ts). The Attention composition panel and the Live miniature ask them.
 */
import type { Request } from '../../protocol/channel';
import type { AttentionExample, SelectionSummary } from './attentionSummary';

export interface RetrievalRequests {
  /** One example of a retrieval model as the panel shows it. */
  attentionExample: Request<{ split: string; index: number }, AttentionExample>;
  /** Examples 0 .. examples-1 of a split, summarised in the worker. */
  selectionSummary: Request<{ split: string; examples: number }, SelectionSummary>;
}
