/**
 * `model-lab`: the headless entry on the same core and engine as the extension.
 * Exit codes: 0 success, 1 a run failed, 2 bad input (with a located message).
 */
import { Command, CommanderError } from 'commander';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describeInspection, inspectCheckpoint, InspectError, parseInputFile, chooseCheckpointStep } from './core/retrieval/inspectExample';
import { exportCheckpoint, importCheckpoint, WeightsLayoutError } from './core/weights/officialLayout';
import { SafetensorsError } from './core/weights/safetensors';
import { PosteriorInputError, posteriorSamples } from './core/posterior/cli';
import { calibrate } from './core/posterior/calibration';
import { describeRunSamples, MAX_SAMPLER_SAMPLES, SamplerInputError, samplesOfRun } from './core/sampler/cli';
import { writeCheckpoint } from './runs/checkpoints';
import { readJsonFile, writeFileAtomic } from './runs/atomic';
import { SpecError } from './core/spec/types';
import { shorten } from './core/spec/limits';
import { SWEEP_FILE } from './core/sweep';
import { INPUT_LIMITS, InputFileError, readUserFile } from './core/userFiles';
import { RunFileError } from './runs/errors';
import { errorMessage } from './shared/errors';
import { ObjectSetError } from './core/relational/pngFolder';
import { ENVIRONMENT_FILE, RUN_FILE, runFile } from './runs/layout';
import { MAX_POSTERIOR_SAMPLES } from './core/posterior/cli';
import { instantiateTemplate, listTemplates, TemplateError } from './core/spec/templates';
import { Engine, type TrainingJob } from './engine/engine';
import { MODEL_LAB_VERSION } from './engine/environment';
import { kernelSummary } from './engine/kernelSummary';
import { launchRun, launchSweep, RunFolderError, type LaunchedSweep } from './app/launch';
import { checkpointSource } from './runs/checkpointSource';
import { listRuns, readMetrics, readRun, readRunRecord, readSpec, readStatus } from './runs/reader';
import { RunLockedError, withOwnerLock } from './runs/ownership';
import { isSweepFolder, readSweepFolder, readSweepReport, type SweepReport } from './runs/sweeps';
import { progressSummaryText } from './shared/progress';
import type { BackendInfo, BackendSetting, MetricRecord } from './protocol';

const EXIT_FAILED = 1;
const EXIT_BAD_INPUT = 2;

/** An error the user caused: printed without a stack, exit 2. */
class UsageError extends Error {}

const bundleDir = __dirname;
const templatesDir = path.join(bundleDir, '..', 'templates');
const defaultRunsDir = () => path.resolve('.model-lab', 'runs');

function createEngine(backend: string, workers = 1): Engine {
  const allowed = ['auto', 'node', 'wasm', 'cpu'];
  if (!allowed.includes(backend)) throw new UsageError(`--backend must be one of ${allowed.join(', ')}, got '${backend}'`);
  return new Engine({
    workerScript: path.join(bundleDir, 'worker.js'),
    workers,
    backend: backend as BackendSetting,
    tfjsNodePath: process.env.MODEL_LAB_TFJS_NODE_PATH,
    wasmDir: bundleDir,
    // Warnings concern the user (a damaged checkpoint skipped, a stale lock taken over); the rest is detail.
    log: (level, message) => {
      if (level === 'warn') process.stderr.write(`warning: ${message}\n`);
    },
  });
}

/** Stderr note when a command takes over the lock a killed owner left. */
const noteTakeover = (note: string) => process.stderr.write(`note: ${note}\n`);

/** A run a live owner holds is the user's to wait for or stop: exit 2, naming the owner. */
function refuseLocked(error: unknown): never {
  throw error instanceof RunLockedError ? new UsageError(error.message) : error;
}

/** An integer flag in [1, max] (max documented in README, "Limits"); the value echoed short. */
function parsePositiveInteger(flag: string, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`${flag} must be an integer >= 1, got '${shorten(value)}'`);
    if (n > max) throw new UsageError(`${flag} must be at most ${max}, got ${n}`);
    return n;
  };
}

/** Bound of `calibrate --k` and `--l` (README, "Limits"): 10^4 x 10^4 samples is hours already. */
const CALIBRATION_MAX = 10_000;

const MEMORY_LIMIT_HELP =
  "refuse specs whose estimated training memory exceeds this many MB (default: $MODEL_LAB_MEMORY_LIMIT_MB, else half the machine's memory; wasm: at most 4 GiB)";

/** MODEL_LAB_MEMORY_LIMIT_MB, checked like the flag. */
function memoryLimitFromEnv(): number | undefined {
  const value = process.env.MODEL_LAB_MEMORY_LIMIT_MB;
  return value === undefined || value === '' ? undefined : parsePositiveInteger('MODEL_LAB_MEMORY_LIMIT_MB')(value);
}

const RUN_ARGUMENT = 'run folder, or run id in the runs folder (see `model-lab list`)';
const OUT_HELP = 'runs folder (default ./.model-lab/runs)';

/** Where a run argument points: a path as given, or an id (a plain folder name) inside the runs folder. */
function resolveRunArgument(run: string, out?: string): { runsDir: string; isId: boolean; dir: string } {
  const runsDir = path.resolve(out ?? defaultRunsDir());
  const isId = /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(run) && !fs.existsSync(path.resolve(run));
  return { runsDir, isId, dir: isId ? path.join(runsDir, run) : path.resolve(run) };
}

/**
 * The one run resolver of every command: `run` is a run folder (a path) or a run id (a folder
 * name inside the runs folder: --out, default ./.model-lab/runs). Anything else is exit 2 before
 * any worker starts.
 */
function runDirOf(run: string, out?: string): string {
  const { runsDir, isId, dir } = resolveRunArgument(run, out);
  if (!fs.existsSync(path.join(dir, RUN_FILE))) {
    const sweep = fs.existsSync(path.join(dir, SWEEP_FILE)) ? ' (it is a sweep folder: its members are runs, see `model-lab list`)' : '';
    const where = isId ? ` (no such run in ${runsDir})` : '';
    throw new UsageError(`${shorten(run, 200)}: not a run folder or run id${where}${sweep}`);
  }
  try {
    // Each file on its own (readRun reports problems as a 'failed' state instead of throwing):
    // one from a newer Model Lab is refused here, before a resume could rewrite the run.
    readRunRecord(dir);
    readStatus(dir);
    readSpec(dir);
  } catch (error) {
    throw new UsageError(`${shorten(run, 200)}: a run folder that cannot be read: ${(error as Error).message}`);
  }
  return dir;
}

function parseStep(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new UsageError(`--step must be an integer >= 0, got '${shorten(value)}'`);
  return n;
}

function parseIndex(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0) throw new UsageError(`--example must be an integer >= 0, got '${shorten(value)}'`);
  return n;
}

/**
 * Export, import and inspect run in this process on tfjs's plain JavaScript backend: they touch
 * one checkpoint and at most one example, so no worker and no faster backend is worth starting.
 */
async function useInProcessBackend(): Promise<void> {
  tf.env().set('IS_TEST', true); // no "install tfjs-node" banner on stdout
  if (!(await tf.setBackend('cpu'))) throw new Error('the TensorFlow.js cpu backend failed to initialise');
}

/** A user's input file: a regular file (not /dev/zero, a FIFO or a folder) of at most `maxBytes`. */
function readFileOrFail(file: string, what: string, maxBytes: number = INPUT_LIMITS.jsonInputBytes): Buffer {
  try {
    return readUserFile(file, what, maxBytes);
  } catch (error) {
    throw error instanceof InputFileError ? new UsageError(`cannot read the ${what} ${file}: it ${error.reason}`) : error;
  }
}

/** Where `weights export` writes: a file path whose folder exists (not a folder itself). */
function checkOutputFile(file: string): void {
  if (fs.existsSync(file) && fs.statSync(file).isDirectory()) {
    throw new UsageError(`${file} is a folder: give the path of the .safetensors file to write, e.g. ${path.join(file, 'model.safetensors')}`);
  }
  const dir = path.dirname(file);
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new UsageError(`cannot write ${file}: the folder ${dir} does not exist`);
}

/** Every number in `value` is finite (JSON would print NaN and Infinity as null): throws naming the first that is not. */
function requireFinite(value: unknown, what: string, at = ''): void {
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new NonFiniteResultError(`${what} holds ${value} at ${at || '/'}: no result is printed (the inputs are probably far outside what the network was trained on)`);
  } else if (Array.isArray(value)) {
    value.forEach((item, i) => requireFinite(item, what, `${at}/${i}`));
  } else if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) requireFinite(item, what, `${at}/${key}`);
  }
}

/** A computed result with NaN or Infinity in it: exit 1, nothing on stdout. */
class NonFiniteResultError extends Error {}

function formatValues(values: Record<string, number>): string {
  return Object.entries(values)
    .map(([name, value]) => `${name} ${value.toFixed(4)}`)
    .join('  ');
}

/** The backend and kernels a run last trained with, from its environment.json (rewritten on every start). */
function recordedBackend(runDir: string): string {
  let environment: { backend?: Partial<BackendInfo> } | null;
  try {
    environment = readJsonFile(runFile(runDir, ENVIRONMENT_FILE)) as { backend?: Partial<BackendInfo> } | null;
  } catch (error) {
    return `not recorded (${errorMessage(error)})`;
  }
  const backend = environment?.backend;
  return backend && typeof backend.name === 'string' ? `${backend.name}, ${kernelSummary(backend)}` : `not recorded (${ENVIRONMENT_FILE} has no backend)`;
}

/** Follow a job to its end: progress on stderr, Ctrl-C cancels (the run stays resumable). */
async function follow(job: TrainingJob, engine: Engine): Promise<number> {
  let interrupts = 0;
  const onInterrupt = () => {
    // A worker busy in one long synchronous call (building a large model) reads the cancel only
    // after it: a second Ctrl-C stops at once, as the first one would with no run to keep.
    if (++interrupts > 1) void stopNow(engine);
    else {
      process.stderr.write('\ncancelling (the run keeps its last checkpoint; `model-lab resume` continues it; Ctrl-C again to stop at once)...\n');
      job.cancel();
    }
  };
  process.on('SIGINT', onInterrupt);
  job.onProgress((step, total, records) => {
    const latest = records.map((r) => formatValues(r.values)).join('  ');
    process.stderr.write(`step ${step}/${total}  ${latest}\n`);
  });
  const outcome = await job.done;
  process.removeListener('SIGINT', onInterrupt);
  await engine.dispose();
  process.stderr.write(`run ${outcome.state}${outcome.error ? `: ${outcome.error}` : ''}\n`);
  process.stdout.write(`${job.runDir}\n`);
  return outcome.state === 'failed' ? EXIT_FAILED : 0;
}

/** The second Ctrl-C: end the workers and exit 130 (the run stays resumable from its last checkpoint). */
async function stopNow(engine: Engine): Promise<void> {
  process.stderr.write('stopping now: `model-lab resume` continues the run from its last checkpoint\n');
  await engine.dispose().catch(() => undefined);
  process.exit(130);
}

/** Follow every member of a sweep: one progress line per event, prefixed by the member; Ctrl-C cancels all. */
async function followSweep(launched: LaunchedSweep, engine: Engine): Promise<number> {
  const total = launched.members.length;
  process.stderr.write(`sweep ${launched.record.name}: ${total} members queued (${launched.sweepDir})\n`);
  const cancelAll = () => {
    process.stderr.write('\ncancelling the sweep (each member keeps its last checkpoint; `model-lab resume <member>` continues it; Ctrl-C again to stop at once)...\n');
    for (const { job } of launched.members) job.cancel();
  };
  let interrupts = 0;
  const onInterrupt = () => (++interrupts > 1 ? void stopNow(engine) : cancelAll());
  process.on('SIGINT', onInterrupt);
  const outcomes = await Promise.all(
    launched.members.map(({ member, job }) => {
      const tag = `[${member.index + 1}/${total} ${member.label}]`;
      job.onProgress((step, steps, records) => {
        process.stderr.write(`${tag} step ${step}/${steps}  ${records.map((r) => formatValues(r.values)).join('  ')}\n`);
      });
      return job.done.then((outcome) => {
        process.stderr.write(`${tag} ${outcome.state}${outcome.error ? `: ${outcome.error}` : ''}  ${job.runDir}\n`);
        return outcome;
      });
    }),
  );
  process.removeListener('SIGINT', onInterrupt);
  await engine.dispose();
  const count = (state: string) => outcomes.filter((o) => o.state === state).length;
  process.stderr.write(`sweep done: ${count('completed')} completed, ${count('failed')} failed, ${count('cancelled')} cancelled\n`);
  process.stdout.write(`${launched.sweepDir}\n`);
  return count('failed') > 0 ? EXIT_FAILED : 0;
}

function buildProgram(): Command {
  const program = new Command('model-lab')
    .description('Train small research models and look inside them (the Model Lab CLI).')
    .version(MODEL_LAB_VERSION)
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });

  program
    .command('templates')
    .description('list the experiment templates: name, then description')
    .action(() => {
      for (const t of listTemplates(templatesDir)) process.stdout.write(`${t.name}\t${t.description}\n`);
    });

  program
    .command('new')
    .description('create an experiment file from a template')
    .argument('<template>', 'template name (see `model-lab templates`)')
    .argument('<file>', 'experiment file to create, e.g. my-run.lab.json')
    .action((template: string, file: string) => {
      process.stdout.write(`${instantiateTemplate(templatesDir, template, path.resolve(file))}\n`);
    });

  program
    .command('train')
    .description('train an experiment; progress on stderr, the run folder on the last line of stdout')
    .argument('<spec>', 'experiment file (*.lab.json)')
    .option('--steps <n>', 'override training.steps', parsePositiveInteger('--steps'))
    .option('--memory-limit <MB>', MEMORY_LIMIT_HELP, parsePositiveInteger('--memory-limit'))
    .option('--out <dir>', 'runs folder (default ./.model-lab/runs)')
    .option('--backend <name>', 'auto | node | wasm | cpu', process.env.MODEL_LAB_BACKEND ?? 'auto')
    .action(async (specFile: string, options: { steps?: number; out?: string; backend: string; memoryLimit?: number }) => {
      const engine = createEngine(options.backend);
      try {
        const { job } = await launchRun(engine, {
          specFile: path.resolve(specFile),
          runsDir: path.resolve(options.out ?? defaultRunsDir()),
          steps: options.steps,
          workers: 1,
          memoryLimitMB: options.memoryLimit ?? memoryLimitFromEnv(),
        });
        const backend = await engine.backendInfo();
        process.stderr.write(`backend ${backend.name}${backend.fallbackReason ? ` (${backend.fallbackReason})` : ''}, ${kernelSummary(backend)}\n`);
        process.exitCode = await follow(job, engine);
      } catch (error) {
        await engine.dispose();
        throw error;
      }
    });

  program
    .command('sweep')
    .description('train every member of a sweep file (kind "sweep"); progress per member on stderr, the sweep folder on the last line of stdout')
    .argument('<spec>', 'sweep file (*.lab.json with "kind": "sweep")')
    .option('--steps <n>', 'override training.steps of every member', parsePositiveInteger('--steps'))
    .option('--memory-limit <MB>', MEMORY_LIMIT_HELP, parsePositiveInteger('--memory-limit'))
    .option('--out <dir>', 'runs folder (default ./.model-lab/runs)')
    .option('--workers <n>', 'members trained at once (default 1)', parsePositiveInteger('--workers'), 1)
    .option('--backend <name>', 'auto | node | wasm | cpu', process.env.MODEL_LAB_BACKEND ?? 'auto')
    .action(async (specFile: string, options: { steps?: number; out?: string; workers: number; backend: string; memoryLimit?: number }) => {
      const engine = createEngine(options.backend, options.workers);
      try {
        const launched = await launchSweep(engine, {
          specFile: path.resolve(specFile),
          runsDir: path.resolve(options.out ?? defaultRunsDir()),
          steps: options.steps,
          workers: options.workers,
          memoryLimitMB: options.memoryLimit ?? memoryLimitFromEnv(),
        });
        process.exitCode = await followSweep(launched, engine);
      } catch (error) {
        await engine.dispose();
        throw error;
      }
    });

  program
    .command('resume')
    .description('continue an interrupted or cancelled run from its newest usable checkpoint (damaged ones are skipped)')
    .argument('<run>', RUN_ARGUMENT)
    .option('--out <dir>', OUT_HELP)
    .option('--step <n>', 'resume from the checkpoint at this step; later checkpoints and metrics are dropped', parseStep)
    .option('--backend <name>', 'auto | node | wasm | cpu', process.env.MODEL_LAB_BACKEND ?? 'auto')
    .action(async (run: string, options: { step?: number; backend: string; out?: string }) => {
      const runDir = runDirOf(run, options.out);
      const summary = readRun(runDir);
      if (summary.state === 'completed') throw new UsageError(`${run} has already completed (${summary.step} steps)`);
      const steps = checkpointSource(runDir).steps();
      if (options.step !== undefined && !steps.includes(options.step)) {
        throw new UsageError(`${run} has no checkpoint at step ${options.step} (available: ${steps.length ? steps.join(', ') : 'none'})`);
      }
      const engine = createEngine(options.backend);
      let job: TrainingJob;
      try {
        // Takes the run's owner lock, so of two resumes exactly one trains; before any worker starts.
        job = engine.startTraining(runDir, true, { resumeStep: options.step });
      } catch (error) {
        await engine.dispose();
        refuseLocked(error);
      }
      if (steps.length === 0) process.stderr.write('no checkpoint yet: the run starts again from step 0\n');
      process.exitCode = await follow(job, engine);
    });

  program
    .command('list')
    .description('list runs, newest first')
    .option('--out <dir>', 'runs folder (default ./.model-lab/runs)')
    .action((options: { out?: string }) => {
      const runs = listRuns(path.resolve(options.out ?? defaultRunsDir()));
      for (const r of runs) {
        process.stdout.write(`${r.id}\t${r.state}\t${r.step}/${r.totalSteps}\t${r.experiment}\n`);
      }
      if (runs.length === 0) process.stderr.write('no runs yet\n');
    });

  program
    .command('show')
    .description("show a run (status, resolved spec, latest metrics, checkpoints) or a sweep (each member's reported metric, and over seeds)")
    .argument('<run>', `${RUN_ARGUMENT}; or a sweep folder or id`)
    .option('--out <dir>', OUT_HELP)
    .option('--json', 'print one JSON object')
    .action((run: string, options: { json?: boolean; out?: string }) => {
      const { dir } = resolveRunArgument(run, options.out);
      if (isSweepFolder(dir)) {
        const report = readSweepReport(readSweepFolder(dir));
        process.stdout.write(options.json ? `${JSON.stringify(report)}\n` : `${formatSweepReport(report).join('\n')}\n`);
        return;
      }
      const runDir = runDirOf(run, options.out);
      const summary = readRun(runDir);
      const { records } = readMetrics(runDir);
      const latest: Record<string, number> = {};
      for (const record of records) Object.assign(latest, record.values);
      const checkpoints = checkpointSource(runDir).steps();
      const spec = readSpec(runDir);
      if (options.json) {
        process.stdout.write(`${JSON.stringify({ run: summary, spec, latest, checkpoints })}\n`);
        return;
      }
      const lines = [
        `${summary.name}  (${summary.experiment})`,
        `state      ${summary.state}${summary.error ? `: ${summary.error}` : ''}`,
        `progress   ${progressSummaryText(summary, records)}`,
        `created    ${summary.createdAt}`,
        ...(summary.init ? [`init       continues run ${summary.init.run} at step ${summary.init.step}`] : []),
        `backend    ${recordedBackend(runDir)}`,
        `checkpoint ${checkpoints.length ? checkpoints.join(', ') : 'none'}`,
        `metrics    ${Object.keys(latest).length ? formatValues(latest) : 'none yet'}`,
        `records    ${records.length} (${lastStep(records)})`,
        'spec',
        ...JSON.stringify(spec, null, 2).split('\n').map((l) => `  ${l}`),
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    });

  const weights = program.command('weights').description("exchange weights with the models' PyTorch references (safetensors with their state_dict keys; model_lab.* keys for parameters a reference lacks)");

  weights
    .command('export')
    .description("write a checkpoint's weights as safetensors with the reference's keys and layouts ([out, in] weights, F32)")
    .argument('<run>', RUN_ARGUMENT)
    .option('--out <dir>', OUT_HELP)
    .argument('<file>', 'safetensors file to write, e.g. model.safetensors')
    .option('--step <n>', 'checkpoint step (default: the latest)', parseStep)
    .action(async (run: string, file: string, options: { step?: number; out?: string }) => {
      const runDir = runDirOf(run, options.out);
      checkOutputFile(path.resolve(file));
      const spec = readSpec(runDir);
      const source = checkpointSource(runDir);
      const step = chooseCheckpointStep(source.steps(), options.step);
      await useInProcessBackend();
      const checkpoint = await source.load(step);
      try {
        writeFileAtomic(path.resolve(file), exportCheckpoint(spec, checkpoint));
      } finally {
        tf.dispose([...checkpoint.weights, ...checkpoint.optimizer].map((t) => t.tensor));
      }
      process.stderr.write(`exported step ${step} of ${spec.model.name}\n`);
      process.stdout.write(`${path.resolve(file)}\n`);
    });

  weights
    .command('import')
    .description(
      "write safetensors weights (the keys export writes) into a run as a checkpoint with a fresh optimizer state; inspect it with --step, or resume training from it",
    )
    .argument('<run>', RUN_ARGUMENT)
    .option('--out <dir>', OUT_HELP)
    .argument('<file>', 'safetensors file with the keys and shapes export writes')
    .option('--step <n>', 'step of the new checkpoint (default 0: weights that did not come from this run\'s training)', parseStep, 0)
    .option('--replace', 'replace an existing checkpoint at that step')
    .action(async (run: string, file: string, options: { step: number; replace?: boolean; out?: string }) => {
      const runDir = runDirOf(run, options.out);
      // Under the run's owner lock: nobody trains the run while its checkpoint is written.
      const tensors = await withOwnerLock(runDir, async () => {
        const source = checkpointSource(runDir);
        if (source.steps().includes(options.step) && !options.replace) {
          throw new UsageError(
            `${run} already has a checkpoint at step ${options.step}: pass --replace to overwrite it, or --step N for another step`,
          );
        }
        const spec = readSpec(runDir);
        const bytes = readFileOrFail(path.resolve(file), 'safetensors file', INPUT_LIMITS.safetensorsBytes);
        await useInProcessBackend();
        const checkpoint = importCheckpoint(spec, new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), file, options.step);
        try {
          await writeCheckpoint(runDir, checkpoint);
        } finally {
          tf.dispose([...checkpoint.weights, ...checkpoint.optimizer].map((t) => t.tensor));
        }
        return checkpoint.weights.length;
      }, { onTakeover: noteTakeover }).catch(refuseLocked);
      process.stderr.write(`imported ${tensors} tensors as the checkpoint at step ${options.step}\n`);
      process.stdout.write(`${runDir}\n`);
    });

  program
    .command('inspect')
    .description('run a checkpoint on one example and show, per token, what each search finds and which retrieval it uses, next to the ground truth')
    .argument('<run>', RUN_ARGUMENT)
    .option('--out <dir>', OUT_HELP)
    .option('--step <n>', 'checkpoint step (default: the latest)', parseStep)
    .option('--split <name>', "split to draw the example from (default: the training split)")
    .option('--example <k>', 'example index within the split (default 0)', parseIndex)
    .option('--input <file.json>', 'run on given examples instead: {"x": [[[features...] per token] per example]} (or one example: tokens x features)')
    .option('--json', 'print one JSON object (readings per token plus the raw maps)')
    .action(async (run: string, options: { step?: number; split?: string; example?: number; input?: string; json?: boolean; out?: string }) => {
      if (options.input !== undefined && (options.example !== undefined || options.split !== undefined)) {
        throw new UsageError('--input replaces --split and --example: give one or the other');
      }
      const runDir = runDirOf(run, options.out);
      const spec = readSpec(runDir);
      const examples = options.input === undefined
        ? [undefined]
        : parseInputFile(readFileOrFail(path.resolve(options.input), 'input file').toString('utf8'), options.input);
      await useInProcessBackend();
      const inspections = [];
      for (const [i, inputs] of examples.entries()) {
        inspections.push(
          await inspectCheckpoint(spec, checkpointSource(runDir), {
            step: options.step,
            split: options.split,
            example: options.example,
            inputs,
            inputSource: examples.length > 1 ? `${options.input}: /x/${i}` : options.input,
          }),
        );
      }
      requireFinite(inspections.map(({ tokens }) => tokens), 'the inspection');
      const text = options.json
        ? JSON.stringify(inspections.length === 1 ? inspections[0] : { examples: inspections })
        : inspections.map(describeInspection).join('\n\n');
      process.stdout.write(`${text}\n`);
    });

  program
    .command('posterior')
    .description("sample the trained network's posterior for a data set, from one forward pass")
    .argument('<run>', RUN_ARGUMENT)
    .option('--out <dir>', OUT_HELP)
    .requiredOption('--data <file.json>', 'the data set: {"x": [[features...] per point], "y": [...]}')
    .option('--samples <n>', `number of samples (default 100, at most ${MAX_POSTERIOR_SAMPLES})`, parsePositiveInteger('--samples', MAX_POSTERIOR_SAMPLES), 100)
    .action(async (run: string, options: { data: string; samples: number; out?: string }) => {
      const runDir = runDirOf(run, options.out);
      const text = readFileOrFail(path.resolve(options.data), 'data file').toString('utf8');
      let data: unknown;
      try {
        data = JSON.parse(text);
      } catch (error) {
        throw new UsageError(`${options.data}: not valid JSON (${(error as Error).message})`);
      }
      await useInProcessBackend();
      const result = await posteriorSamples(readSpec(runDir), checkpointSource(runDir), data, options.samples).catch(
        (error: unknown) => {
          // Name the file: the core's messages locate the problem inside the data ("x[3] must ...").
          throw error instanceof PosteriorInputError ? new UsageError(`${options.data}: ${error.message}`) : error;
        },
      );
      requireFinite(result, "the network's samples");
      process.stdout.write(`${JSON.stringify(result)}\n`);
    });

  program
    .command('calibrate')
    .description("simulation-based calibration of a posterior run: ranks of the true parameters among the network's samples, and expected coverage")
    .argument('<run>', RUN_ARGUMENT)
    .option('--out <dir>', OUT_HELP)
    .option('--k <n>', `simulated data sets (default 200, at most ${CALIBRATION_MAX})`, parsePositiveInteger('--k', CALIBRATION_MAX), 200)
    .option('--l <n>', `posterior samples per data set (default 99, at most ${CALIBRATION_MAX})`, parsePositiveInteger('--l', CALIBRATION_MAX), 99)
    .option('--bins <n>', 'rank histogram bins, must divide l + 1 (default 20)', parsePositiveInteger('--bins'), 20)
    .option('--json', 'print one JSON object (ranks, histogram, uniformity tests, coverage)')
    .action(async (run: string, options: { k: number; l: number; bins: number; json?: boolean; out?: string }) => {
      if ((options.l + 1) % options.bins !== 0) throw new UsageError(`--bins (${options.bins}) must divide --l + 1 (${options.l + 1})`);
      const runDir = runDirOf(run, options.out);
      await useInProcessBackend();
      const result = await calibrate(readSpec(runDir), checkpointSource(runDir), { k: options.k, l: options.l, bins: options.bins });
      if (options.json) {
        process.stdout.write(`${JSON.stringify(result)}\n`);
        return;
      }
      const lines = [`calibration of step ${result.step}: ${result.k} data sets, ${result.l} samples each`];
      result.histogram.uniformity.forEach((test, p) =>
        lines.push(`theta[${p}] ranks ${result.histogram.counts[p].join(' ')}  (uniform: chi2 ${test.statistic.toFixed(1)}, p ${test.pValue.toFixed(3)})`),
      );
      lines.push(`coverage   ${result.coverage.levels.map((level, i) => `${level.toFixed(1)}: ${result.coverage.mean[i].toFixed(2)}`).join('  ')}`);
      lines.push(result.verdict.text);
      process.stdout.write(`${lines.join('\n')}\n`);
    });

  program
    .command('sample')
    .description('samples of a trained diffusion sampler at a checkpoint, with their log-weights and log Z estimates (seeded)')
    .argument('<run>', RUN_ARGUMENT)
    .option('--out <dir>', OUT_HELP)
    .option('--n <n>', `number of samples (default 1000, at most ${MAX_SAMPLER_SAMPLES})`, parsePositiveInteger('--n', MAX_SAMPLER_SAMPLES), 1000)
    .option('--step <n>', 'checkpoint step (default: the latest)', parseStep)
    .option('--seed <n>', 'seed of the trajectories (default 0)', (value: string) => {
      const n = Number(value);
      if (!Number.isSafeInteger(n) || n < 0) throw new UsageError(`--seed must be an integer >= 0, got '${shorten(value)}'`);
      return n;
    }, 0)
    .option('--json', 'print one JSON object {step, seed, coordinates, samples, logWeights, logZ}')
    .action(async (run: string, options: { n: number; step?: number; seed: number; json?: boolean; out?: string }) => {
      const runDir = runDirOf(run, options.out);
      await useInProcessBackend();
      const result = await samplesOfRun(readSpec(runDir), checkpointSource(runDir), options).catch((error: unknown) => {
        throw error instanceof SamplerInputError ? new UsageError(error.message) : error;
      });
      process.stdout.write(`${options.json ? JSON.stringify(result) : describeRunSamples(result)}\n`);
    });

  return program;
}

/** A sweep as a table: one row per member, then the mean and spread over seeds per grid point. */
function formatSweepReport(report: SweepReport): string[] {
  const { record } = report.sweep;
  const count = (state: string) => report.members.filter((m) => m.state === state).length;
  const states = ['completed', 'running', 'queued', 'interrupted', 'cancelled', 'failed', 'missing']
    .filter((state) => count(state) > 0)
    .map((state) => `${count(state)} ${state}`);
  const value = (v: number | undefined) => (v === undefined ? '-' : v.toFixed(4));
  const width = Math.max(6, ...report.members.map((m) => m.label.length), ...report.cells.map((c) => c.label.length));
  const pad = (text: string, n: number) => text.padEnd(n);
  return [
    `${record.name}  (sweep, ${report.members.length} members: ${states.join(', ')})`,
    `report     ${report.metric}, last logged value`,
    '',
    `${pad('member', width)}  ${pad('state', 11)}  ${pad('steps', 13)}  ${report.metric}`,
    ...report.members.map((m) => `${pad(m.label, width)}  ${pad(m.state, 11)}  ${pad(`${m.step}/${m.totalSteps}`, 13)}  ${value(m.value)}`),
    '',
    `${pad('over seeds', width)}  mean     sd       n`,
    ...report.cells.map((c) => `${pad(c.label, width)}  ${pad(value(c.mean), 7)}  ${pad(value(c.sd), 7)}  ${c.values.length}${c.missing ? ` (${c.missing} without a value)` : ''}`),
  ];
}

const lastStep = (records: MetricRecord[]) => (records.length ? `last at step ${records[records.length - 1].step}` : 'none');

/** `model-lab list | head`: the reader left; stop quietly, as Unix tools do, instead of an EPIPE stack. */
function exitWhenOutputCloses(stream: NodeJS.WriteStream): void {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}

async function main(argv: string[]): Promise<void> {
  exitWhenOutputCloses(process.stdout);
  try {
    await buildProgram().parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version exit 0; anything else is a usage problem.
      process.exitCode = error.exitCode === 0 ? 0 : EXIT_BAD_INPUT;
      return;
    }
    if (error instanceof SpecError ||
      error instanceof UsageError ||
      error instanceof TemplateError ||
      error instanceof RunFolderError ||
      error instanceof InspectError ||
      error instanceof SafetensorsError ||
      error instanceof WeightsLayoutError ||
      error instanceof PosteriorInputError ||
      error instanceof ObjectSetError ||
      error instanceof InputFileError ||
      error instanceof RunFileError) {
      process.stderr.write(`model-lab: ${error.message}\n`);
      process.exitCode = EXIT_BAD_INPUT;
      return;
    }
    process.stderr.write(`model-lab: ${(error as Error).message ?? String(error)}\n`);
    process.exitCode = EXIT_FAILED;
  }
}

void main(process.argv);
