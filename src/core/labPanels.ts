/**
 * Which lab panel can open a run, from its resolved experiment: the one rule shared by the Runs
 * view's context menu, the panels' pickers and the Live view's miniature (until each lab's
 * manifest states it). Pure: no tfjs, no vscode.
 */

export type LabPanel = 'attention' | 'posterior' | 'similarity';

/** Models of the Contextual Retrieval lab: the Attention composition panel shows them. */
export const RETRIEVAL_MODELS = ['compositional-attention', 'multi-head-attention'] as const;

/** Tasks of the relational lab: the Similarity panel shows them (any model; CoRelNet has the matrix). */
export const RELATIONAL_TASK_NAMES = ['same-diff', 'rmts', 'dist3', 'identity-rules'] as const;

export function labPanelOf(spec: unknown): LabPanel | undefined {
  const { task, model } = (spec ?? {}) as { task?: { name?: unknown }; model?: { name?: unknown } };
  const taskName = typeof task?.name === 'string' ? task.name : '';
  const modelName = typeof model?.name === 'string' ? model.name : '';
  if ((RETRIEVAL_MODELS as readonly string[]).includes(modelName)) return 'attention';
  if (taskName.startsWith('posterior-')) return 'posterior';
  if ((RELATIONAL_TASK_NAMES as readonly string[]).includes(taskName)) return 'similarity';
  return undefined;
}
