import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { LABS } from '../../src/core/labList';
import { groupTemplatesByLab, OTHER_TEMPLATES, templateSummary } from '../../src/core/spec/templateGroups';
import { listTemplates, type TemplateInfo } from '../../src/core/spec/templates';

const info = (name: string): TemplateInfo => ({ name, description: '', file: `/t/${name}.lab.json` });

test('templates are grouped under their lab, in the order of LABS, unknown prefixes last', () => {
  const groups = groupTemplatesByLab(['sampler-a', 'retrieval-b', 'zzz-c', 'retrieval-a', 'posterior-x'].map(info));
  assert.deepEqual(
    groups.map((g) => [g.label, g.templates.map((t) => t.name)]),
    [
      ['Compositional attention', ['retrieval-b', 'retrieval-a']],
      ['Amortized posteriors', ['posterior-x']],
      ['Diffusion samplers', ['sampler-a']],
      [OTHER_TEMPLATES, ['zzz-c']],
    ],
  );
});

test('every shipped template belongs to a lab group, none is lost', () => {
  const templates = listTemplates(join(__dirname, '../../templates'));
  const groups = groupTemplatesByLab(templates);
  assert.ok(groups.every((g) => g.label !== OTHER_TEMPLATES), `unclaimed: ${JSON.stringify(groups.find((g) => g.label === OTHER_TEMPLATES))}`);
  assert.deepEqual(groups.flatMap((g) => g.templates.map((t) => t.name)).sort(), templates.map((t) => t.name).sort());
  const labels = new Set<string>(LABS.map((lab) => lab.templates.label));
  for (const group of groups) assert.ok(labels.has(group.label), group.label);
});

test('the detail line is the first sentence: no measured times or scores from further on', () => {
  assert.equal(
    templateSummary('CoRelNet on same/different (e.g. 5 objects), 95 of 100 held out. 300 steps: about 2 minutes.\nMeasured 0.5 s per step.'),
    'CoRelNet on same/different (e.g. 5 objects), 95 of 100 held out.',
  );
  assert.equal(templateSummary('One sentence without a full stop'), 'One sentence without a full stop');
  assert.equal(templateSummary(''), '');
  for (const template of listTemplates(join(__dirname, '../../templates'))) {
    const summary = templateSummary(template.description);
    assert.ok(summary.length > 0 && !summary.includes('\n'), template.name);
    assert.doesNotMatch(summary, /\bmeasured\b|\bminutes\b|bench\//i, `${template.name}: ${summary}`);
  }
});

test('template descriptions say what trains and what to watch; measured times and scores live in bench/README.md', () => {
  const benchNote = /\bmeasured\b|bench\/|\d (ms|s) per step|2-core|one CPU core|calm machine|busy machine|minutes here|\bsession\b/i;
  for (const template of listTemplates(join(__dirname, '../../templates'))) {
    assert.doesNotMatch(template.description, benchNote, template.name);
  }
});
