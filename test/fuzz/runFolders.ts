/**
 * Fuzz target: run folders. Each case takes the small real run the CLI trained (seedRun.ts), with
 * the owner lock a live or killed owner leaves in it, and damages one entry of it: a file truncated, overwritten with random bytes, appended to, emptied,
 * grown to gigabytes (sparse), deleted, or replaced by a folder; one JSON field (or one field of one
 * metrics line) replaced by a hostile value or removed; a checkpoint manifest's file name pointed
 * elsewhere; or a file or folder replaced by a symlink (to a valid copy outside the run, to
 * /dev/zero, to a folder, to nothing). Then every reader runs on it: readRun, listRuns, readSpec,
 * readMetrics, checkpointSource(...).steps() and .load(step) for every step.
 *
 * Each reader must return a valid result or throw a located error (naming the run folder's path).
 * Stricter for what would leak data from outside the run (a symlink to a valid outside copy, a
 * manifest path climbing out): the reader of that entry must refuse it.
 *
 * A damaged checkpoint file has its sha256 in checkpoint.json rewritten to match in half the cases
 * (as a deliberate edit would), so the readers behind the hash check are fuzzed too. One working
 * copy is damaged and restored per case (copying the whole run per case would cost more than the
 * readers).
 */
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import type { Checkpoint } from '../../src/core/sink';
import { acquireOwnerLock } from '../../src/runs/ownership';
import { checkpointSource } from '../../src/runs/checkpointSource';
import { listRuns, readMetrics, readRun, readSpec } from '../../src/runs/reader';
import { hostileText, hostileValue, logSize, pointerOf, slotsOf, spliceRaw, type Hostile, type Slot } from './hostileJson';
import { assertLocatedError, assertLocatedText, fail } from './outcomes';
import type { FuzzTarget, SetupContext } from './target';

interface Entry {
  /** Path inside the run folder, with '/' separators. */
  relative: string;
  isFolder: boolean;
  /** JSON files: the parsed document and its values; metrics.jsonl: one document per line. */
  json?: { documents: unknown[]; slots: { line: number; slot: Slot }[]; lines: boolean };
}

interface State {
  runsDir: string;
  runDir: string;
  pristineDir: string;
  outsideDir: string;
  entries: Entry[];
}

type SymlinkTarget = 'outside-copy' | 'dev-zero' | 'outside-folder' | 'nowhere' | 'itself';
type ManifestPath = 'climb-out' | 'absolute' | 'dev-zero' | 'other-group' | 'empty' | 'dot' | 'nested' | 'long';

/** `rehash`: a damaged checkpoint file gets its sha256 in checkpoint.json rewritten to match, as a
 *  deliberate edit would, so that the readers behind the hash check are reached too. */
type Fault = Damage & { rehash: boolean };

type Damage =
  | { kind: 'truncate'; entry: number; keep: number }
  | { kind: 'overwrite'; entry: number; at: number; bytes: number[] }
  | { kind: 'append'; entry: number; text: 'garbage' | 'json-line' | 'nul' | 'no-newline' }
  | { kind: 'empty'; entry: number }
  | { kind: 'sparse'; entry: number; megabytes: number }
  | { kind: 'delete'; entry: number }
  | { kind: 'folder'; entry: number }
  | { kind: 'json-field'; entry: number; slot: number; hostile: Hostile }
  | { kind: 'json-remove'; entry: number; slot: number }
  | { kind: 'manifest-path'; entry: number; to: ManifestPath }
  | { kind: 'symlink'; entry: number; to: SymlinkTarget };

const LIMITS = { depth: 100_000, string: 1_000_000, array: 100_000, keys: 20_000 };

function listEntries(runDir: string, relative = ''): Entry[] {
  const entries: Entry[] = [];
  for (const dirent of fs.readdirSync(path.join(runDir, relative), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const rel = relative ? `${relative}/${dirent.name}` : dirent.name;
    if (dirent.isDirectory()) {
      entries.push({ relative: rel, isFolder: true }, ...listEntries(runDir, rel));
      continue;
    }
    const text = fs.readFileSync(path.join(runDir, rel), 'utf8');
    const entry: Entry = { relative: rel, isFolder: false };
    if (rel.endsWith('.jsonl')) {
      const documents = text.split('\n').filter((line) => line.trim() !== '').map((line) => JSON.parse(line) as unknown);
      entry.json = { documents, lines: true, slots: documents.flatMap((d, line) => slotsOf(d, undefined).map((slot) => ({ line, slot }))) };
    } else if (rel.endsWith('.json')) {
      const document = JSON.parse(text) as unknown;
      entry.json = { documents: [document], lines: false, slots: slotsOf(document, undefined).map((slot) => ({ line: 0, slot })) };
    }
    entries.push(entry);
  }
  return entries;
}

async function setup(context: SetupContext): Promise<State> {
  tf.env().set('IS_TEST', true); // silences the "install tfjs-node" banner
  await tf.setBackend('cpu');
  const runId = path.basename(context.seedRun);
  const runsDir = path.join(context.tmp, 'runs');
  const runDir = path.join(runsDir, runId);
  const pristineDir = path.join(context.tmp, 'pristine', runId);
  // Valid copies of every entry outside the run: a reader following a link there would succeed.
  const outsideDir = path.join(context.tmp, 'outside');
  fs.cpSync(context.seedRun, pristineDir, { recursive: true });
  // The owner lock a live (or killed) owner leaves in its run: fuzzed like every other entry.
  acquireOwnerLock(pristineDir);
  for (const dir of [runDir, outsideDir]) fs.cpSync(pristineDir, dir, { recursive: true });
  fs.mkdirSync(path.join(outsideDir, 'a-folder'));
  return { runsDir, runDir, pristineDir, outsideDir, entries: listEntries(pristineDir) };
}

function cases(): fc.Arbitrary<Fault> {
  const entry = fc.nat();
  const hostile = hostileValue(LIMITS);
  const damage: fc.Arbitrary<Damage> = fc.oneof(
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('truncate' as const), entry, keep: fc.double({ min: 0, max: 1, noNaN: true }) }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('overwrite' as const), entry, at: fc.double({ min: 0, max: 1, noNaN: true }), bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 16 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('append' as const), entry, text: fc.constantFrom('garbage' as const, 'json-line' as const, 'nul' as const, 'no-newline' as const) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('empty' as const), entry }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('sparse' as const), entry, megabytes: logSize(4096) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete' as const), entry }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('folder' as const), entry }) },
    { weight: 8, arbitrary: fc.record({ kind: fc.constant('json-field' as const), entry, slot: fc.nat(), hostile }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('json-remove' as const), entry, slot: fc.nat() }) },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('manifest-path' as const),
        entry,
        to: fc.constantFrom<ManifestPath>('climb-out', 'absolute', 'dev-zero', 'other-group', 'empty', 'dot', 'nested', 'long'),
      }),
    },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('symlink' as const), entry, to: fc.constantFrom<SymlinkTarget>('outside-copy', 'dev-zero', 'outside-folder', 'nowhere', 'itself') }) },
  );
  return fc.tuple(damage, fc.boolean()).map(([d, rehash]) => ({ ...d, rehash }));
}

/** The checkpoint.json beside a damaged checkpoint file, when the damage should be rehashed. */
function rehashTarget(fault: Fault, entry: Entry): string | undefined {
  const match = /^(checkpoints\/step-\d+)\/([^/]+)$/.exec(entry.relative);
  return fault.rehash && match && match[2] !== 'checkpoint.json' ? `${match[1]}/checkpoint.json` : undefined;
}

/** Rewrites the sha256 of the damaged file in its checkpoint.json (when it is still a regular file). */
function rehash(state: State, infoRelative: string, entry: Entry): void {
  const file = path.join(state.runDir, entry.relative);
  const stats = fs.lstatSync(file, { throwIfNoEntry: false });
  if (!stats?.isFile() || stats.size > 64 * 2 ** 20) return;
  const infoFile = path.join(state.runDir, infoRelative);
  const info = JSON.parse(fs.readFileSync(infoFile, 'utf8')) as { sha256?: Record<string, string> };
  if (!info.sha256) return;
  info.sha256[path.basename(entry.relative)] = crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
  fs.writeFileSync(infoFile, JSON.stringify(info, null, 2));
}

/** The entries a fault can apply to, and the one it picks. */
function entryOf(state: State, fault: Fault): Entry {
  const candidates = state.entries.filter((e) => {
    switch (fault.kind) {
      case 'delete':
      case 'symlink':
        return true;
      case 'json-field':
      case 'json-remove':
        return e.json !== undefined && e.json.slots.length > 0;
      case 'manifest-path':
        return /(weights|optimizer)\.json$/.test(e.relative);
      default:
        return !e.isFolder;
    }
  });
  return candidates[fault.entry % candidates.length];
}

/** metrics.jsonl lines are compact JSON; other files as the run store writes them. */
function documentText(entry: Entry, line: number, text: string): string {
  const json = entry.json!;
  if (!json.lines) return text;
  return json.documents.map((d, i) => (i === line ? text.replace(/\n\s*/g, '') : JSON.stringify(d))).join('\n') + '\n';
}

const MANIFEST_PATHS = (state: State, entry: Entry): Record<ManifestPath, string> => {
  const group = path.basename(entry.relative, '.json');
  return {
    'climb-out': path.relative(path.dirname(path.join(state.runDir, entry.relative)), path.join(state.outsideDir, path.dirname(entry.relative), `${group}.bin`)),
    absolute: path.join(state.outsideDir, path.dirname(entry.relative), `${group}.bin`),
    'dev-zero': '/dev/zero',
    'other-group': group === 'weights' ? 'optimizer.bin' : 'weights.bin',
    empty: '',
    dot: '.',
    nested: `./${group}.bin`,
    long: `${'w'.repeat(5000)}.bin`,
  };
};

/** Damages the working copy as `fault` says; returns the damaged entry. */
function applyFault(state: State, fault: Fault): Entry {
  const entry = entryOf(state, fault);
  const file = path.join(state.runDir, entry.relative);
  const original = entry.isFolder ? Buffer.alloc(0) : fs.readFileSync(path.join(state.pristineDir, entry.relative));
  switch (fault.kind) {
    case 'truncate':
      fs.truncateSync(file, Math.floor(original.length * fault.keep));
      break;
    case 'overwrite': {
      const bytes = Buffer.from(original);
      const at = Math.floor(bytes.length * fault.at);
      fault.bytes.forEach((b, i) => at + i < bytes.length && (bytes[at + i] = b));
      fs.writeFileSync(file, bytes);
      break;
    }
    case 'append':
      fs.appendFileSync(file, { garbage: 'garbage}{"', 'json-line': '{"step": 3, "time": 1, "values": {}}\n', nul: '\0\0\0\0', 'no-newline': '{"step": 9' }[fault.text]);
      break;
    case 'empty':
      fs.writeFileSync(file, '');
      break;
    case 'sparse':
      fs.truncateSync(file, fault.megabytes * 2 ** 20);
      break;
    case 'delete':
      fs.rmSync(file, { recursive: true, force: true });
      break;
    case 'folder':
      fs.rmSync(file);
      fs.mkdirSync(file);
      break;
    case 'json-field':
    case 'json-remove': {
      const { line, slot } = entry.json!.slots[fault.slot % entry.json!.slots.length];
      const raw = fault.kind === 'json-field' ? hostileText(fault.hostile, undefined, slot.value) : undefined;
      fs.writeFileSync(file, documentText(entry, line, spliceRaw(entry.json!.documents[line], slot.path, raw === undefined ? {} : { raw })));
      break;
    }
    case 'manifest-path': {
      const manifest = entry.json!.documents[0];
      fs.writeFileSync(file, spliceRaw(manifest, ['weightsManifest', 0, 'paths', 0], { raw: JSON.stringify(MANIFEST_PATHS(state, entry)[fault.to]) }));
      break;
    }
    case 'symlink': {
      const targets: Record<SymlinkTarget, string> = {
        'outside-copy': path.join(state.outsideDir, entry.relative),
        'dev-zero': '/dev/zero',
        'outside-folder': path.join(state.outsideDir, 'a-folder'),
        nowhere: path.join(state.outsideDir, 'nothing-here'),
        itself: file,
      };
      fs.rmSync(file, { recursive: true, force: true });
      fs.symlinkSync(targets[fault.to], file);
      break;
    }
  }
  return entry;
}

function restore(state: State, fault: Fault, entry: Entry): void {
  const file = path.join(state.runDir, entry.relative);
  const pristine = path.join(state.pristineDir, entry.relative);
  if (['delete', 'folder', 'symlink', 'sparse'].includes(fault.kind) || entry.isFolder) {
    fs.rmSync(file, { recursive: true, force: true });
    fs.cpSync(pristine, file, { recursive: true });
  } else {
    fs.writeFileSync(file, fs.readFileSync(pristine)); // the same regular file, rewritten
  }
}

/** Faults that would hand a reader valid data from outside the run if it followed them. */
function leaksOutside(fault: Fault): boolean {
  return (fault.kind === 'symlink' && fault.to === 'outside-copy') || (fault.kind === 'manifest-path' && (fault.to === 'climb-out' || fault.to === 'absolute'));
}

const RUN_STATES = ['queued', 'running', 'completed', 'cancelled', 'failed', 'interrupted'];
const isCount = (n: unknown) => Number.isSafeInteger(n) && (n as number) >= 0;

function assertSummary(summary: ReturnType<typeof readRun>, what: string): void {
  const problems = [
    typeof summary.id !== 'string' && 'id',
    typeof summary.name !== 'string' && 'name',
    !RUN_STATES.includes(summary.state) && 'state',
    !isCount(summary.step) && 'step',
    !isCount(summary.totalSteps) && 'totalSteps',
    typeof summary.createdAt !== 'string' && 'createdAt',
    !(Array.isArray(summary.tags) && summary.tags.every((t) => typeof t === 'string')) && 'tags',
    summary.error !== undefined && typeof summary.error !== 'string' && 'error',
  ].filter(Boolean);
  if (problems.length > 0) fail(`${what} returned a summary with bad fields`, `${problems.join(', ')}: ${JSON.stringify(summary).slice(0, 400)}`);
  // A broken folder is a summary in state 'failed' whose error says which files are wrong.
  if (summary.error?.startsWith('Broken run folder')) assertLocatedText(summary.error, RUN_FILES, `${what}'s error`);
  else if (summary.error !== undefined) assertLocatedText(summary.error, [''], `${what}'s error`);
}

const RUN_FILES = ['run.json', 'status.json', 'spec.json', 'metrics.jsonl', 'environment.json', 'owner'];

async function check(state: State, fault: Fault): Promise<void> {
  const entry = applyFault(state, fault);
  const info = rehashTarget(fault, entry);
  try {
    if (info) rehash(state, info, entry);
    await readEverything(state, fault, entry);
  } finally {
    restore(state, fault, entry);
    if (info) fs.copyFileSync(path.join(state.pristineDir, info), path.join(state.runDir, info));
  }
}

/**
 * Runs the readers of the damaged entry; each must give a valid result or a located error. The
 * files of the run folder itself go to every reader but the checkpoint loader; a checkpoint's
 * files to the step listing and that checkpoint's loader. (Readers of untouched files would only
 * read the pristine run again.)
 */
async function readEverything(state: State, fault: Fault, entry: Entry): Promise<void> {
  const { runDir } = state;
  const leak = leaksOutside(fault);
  const reads = (prefix: string) => entry.relative === prefix || entry.relative.startsWith(`${prefix}/`);
  const attempt = async <T>(what: string, read: () => T | Promise<T>, mustRefuse: boolean): Promise<T | undefined> => {
    let value: T;
    try {
      value = await read();
    } catch (error) {
      assertLocatedError(error, [runDir], `${what} after ${describe(state, fault)}`);
      return undefined;
    }
    if (mustRefuse) fail(`${what} read data from outside the run folder`, describe(state, fault));
    return value;
  };

  const inCheckpoints = reads('checkpoints');
  if (!inCheckpoints) {
    const summary = await attempt('readRun', () => readRun(runDir), false);
    if (summary) {
      assertSummary(summary, 'readRun');
      if (leak && (reads('run.json') || reads('status.json')) && !(summary.state === 'failed' && summary.error?.includes(path.basename(entry.relative)))) {
        fail('readRun read data from outside the run folder', `${describe(state, fault)}: ${JSON.stringify(summary).slice(0, 300)}`);
      }
    }
    const listed = await attempt('listRuns', () => listRuns(state.runsDir), false);
    for (const run of listed ?? []) assertSummary(run, 'listRuns');
    await attempt('readSpec', () => readSpec(runDir), leak && reads('spec.json'));
    const metrics = await attempt('readMetrics', () => readMetrics(runDir), leak && reads('metrics.jsonl'));
    if (metrics && !(isCount(metrics.nextOffset) && metrics.records.every((r) => isCount(r.step) && typeof r.time === 'number' && Object.values(r.values).every((v) => typeof v === 'number')))) {
      fail('readMetrics returned bad records', JSON.stringify(metrics).slice(0, 300));
    }
  }

  const source = checkpointSource(runDir);
  const steps = await attempt('checkpoint steps', () => source.steps(), false);
  if (steps && !steps.every((s, i) => isCount(s) && (i === 0 || s > steps[i - 1]))) fail('steps() returned bad steps', JSON.stringify(steps));
  if (!inCheckpoints) return;
  for (const step of steps ?? []) {
    const folder = `checkpoints/step-${String(step).padStart(8, '0')}`;
    if (entry.relative !== 'checkpoints' && !reads(folder)) continue;
    const checkpoint = await attempt(`loading the checkpoint of step ${step}`, () => source.load(step), leak);
    if (checkpoint) assertCheckpoint(checkpoint, step);
  }
}

function assertCheckpoint(checkpoint: Checkpoint, step: number): void {
  const tensors = [...checkpoint.weights, ...checkpoint.optimizer];
  try {
    if (checkpoint.step !== step) fail('a checkpoint loaded with the wrong step', `${checkpoint.step} instead of ${step}`);
    for (const { name, tensor } of tensors) {
      if (typeof name !== 'string' || !(tensor instanceof tf.Tensor)) fail('a checkpoint loaded with a bad tensor', String(name));
    }
  } finally {
    tf.dispose(tensors.map((t) => t.tensor).filter((t) => t instanceof tf.Tensor));
  }
}

function describe(state: State, fault: Fault): string {
  const entry = entryOf(state, fault);
  const detail = (() => {
    switch (fault.kind) {
      case 'json-field':
      case 'json-remove': {
        const { line, slot } = entry.json!.slots[fault.slot % entry.json!.slots.length];
        const where = `${entry.json!.lines ? `line ${line + 1} ` : ''}${pointerOf(slot.path)}`;
        return fault.kind === 'json-field' ? `${where} = ${JSON.stringify(fault.hostile)}` : `${where} removed`;
      }
      case 'symlink':
      case 'manifest-path':
        return `-> ${fault.to}`;
      case 'truncate':
        return `to ${Math.round(fault.keep * 100)}%`;
      case 'sparse':
        return `to ${fault.megabytes} MB`;
      default:
        return '';
    }
  })();
  const rehashed = rehashTarget(fault, entry) ? ' (sha256 rewritten to match)' : '';
  return `${fault.kind} ${entry.relative}${entry.isFolder ? '/' : ''} ${detail}${rehashed}`.replace(/ +/g, ' ').trim();
}

export const runFolders: FuzzTarget<State, Fault> = { name: 'run-folders', setup, cases, check, describe };
