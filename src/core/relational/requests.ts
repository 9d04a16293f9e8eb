/**
 * The relational lab's inspection requests (types only: the protocol composes every lab's map;
 * the handlers are in runtime.ts). The Similarity panel asks them.
 */
import type { Request } from '../../protocol/channel';
import type { ClassAverage } from './panelData';

export interface RelationalRequests {
  /** Mean similarity matrix per trial kind over `perKind` trials of each. */
  similarityAverages: Request<{ split: string; perKind: number }, ClassAverage[]>;
}
