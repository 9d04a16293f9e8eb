/**
 * Writes the JSON schema of experiment files (`*.lab.json`), generated from the lab manifests (through the registry), to the
 * given file, and optionally the editor's copy of it (src/core/spec/editorSchema.ts): VS Code's
 * `jsonValidation` points at the editor's copy, for completion and hover docs; Model Lab itself
 * reports the problems.
 *   node --import tsx scripts/write-schema.ts dist/experiment.schema.json [dist/experiment.editor.schema.json]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { editorSchema } from '../src/core/spec/editorSchema';
import { experimentSchema } from '../src/core/spec/schema';

const [out, editorOut] = process.argv.slice(2);
if (!out) {
  console.error('usage: node --import tsx scripts/write-schema.ts <out.json> [<editor-out.json>]');
  process.exit(2);
}
const write = (target: string, schema: unknown) => {
  const file = resolve(target);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(schema, null, 2)}\n`);
  console.log(`wrote ${file}`);
};
const schema = experimentSchema();
write(out, schema);
if (editorOut) write(editorOut, editorSchema(schema));
