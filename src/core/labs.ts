/** Importing this module registers every lab's tasks, models and objectives. */
import { registerModel, registerObjective, registerTask } from './registry';
import { contextualRetrievalEntry } from './retrieval/contextualRetrieval';
import { compositionalRetrievalEntry, multiHeadRetrievalEntry } from './retrieval/retrievalModel';
import { l1Entry } from './retrieval/l1';
import { relationalTaskEntries } from './relational/tasks';
import { corelnetEntry, relationalLstmEntry, relationalTransformerEntry } from './relational/models';
import { crossEntropyEntry } from './relational/crossEntropy';
import { amortizedPosteriorEntry, forwardKlEntry, posteriorTaskEntries, reverseKlEntry } from './posterior/entries';

registerTask(contextualRetrievalEntry);
registerModel(multiHeadRetrievalEntry);
registerModel(compositionalRetrievalEntry);
registerObjective(l1Entry);

// Relational lab (CoRelNet and baselines on same-diff, rmts, dist3, identity-rules).
for (const entry of relationalTaskEntries) registerTask(entry);
registerModel(corelnetEntry);
registerModel(relationalTransformerEntry);
registerModel(relationalLstmEntry);
registerObjective(crossEntropyEntry);

// Posterior lab (amortized in-context posterior estimation, forward and reverse KL).
for (const entry of posteriorTaskEntries) registerTask(entry);
registerModel(amortizedPosteriorEntry);
registerObjective(forwardKlEntry);
registerObjective(reverseKlEntry);
