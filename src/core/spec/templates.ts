/**
 * Experiment templates: the `*.lab.json` files shipped in `templates/`, listed with their
 * descriptions and copied into the workspace to start a new experiment.
 * Deliberately free of the registry and of TensorFlow.js: listing templates must stay cheap.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { applyEdits, modify } from 'jsonc-parser';
import { NAME_PATTERN } from './schema';

export const TEMPLATE_SUFFIX = '.lab.json';

export interface TemplateInfo {
  /** File name without `.lab.json`, e.g. `retrieval-mha`. */
  name: string;
  /** The template's `description` (empty when it has none or cannot be read). */
  description: string;
  /** Absolute path of the template file. */
  file: string;
}

export class TemplateError extends Error {
  override readonly name = 'TemplateError';
}

export function listTemplates(templatesDir: string): TemplateInfo[] {
  let files: string[];
  try {
    files = readdirSync(templatesDir);
  } catch (error) {
    throw new TemplateError(`cannot read the templates folder ${templatesDir}: ${(error as Error).message}`);
  }
  return files
    .filter((f) => f.endsWith(TEMPLATE_SUFFIX))
    .map((f) => {
      const file = join(templatesDir, f);
      return { name: f.slice(0, -TEMPLATE_SUFFIX.length), description: readDescription(file), file };
    })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

function readDescription(file: string): string {
  try {
    const description = (JSON.parse(readFileSync(file, 'utf8')) as { description?: unknown }).description;
    return typeof description === 'string' ? description : '';
  } catch {
    return ''; // a broken template still lists; validating it is the job of parseSpec
  }
}

/**
 * Writes template `name` to `targetFile` (never overwriting) and returns `targetFile`.
 * The experiment `name` becomes the target's file name when that is a valid experiment name,
 * so runs of the new file are told apart from runs of the template.
 */
export function instantiateTemplate(templatesDir: string, name: string, targetFile: string): string {
  const template = listTemplates(templatesDir).find((t) => t.name === name);
  if (!template) {
    const known = listTemplates(templatesDir).map((t) => t.name);
    throw new TemplateError(
      `unknown template '${name}': ${known.length > 0 ? `known templates are ${known.join(', ')}` : `no templates in ${templatesDir}`}`,
    );
  }
  if (existsSync(targetFile)) {
    throw new TemplateError(`${targetFile} already exists; choose another file name (templates never overwrite a file)`);
  }
  let text = readFileSync(template.file, 'utf8');
  const experimentName = basename(targetFile).replace(/\.lab\.json$|\.json$/, '');
  if (new RegExp(NAME_PATTERN).test(experimentName)) {
    text = applyEdits(text, modify(text, ['name'], experimentName, { formattingOptions: { insertSpaces: true, tabSize: 2 } }));
  }
  mkdirSync(dirname(targetFile), { recursive: true });
  try {
    writeFileSync(targetFile, text, { flag: 'wx' }); // 'wx': fail rather than overwrite, even in a race
  } catch (error) {
    throw new TemplateError(`cannot create ${targetFile}: ${(error as Error).message}`);
  }
  return targetFile;
}
