// ESLint (flat config): the recommended JavaScript and typescript-eslint rules (no stylistic
// ones), and the import boundaries between the layers (README "Development", issue 19):
//   - `vscode` only in the extension host: never in core, engine, app, runs, shared, protocol, the
//     CLI or a webview;
//   - host code and webview code never import each other (nor does a webview import the engine
//     or the run store, which need Node): what both sides need lives in src/shared or src/protocol;
//   - TensorFlow.js never in the host, the launch path (src/app), shared, protocol, a webview or a
//     lab's manifest, so the extension bundle carries no tfjs and reading a spec loads no model.
// `npm run lint` runs it, and `npm test` runs that first. test/unit/lintBoundaries.test.ts checks
// that a deliberate violation of each boundary is reported.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

// The boundaries, as settings of the core rule `no-restricted-imports`. It matches the import
// specifier as written, so a folder is named by the relative path that reaches it from the
// other side: a path that climbs to the repository root, then enters that folder.
const BOUNDARY = '(issue 19 import boundaries)';
const noVscode = (who) => ({
  paths: [{ name: 'vscode', message: `${who} runs outside the extension host: it never imports 'vscode' ${BOUNDARY}.` }],
});
const noTfjs = (who) => ({
  patterns: [{ regex: '^@tensorflow/', message: `${who} trains nothing: it never imports TensorFlow.js ${BOUNDARY}.` }],
});
const noWebview = {
  patterns: [{ regex: '^(\\.\\./)+webview(/|$)', message: `Extension code never imports webview code: share it through src/shared or src/protocol ${BOUNDARY}.` }],
};
// The extension side runs in Node (and the host in VS Code's); a page runs in a browser.
const noExtensionSide = {
  patterns: [
    {
      regex: '^(\\.\\./)+src/(host|engine|runs|extension|cli)(/|$)',
      message: `Webview code never imports host, engine or run-store code: share it through src/shared or src/protocol ${BOUNDARY}.`,
    },
  ],
};

/**
 * One `no-restricted-imports` setting made of several restrictions. For a given file ESLint keeps
 * only the last matching setting of a rule (they are not merged), so each entry below lists every
 * restriction that applies to its files.
 */
function restrict(files, ...restrictions) {
  const paths = restrictions.flatMap((restriction) => restriction.paths ?? []);
  const patterns = restrictions.flatMap((restriction) => restriction.patterns ?? []);
  return { files, rules: { 'no-restricted-imports': ['error', { paths, patterns }] } };
}

export default defineConfig(
  { ignores: ['dist/**', 'dist-vsix/**', '.cache/**', 'test-results/**', '.model-lab/**'] },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2022, sourceType: 'module', globals: globals.node },
    rules: {
      // The TypeScript convention (tsconfig's noUnused*): a leading underscore marks "unused on purpose".
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' },
      ],
      // A command handler takes whatever arguments its menu passes: `(...args: any[])` is its type.
      '@typescript-eslint/no-explicit-any': ['error', { ignoreRestArgs: true }],
      // `Notification<{}>`: a message without parameters (src/protocol).
      '@typescript-eslint/no-empty-object-type': ['error', { allowObjectTypes: 'always' }],
      // Stylistic: `/  - and/` reads better than `/ {2}- and/`.
      'no-regex-spaces': 'off',
    },
  },
  {
    // Tests and benches read JSON of any shape and reach into tensors' nested arrays.
    files: ['test/**', 'bench/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // Worker fixtures are plain CommonJS, loaded as they are by worker_threads.
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // Its page.evaluate callbacks run in the browser.
    files: ['bench/render.mjs'],
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
  },

  // Boundaries: the later entry wins for a file, so the most specific folders come last.
  restrict(['src/**/*.ts'], noWebview),
  restrict(['src/cli.ts'], noWebview, noVscode('The CLI')),
  restrict(['src/core/**/*.ts'], noWebview, noVscode('src/core')),
  restrict(['src/engine/**/*.ts'], noWebview, noVscode('src/engine')),
  restrict(['src/app/**/*.ts'], noWebview, noVscode('src/app (shared by the CLI and the extension)')),
  restrict(['src/app/**/*.ts'], noWebview, noVscode('src/app'), noTfjs('src/app')),
  restrict(['src/runs/**/*.ts'], noWebview, noVscode('src/runs')),
  restrict(['src/shared/**/*.ts'], noWebview, noVscode('src/shared'), noTfjs('src/shared')),
  restrict(['src/protocol/**/*.ts'], noWebview, noVscode('src/protocol'), noTfjs('src/protocol')),
  restrict(['src/host/**/*.ts', 'src/extension.ts'], noWebview, noTfjs('The extension host')),
  restrict(['src/core/**/manifest.ts'], noWebview, noVscode('A lab manifest'), noTfjs('A lab manifest')),
  restrict(['webview/**/*.ts'], noExtensionSide, noVscode('Webview code'), noTfjs('Webview code')),
);
