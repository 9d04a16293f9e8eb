/**
 * Writes the JSON schema of experiment files (`*.lab.json`), generated from the registry, to the
 * given file. VS Code's `jsonValidation` points at it for completion, hover docs and validation.
 *   node --import tsx scripts/write-schema.ts dist/experiment.schema.json
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import '../src/core/labs';
import { experimentSchema } from '../src/core/spec/schema';

const out = process.argv[2];
if (!out) {
  console.error('usage: node --import tsx scripts/write-schema.ts <out.json>');
  process.exit(2);
}
const file = resolve(out);
mkdirSync(dirname(file), { recursive: true });
writeFileSync(file, `${JSON.stringify(experimentSchema(), null, 2)}\n`);
console.log(`wrote ${file}`);
