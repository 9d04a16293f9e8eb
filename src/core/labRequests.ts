/**
 * Every lab's inspection requests, as one type (types only: the protocol's worker vocabulary,
 * src/protocol/worker.ts, composes it with the requests every session answers). A new lab adds
 * its map here; its handlers are registered with its runtime (src/core/labs.ts).
 */
import type { PosteriorRequests } from './posterior/requests';
import type { RelationalRequests } from './relational/requests';
import type { RetrievalRequests } from './retrieval/requests';
import type { SamplerRequests } from './sampler/requests';

export type { PosteriorRequests, RelationalRequests, RetrievalRequests, SamplerRequests };

export type LabRequests = RetrievalRequests & RelationalRequests & PosteriorRequests & SamplerRequests;
