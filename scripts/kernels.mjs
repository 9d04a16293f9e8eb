// Model Lab's wasm kernels: C sources in src/kernels/, their committed builds in
// src/kernels/prebuilt/, and the copies in dist/ that the extension loads.
//
// The committed builds are what a machine without a C compiler gets (npm install && npm run demo
// needs no clang). They are only trusted because they are reproducible: compiled with one pinned
// compiler, Debian 12's clang 14.0.6 and lld 14.0.6, with fixed flags, the bytes do not depend on
// the machine or the folder, so CI compiles them again and fails on any difference.
//
//   node scripts/kernels.mjs update   compile into src/kernels/prebuilt/ (npm run kernels:update)
//   node scripts/kernels.mjs check    compile into a temp folder and compare (npm run kernels:check)
//
// scripts/build.mjs calls installKernels(dist), scripts/package.mjs calls missingKernels(dist).
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const sources = join(root, 'src/kernels');
export const PREBUILT = join(root, 'src/kernels/prebuilt');

/**
 * Each kernel: its source in src/kernels, its module in dist/, and what runs without it, from the
 * kernel table (src/core/kernels/kernels.json, which src/core/kernels/index.ts reads too).
 */
export const KERNELS = JSON.parse(readFileSync(join(root, 'src/core/kernels/kernels.json'), 'utf8')).map(({ id, source, fallback }) => ({ source, output: `${id}.wasm`, fallback }));

/** The one compiler the committed binaries come from: its version is written into every module. */
export const PINNED = { clang: 'Debian clang version 14.0.6', lld: 'Debian LLD 14.0.6' };
const INSTALL_HINT = 'on Debian 12: apt-get install clang-14 lld-14';

/**
 * The pinned clang and wasm-ld on the PATH ({ clang, wasmLd }), or why there are none ({ problem }).
 * clang-14 first: a machine whose default clang is newer may still have Debian's 14 beside it.
 */
export function findCompiler() {
  const versionOf = (tool) => {
    try {
      return execFileSync(tool, ['--version'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n')[0].trim();
    } catch {
      return undefined;
    }
  };
  const found = [];
  for (const [clang, wasmLd] of [['clang-14', 'wasm-ld-14'], ['clang', 'wasm-ld']]) {
    const clangVersion = versionOf(clang);
    const lldVersion = versionOf(wasmLd);
    if (clangVersion?.startsWith(PINNED.clang) && lldVersion?.startsWith(PINNED.lld)) return { clang, wasmLd };
    if (clangVersion || lldVersion) found.push(`${clang}: ${clangVersion ?? 'not found'}, ${wasmLd}: ${lldVersion ?? 'not found'}`);
  }
  if (found.length === 0) return { problem: 'no clang and wasm-ld on the PATH' };
  return { problem: `the kernels are pinned to ${PINNED.clang} and ${PINNED.lld}, found ${found.join('; ')}` };
}

/** Compiles every kernel into `outDir` with the pinned compiler; a compile error throws. */
export function compileKernels(outDir, { clang, wasmLd }) {
  mkdirSync(outDir, { recursive: true });
  const objects = mkdtempSync(join(tmpdir(), 'model-lab-kernels-'));
  try {
    for (const { source, output } of KERNELS) {
      const object = join(objects, `${source}.o`);
      // -fno-builtin: without a libc, loops must not become calls to memset/memcpy.
      execFileSync(clang, ['--target=wasm32', '-nostdlib', '-O3', '-msimd128', '-fno-builtin', '-c', '-o', object, join(sources, source)], { stdio: 'inherit' });
      assertHeapFree(source, object);
      // The module imports tfjs's memory (src/core/kernels/wasmModule.ts): it computes on the tensors where they are.
      execFileSync(wasmLd, ['--no-entry', '--export-dynamic', '--import-memory', '-o', join(outDir, output), object], { stdio: 'inherit' });
    }
  } finally {
    rmSync(objects, { recursive: true, force: true });
  }
}

/**
 * A kernel runs inside tfjs's heap, where wasm-ld's stack and static data would overwrite tfjs's
 * own (wasm-ld lays them out from address 1024): its object may use neither. Each shows up in the
 * object's symbol table, as `__stack_pointer` or as a data segment.
 */
function assertHeapFree(source, object) {
  const text = readFileSync(object).toString('latin1');
  const uses = [['__stack_pointer', 'the stack (a local array, or a struct whose address is taken)'], ['.rodata', 'constant data (a lookup table)'], ['.data', 'static data'], ['.bss', 'static data']]
    .filter(([symbol]) => text.includes(symbol)).map(([, what]) => what);
  if (uses.length > 0) throw new Error(`src/kernels/${source} uses ${uses.join(' and ')}; kernels run in tfjs's heap and may only touch the memory their caller passes in`);
}

/** The kernel modules of `dir` that differ from (or are missing beside) those of src/kernels/prebuilt. */
function differFromPrebuilt(dir) {
  const same = (output) => existsSync(join(dir, output)) && existsSync(join(PREBUILT, output)) && readFileSync(join(dir, output)).equals(readFileSync(join(PREBUILT, output)));
  return KERNELS.map(({ output }) => output).filter((output) => !same(output));
}

/**
 * Puts the kernels into dist/ for the build: compiled when the pinned compiler is installed
 * (so a changed .c takes effect at once), otherwise copied from src/kernels/prebuilt. Returns the
 * one line the build prints about them.
 */
export function installKernels(dist) {
  const compiler = findCompiler();
  if (compiler.clang) {
    compileKernels(dist, compiler);
    const stale = differFromPrebuilt(dist);
    if (stale.length === 0) return `kernels: ${KERNELS.length} of ${KERNELS.length} compiled with ${compiler.clang} (identical to src/kernels/prebuilt)`;
    return `kernels: ${KERNELS.length} of ${KERNELS.length} compiled with ${compiler.clang}; ${stale.join(', ')} differ from src/kernels/prebuilt: run npm run kernels:update and commit them (CI fails until then)`;
  }
  const missing = [];
  for (const { output, fallback } of KERNELS) {
    if (existsSync(join(PREBUILT, output))) {
      copyFileSync(join(PREBUILT, output), join(dist, output));
    } else {
      rmSync(join(dist, output), { force: true });
      missing.push(`${output} (${fallback} instead)`);
    }
  }
  const copied = KERNELS.length - missing.length;
  const line = `kernels: ${copied} of ${KERNELS.length} copied from src/kernels/prebuilt (not compiled: ${compiler.problem})`;
  return missing.length === 0 ? line : `${line}; MISSING ${missing.join(', ')}: restore src/kernels/prebuilt (git checkout) or run npm run kernels:update (${INSTALL_HINT})`;
}

/** The kernel modules missing from `dist` (npm run package refuses to ship without them). */
export function missingKernels(dist) {
  return KERNELS.map(({ output }) => output).filter((output) => !existsSync(join(dist, output)));
}

function requireCompiler() {
  const compiler = findCompiler();
  if (compiler.clang) return compiler;
  console.error(`kernels: cannot compile: ${compiler.problem} (${INSTALL_HINT})`);
  process.exit(1);
}

function update() {
  const compiler = requireCompiler();
  // Compile elsewhere first: a failed compile must not leave the committed set half-replaced.
  const temp = mkdtempSync(join(tmpdir(), 'model-lab-prebuilt-'));
  try {
    compileKernels(temp, compiler);
    mkdirSync(PREBUILT, { recursive: true });
    const changed = differFromPrebuilt(temp);
    for (const { output } of KERNELS) {
      copyFileSync(join(temp, output), join(PREBUILT, output));
      chmodSync(join(PREBUILT, output), 0o644); // wasm-ld marks its output executable; it is data
    }
    console.log(changed.length === 0 ? 'kernels: src/kernels/prebuilt is up to date' : `kernels: updated ${changed.join(', ')} in src/kernels/prebuilt: commit them with their sources`);
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}

function check() {
  const compiler = requireCompiler();
  const temp = mkdtempSync(join(tmpdir(), 'model-lab-kernels-check-'));
  try {
    compileKernels(temp, compiler);
    const expected = new Set(KERNELS.map(({ output }) => output));
    const stray = readdirSync(PREBUILT).filter((file) => !expected.has(file) && file.endsWith('.wasm'));
    const differing = differFromPrebuilt(temp);
    if (differing.length > 0 || stray.length > 0) {
      if (differing.length > 0) console.error(`kernels: ${differing.join(', ')} in ${relative(root, PREBUILT)} differ from a fresh build of src/kernels/*.c with ${compiler.clang}`);
      if (stray.length > 0) console.error(`kernels: ${stray.join(', ')} in ${relative(root, PREBUILT)} belong to no kernel in src/core/kernels/kernels.json`);
      console.error(`fix: npm run kernels:update (${INSTALL_HINT}) and commit src/kernels/prebuilt`);
      process.exit(1);
    }
    console.log(`kernels: all ${KERNELS.length} in ${relative(root, PREBUILT)} are byte for byte a fresh build with ${compiler.clang} (${PINNED.clang}, ${PINNED.lld})`);
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const command = process.argv[2];
  if (command === 'update') update();
  else if (command === 'check') check();
  else {
    console.error('usage: node scripts/kernels.mjs update|check');
    process.exit(2);
  }
}
