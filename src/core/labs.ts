/** Importing this module registers every lab's tasks, models and objectives. */
import { registerModel, registerObjective, registerTask } from './registry';
import { contextualRetrievalEntry } from './tasks/contextualRetrieval';
import { multiHeadRetrievalEntry } from './models/retrievalModel';
import { l1Entry } from './objectives/l1';

registerTask(contextualRetrievalEntry);
registerModel(multiHeadRetrievalEntry);
registerObjective(l1Entry);
