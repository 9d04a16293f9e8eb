/**
 * The retrieval lab in the worker: the factories of its manifest's components and the handlers
 * of its inspection requests (src/core/labs.ts registers them).
 */
import { labRuntime } from '../labRuntime';
import type { InspectionSession, RequestHandlers } from '../inspection';
import { attentionExample, MAX_SUMMARY_EXAMPLES, SelectionSummaryBuilder, truthRetrievalsOf } from './attentionSummary';
import { ContextualRetrievalTask, taskOptionsFromSpec } from './contextualRetrieval';
import { l1Objective } from './l1';
import { retrievalLab } from './manifest';
import type { RetrievalRequests } from './requests';
import { createCompositionalRetrievalModel, createMultiHeadRetrievalModel } from './retrievalModel';

/** The Attention composition panel's summary: examples 0 .. count-1 of a split, one at a time. */
function summarizeExamples(session: InspectionSession, split: string, count: number) {
  if (!Number.isInteger(count) || count < 1 || count > MAX_SUMMARY_EXAMPLES) {
    throw new Error(`selectionSummary: examples must be a whole number from 1 to ${MAX_SUMMARY_EXAMPLES}, got ${count}`);
  }
  const truthRetrievals = truthRetrievalsOf(session.spec.task);
  const builder = new SelectionSummaryBuilder(truthRetrievals);
  for (let index = 0; index < count; index++) {
    builder.add(attentionExample(session.inference.example(split, index), truthRetrievals));
  }
  return builder.result();
}

const requests: RequestHandlers<RetrievalRequests> = {
  attentionExample: (session, { split, index }) =>
    attentionExample(session.inference.example(split, index), truthRetrievalsOf(session.spec.task)),
  selectionSummary: (session, { split, examples }) => summarizeExamples(session, split, examples),
};

export const retrievalRuntime = labRuntime(
  retrievalLab,
  {
    tasks: { 'contextual-retrieval': (options, seed) => new ContextualRetrievalTask(taskOptionsFromSpec(options, seed)) },
    models: { 'multi-head-attention': createMultiHeadRetrievalModel, 'compositional-attention': createCompositionalRetrievalModel },
    objectives: { l1: () => l1Objective },
  },
  requests,
);
