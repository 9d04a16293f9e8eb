/**
 * The import boundaries of eslint.config.mjs (issue 19): a deliberate violation of each is
 * reported, and the imports each layer is meant to make are not. The sources are linted in memory
 * at paths inside the layer they pretend to belong to (the files do not exist), with the
 * repository's own config.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ESLint } from 'eslint';

const repoRoot = join(__dirname, '..', '..');
const eslint = new ESLint({ cwd: repoRoot });

/** The messages of `no-restricted-imports` for `source` linted as the file `file`. */
async function boundaryMessages(file: string, source: string): Promise<string[]> {
  const [result] = await eslint.lintText(source, { filePath: join(repoRoot, file) });
  const other = result.messages.filter((m) => m.ruleId !== 'no-restricted-imports');
  assert.deepEqual(other, [], `${file}: only the boundary rule may report here`);
  return result.messages.map((m) => m.message);
}

const violations: { what: string; file: string; source: string; says: RegExp }[] = [
  { what: 'core imports vscode', file: 'src/core/boundaryProbe.ts', source: "import * as vscode from 'vscode';\nexport const x = vscode;\n", says: /never imports 'vscode'/ },
  { what: 'engine imports vscode', file: 'src/engine/boundaryProbe.ts', source: "export type { Uri } from 'vscode';\n", says: /never imports 'vscode'/ },
  { what: 'app imports vscode', file: 'src/app/boundaryProbe.ts', source: "import 'vscode';\n", says: /never imports 'vscode'/ },
  { what: 'runs imports vscode', file: 'src/runs/boundaryProbe.ts', source: "import type { Uri } from 'vscode';\nexport type U = Uri;\n", says: /never imports 'vscode'/ },
  { what: 'shared imports vscode', file: 'src/shared/boundaryProbe.ts', source: "import 'vscode';\n", says: /never imports 'vscode'/ },
  { what: 'protocol imports vscode', file: 'src/protocol/boundaryProbe.ts', source: "import type { Webview } from 'vscode';\nexport type W = Webview;\n", says: /never imports 'vscode'/ },
  { what: 'the CLI imports vscode', file: 'src/cli.ts', source: "import 'vscode';\n", says: /never imports 'vscode'/ },
  { what: 'a webview imports vscode', file: 'webview/dashboard/boundaryProbe.ts', source: "import 'vscode';\n", says: /never imports 'vscode'/ },
  {
    what: 'a webview imports host code',
    file: 'webview/attention/boundaryProbe.ts',
    source: "import type { RunDataSource } from '../../src/host/panels/dashboardPanel';\nexport type R = RunDataSource;\n",
    says: /Webview code never imports host, engine or run-store code/,
  },
  { what: 'a webview imports the engine', file: 'webview/live/boundaryProbe.ts', source: "import '../../src/engine/engine';\n", says: /Webview code never imports host, engine or run-store code/ },
  { what: 'a webview imports the run store', file: 'webview/boundaryProbe.ts', source: "import '../src/runs/reader';\n", says: /Webview code never imports host, engine or run-store code/ },
  {
    what: 'host code imports webview code',
    file: 'src/host/boundaryProbe.ts',
    source: "import { buildMetricsCsv } from '../../webview/common/csv';\nexport const csv = buildMetricsCsv;\n",
    says: /Extension code never imports webview code/,
  },
  {
    what: 'a host panel re-exports webview code',
    file: 'src/host/panels/boundaryProbe.ts',
    source: "export * from '../../../webview/common/csv';\n",
    says: /Extension code never imports webview code/,
  },
  { what: 'core imports webview code', file: 'src/core/boundaryProbe.ts', source: "import '../../webview/common/csv';\n", says: /Extension code never imports webview code/ },
  { what: 'the host imports tfjs', file: 'src/host/boundaryProbe.ts', source: "import * as tf from '@tensorflow/tfjs';\nexport const t = tf;\n", says: /never imports TensorFlow\.js/ },
  { what: 'extension.ts imports tfjs', file: 'src/extension.ts', source: "import '@tensorflow/tfjs-backend-wasm';\n", says: /never imports TensorFlow\.js/ },
  { what: 'shared imports tfjs', file: 'src/shared/boundaryProbe.ts', source: "import type { Tensor } from '@tensorflow/tfjs';\nexport type T = Tensor;\n", says: /never imports TensorFlow\.js/ },
  { what: 'protocol imports tfjs', file: 'src/protocol/boundaryProbe.ts', source: "import '@tensorflow/tfjs';\n", says: /never imports TensorFlow\.js/ },
  { what: 'a webview imports tfjs', file: 'webview/posterior/boundaryProbe.ts', source: "import '@tensorflow/tfjs';\n", says: /never imports TensorFlow\.js/ },
  { what: 'a lab manifest imports tfjs', file: 'src/core/boundaryProbe/manifest.ts', source: "import * as tf from '@tensorflow/tfjs';\nexport const t = tf;\n", says: /A lab manifest trains nothing/ },
];

for (const { what, file, source, says } of violations) {
  test(`lint boundary: ${what} is reported`, async () => {
    const messages = await boundaryMessages(file, source);
    assert.equal(messages.length, 1, `${file}: ${JSON.stringify(messages)}`);
    assert.match(messages[0], says);
  });
}

test('lint boundary: each layer may import what it is meant to', async () => {
  const allowed: { file: string; source: string }[] = [
    { file: 'src/host/boundaryProbe.ts', source: "import * as vscode from 'vscode';\nimport type { RunSummary } from '../protocol';\nexport const v: [typeof vscode, RunSummary?] = [vscode];\n" },
    { file: 'src/host/boundaryProbe.ts', source: "import { buildWebviewHtml } from './webviewHtml';\nexport const b = buildWebviewHtml;\n" },
    { file: 'src/core/boundaryProbe.ts', source: "import * as tf from '@tensorflow/tfjs';\nexport const t = tf;\n" },
    { file: 'src/engine/boundaryProbe.ts', source: "import * as tf from '@tensorflow/tfjs';\nexport const t = tf;\n" },
    { file: 'webview/dashboard/boundaryProbe.ts', source: "import type { RunSummary } from '../../src/protocol';\nexport type R = RunSummary;\n" },
    { file: 'webview/dashboard/boundaryProbe.ts', source: "import { buildMetricsCsv } from '../../src/shared/csv';\nexport const csv = buildMetricsCsv;\n" },
    { file: 'src/core/boundaryProbe/manifest.ts', source: "import type { RunSummary } from '../../protocol';\nexport type R = RunSummary;\n" },
  ];
  for (const { file, source } of allowed) assert.deepEqual(await boundaryMessages(file, source), [], `${file}: ${source}`);
});
