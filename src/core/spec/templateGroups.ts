/**
 * The New Experiment picker's list: templates grouped under their lab's label (in the order of
 * LABS, then any template no lab claims under "Other templates"), each with a one-line summary.
 * Pure: the host turns the groups into quick pick separators and items.
 */
import { LABS, labOfTemplate } from '../labList';
import type { TemplateInfo } from './templates';

export interface TemplateGroup {
  /** The lab's templates label (its manifest), e.g. `Compositional attention`. */
  label: string;
  templates: TemplateInfo[];
}

export const OTHER_TEMPLATES = 'Other templates';

/** Groups in LABS order; a group without templates is left out; templates keep their order. */
export function groupTemplatesByLab(templates: readonly TemplateInfo[]): TemplateGroup[] {
  const byLabel = new Map<string, TemplateInfo[]>([...LABS.map((lab) => lab.templates.label), OTHER_TEMPLATES].map((label) => [label, []]));
  for (const template of templates) byLabel.get(labOfTemplate(template.name)?.templates.label ?? OTHER_TEMPLATES)!.push(template);
  return [...byLabel].filter(([, members]) => members.length > 0).map(([label, members]) => ({ label, templates: members }));
}

/**
 * The description's first sentence, for the picker's detail line: what the template trains.
 * Measured times and scores further on belong to the file (and bench/README.md), not the list.
 * A sentence ends at `. ` before a capital letter, digit or parenthesis, except after `e.g.`, `i.e.`, `cf.`, `vs.`.
 */
export function templateSummary(description: string): string {
  const text = description.replace(/\s+/g, ' ').trim();
  const end = /(?<!\b(?:e\.g|i\.e|cf|vs))[.!?](?= [A-Z0-9(])/.exec(text);
  return end ? text.slice(0, end.index + 1) : text;
}
