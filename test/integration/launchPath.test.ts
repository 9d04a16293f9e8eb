// Issue 20, item 2: one launch path. The CLI (`model-lab train` and `sweep`) and the extension's
// Train (the training controller, for a run and for a sweep) all go through src/app/launch.ts.
// The launch module is replaced by a spy that records each call and delegates to the real one,
// then both front ends are driven: the extension's controller against a small fake of the
// `vscode` API and a fake engine host, the CLI's commands against a fake Engine. Each must call
// the one launch function (a front end that created its run folder itself would not), the real
// launch must have made the folders, and the extension reads the experiment file once.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import nodeFs from 'node:fs'; // the module object itself, which the read counter patches
import Module, { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import type * as LaunchModule from '../../src/app/launch';
import type * as TrainingModule from '../../src/host/training/training';
import type * as RegistryModule from '../../src/host/runs/runRegistry';
import type * as ValidateModule from '../../src/core/spec/validate';
import type { JobOutcome, TrainingJob } from '../../src/engine/engine';

const root = path.join(__dirname, '..', '..');
// Modules loaded through this, after the spies are in place (a static import would load them first).
const load = createRequire(__filename);

const backend = { name: 'cpu' as const, requested: 'cpu' as const, version: 'test' };

/** A job that has already completed (nothing trains here: launching is what is tested). */
function finishedJob(runDir: string): TrainingJob {
  const done: Promise<JobOutcome> = Promise.resolve({ state: 'completed' });
  return { jobId: `job-${path.basename(runDir)}`, runDir, done, onProgress: () => undefined, cancel: () => undefined };
}

/** Each call of the launch module's functions, in order. */
const launches: { fn: 'launchRun' | 'launchSweep'; specFile: string; runsDir: string }[] = [];
let disposed: () => void = () => undefined;
let tmp: string;
let workspace: string;
let restoreResolve: () => void = () => undefined;

before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'model-lab-launch-path-'));
  workspace = path.join(tmp, 'workspace');
  fs.mkdirSync(workspace);

  // The launch module: a spy around each launch function.
  const launchFile = load.resolve('../../src/app/launch');
  const launch = load(launchFile) as typeof LaunchModule;
  load.cache[launchFile]!.exports = {
    ...launch,
    launchRun: (engine: LaunchModule.LaunchEngine, options: Parameters<typeof launch.launchRun>[1]) => {
      launches.push({ fn: 'launchRun', specFile: options.specFile, runsDir: options.runsDir });
      return launch.launchRun(engine, options);
    },
    launchSweep: (engine: LaunchModule.LaunchEngine, options: Parameters<typeof launch.launchSweep>[1]) => {
      launches.push({ fn: 'launchSweep', specFile: options.specFile, runsDir: options.runsDir });
      return launch.launchSweep(engine, options);
    },
  };

  // The CLI's Engine: no worker threads, jobs that are done at once.
  const engineFile = load.resolve('../../src/engine/engine');
  const engine = load(engineFile) as object;
  class FakeEngine {
    backendInfo = async () => backend;
    startTraining = (runDir: string) => finishedJob(runDir);
    dispose = async () => disposed();
  }
  load.cache[engineFile]!.exports = { ...engine, Engine: FakeEngine };

  // `vscode`, for the extension's side.
  const fakeVscodeFile = path.join(tmp, 'vscode.js');
  const resolver = Module as unknown as { _resolveFilename: (request: string, ...rest: unknown[]) => string };
  const originalResolve = resolver._resolveFilename;
  resolver._resolveFilename = function (request: string, ...rest: unknown[]) {
    return request === 'vscode' ? fakeVscodeFile : originalResolve.call(this, request, ...rest);
  };
  restoreResolve = () => (resolver._resolveFilename = originalResolve);
  const fakeModule = new Module(fakeVscodeFile);
  fakeModule.filename = fakeVscodeFile;
  fakeModule.loaded = true;
  fakeModule.exports = fakeVscode();
  load.cache[fakeVscodeFile] = fakeModule;
});

after(() => {
  restoreResolve();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** What the training controller uses of `vscode`: one trusted workspace folder, messages answered with nothing. */
function fakeVscode() {
  const answer = () => Promise.resolve(undefined);
  return {
    workspace: {
      isTrusted: true,
      textDocuments: [],
      get workspaceFolders() {
        return [{ uri: { scheme: 'file', fsPath: workspace }, name: 'workspace' }];
      },
      getConfiguration: () => ({ get: (key: string) => (key === 'workers' ? 1 : undefined) }),
    },
    window: {
      withProgress: (_options: unknown, task: (progress: unknown, token: unknown) => unknown) =>
        Promise.resolve(task({ report: () => undefined }, { onCancellationRequested: () => ({ dispose: () => undefined }) })),
      showErrorMessage: answer,
      showWarningMessage: answer,
      showInformationMessage: answer,
    },
    commands: { executeCommand: answer },
    ProgressLocation: { Window: 10, Notification: 15 },
  };
}

const experiment = JSON.parse(fs.readFileSync(path.join(root, 'templates', 'retrieval-mha-quick.lab.json'), 'utf8')) as Record<string, unknown>;
const sweep = { formatVersion: 1, kind: 'sweep', name: 'seeds', base: { ...experiment, formatVersion: undefined, kind: undefined, name: undefined }, grid: { '/seed': [0, 1] } };

function writeJson(file: string, value: unknown): string {
  fs.writeFileSync(file, JSON.stringify(value, (_key, v: unknown) => v, 2));
  return file;
}

/** How often `file` is opened while `run` runs (every read of a spec goes through fs.openSync). */
async function countOpens(file: string, run: () => Promise<void>): Promise<number> {
  const original = nodeFs.openSync;
  let opens = 0;
  (nodeFs as { openSync: unknown }).openSync = (target: fs.PathLike, ...rest: unknown[]) => {
    if (target === file) opens++;
    return (original as (...args: unknown[]) => number)(target, ...rest);
  };
  try {
    await run();
  } finally {
    (nodeFs as { openSync: unknown }).openSync = original;
  }
  return opens;
}

/** `model-lab <args>` in this process (the CLI runs its argv when loaded), until it disposes its engine. */
async function runCli(args: string[]): Promise<void> {
  const cliFile = load.resolve('../../src/cli');
  delete load.cache[cliFile];
  const engineDisposed = new Promise<void>((resolve) => (disposed = resolve));
  const argv = process.argv;
  const write = { out: process.stdout.write, err: process.stderr.write };
  process.argv = [argv[0], 'model-lab', ...args];
  // The CLI writes strings; the test runner's own reports (serialized, to the parent) are buffers and pass.
  const quiet = (stream: NodeJS.WriteStream, original: typeof process.stdout.write) =>
    ((chunk: unknown, ...rest: unknown[]) => (typeof chunk === 'string' ? true : (original as (...args: unknown[]) => boolean).call(stream, chunk, ...rest))) as typeof process.stdout.write;
  process.stdout.write = quiet(process.stdout, write.out);
  process.stderr.write = quiet(process.stderr, write.err);
  try {
    load(cliFile);
    await engineDisposed;
    await new Promise((resolve) => setImmediate(resolve)); // the last lines after dispose
  } finally {
    process.argv = argv;
    process.stdout.write = write.out;
    process.stderr.write = write.err;
  }
  assert.ok(!process.exitCode, `model-lab ${args.join(' ')} exited ${process.exitCode}`);
  process.exitCode = undefined;
}

function controller(): { controller: TrainingModule.TrainingController; registry: RegistryModule.RunRegistry } {
  const { TrainingController } = load('../../src/host/training/training') as typeof TrainingModule;
  const { RunRegistry } = load('../../src/host/runs/runRegistry') as typeof RegistryModule;
  const { sweepFromText } = load('../../src/core/spec/validate') as typeof ValidateModule;
  const registry = new RunRegistry({ pollIntervalMs: 0 });
  const engineHost = {
    backendInfo: async () => backend,
    startTraining: (runDir: string) => finishedJob(runDir),
    expandSweep: async (file: string, text: string) => sweepFromText(text, file),
  };
  const problems: unknown[] = [];
  const deps = {
    engineHost,
    registry,
    diagnostics: { showSpecError: async (error: unknown) => void problems.push(error) },
    log: () => undefined,
  } as unknown as ConstructorParameters<typeof TrainingController>[0];
  return { controller: new TrainingController(deps), registry };
}

const runsIn = (dir: string) => (fs.existsSync(dir) ? fs.readdirSync(dir).filter((name) => !name.startsWith('.')) : []);

test('the CLI and the extension launch a run through the same function, and the extension reads the file once', async () => {
  const specFile = writeJson(path.join(workspace, 'quick.lab.json'), experiment);
  const { controller: training, registry } = controller();
  try {
    launches.length = 0;
    const opens = await countOpens(specFile, () => training.train({ fsPath: specFile } as never));
    const extensionRunsDir = path.join(workspace, '.model-lab', 'runs');
    assert.deepEqual(launches, [{ fn: 'launchRun', specFile, runsDir: extensionRunsDir }], 'the extension\'s Train calls launchRun');
    assert.equal(opens, 1, 'the experiment file is read once');
    assert.equal(runsIn(extensionRunsDir).length, 1, 'the real launch created the run folder');

    launches.length = 0;
    const cliRunsDir = path.join(tmp, 'cli-runs');
    await runCli(['train', specFile, '--out', cliRunsDir]);
    assert.deepEqual(launches, [{ fn: 'launchRun', specFile, runsDir: cliRunsDir }], '`model-lab train` calls launchRun');
    assert.equal(runsIn(cliRunsDir).length, 1);

    const specOf = (dir: string) => fs.readFileSync(path.join(dir, runsIn(dir)[0], 'spec.json'), 'utf8');
    assert.equal(specOf(cliRunsDir), specOf(extensionRunsDir), 'the same resolved spec either way');
  } finally {
    registry.dispose();
  }
});

test('the CLI and the extension launch a sweep through the same function', async () => {
  const sweepFile = writeJson(path.join(workspace, 'seeds.lab.json'), sweep);
  const { controller: training, registry } = controller();
  try {
    launches.length = 0;
    const opens = await countOpens(sweepFile, () => training.train({ fsPath: sweepFile } as never));
    const extensionRunsDir = path.join(workspace, '.model-lab', 'runs');
    assert.deepEqual(launches, [{ fn: 'launchSweep', specFile: sweepFile, runsDir: extensionRunsDir }], 'the extension\'s Train calls launchSweep');
    assert.equal(opens, 1, 'the sweep file is read once (its text goes to the expansion)');

    launches.length = 0;
    const cliRunsDir = path.join(tmp, 'cli-sweeps');
    await runCli(['sweep', sweepFile, '--out', cliRunsDir]);
    assert.deepEqual(launches, [{ fn: 'launchSweep', specFile: sweepFile, runsDir: cliRunsDir }], '`model-lab sweep` calls launchSweep');
    assert.equal(runsIn(cliRunsDir).length, 3, 'the sweep folder and its two members');
  } finally {
    registry.dispose();
  }
});

test('only the launch path creates run and sweep folders (no front end re-implements it)', () => {
  const sources = (dir: string): string[] =>
    fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
      const file = path.join(dir, entry.name);
      return entry.isDirectory() ? sources(file) : entry.name.endsWith('.ts') ? [file] : [];
    });
  const creators = sources(path.join(root, 'src'))
    .filter((file) => !file.startsWith(path.join(root, 'src', 'runs') + path.sep))
    .filter((file) => /\b(createRun|createSweepFolder)\(/.test(fs.readFileSync(file, 'utf8')))
    .map((file) => path.relative(root, file));
  assert.deepEqual(creators, [path.join('src', 'app', 'launch.ts')]);
});
