/**
 * One owner per run (src/runs/ownership.ts): the owner lock is exclusive, a stale one is taken
 * over (of several racing takers exactly one wins), a stalled but live owner keeps its run, and
 * the Engine beats the lock from its own thread while the training thread is blocked.
 */
import { test, before, after } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as readline from 'node:readline';
import * as tf from '@tensorflow/tfjs';
import { Engine } from '../../src/engine/engine';
import { HEARTBEAT_TIMEOUT_MS, type RunStatusRecord } from '../../src/runs/layout';
import { effectiveState, ownStartTime, processStartTime } from '../../src/runs/liveness';
import { OWNER_LOCK_DIR, RunLockedError, acquireOwnerLock, readOwner, type OwnerRecord } from '../../src/runs/ownership';
import { deleteRun, readRun } from '../../src/runs/reader';
import { DiskRunSink, createRun } from '../../src/runs/store';
import { storeSpec } from '../helpers/specs';

const LOCK_CHILD = path.join(__dirname, '..', 'fixtures', 'ownerLockChild.ts');
const BLOCKED_WORKER = path.join(__dirname, '..', 'fixtures', 'blocked-training-worker.js');

const spec = storeSpec('owned');

let root: string;
before(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'model-lab-owner-'));
});
after(() => fs.rmSync(root, { recursive: true, force: true }));

let counter = 0;
function newRun(): string {
  return createRun(path.join(root, `runs${++counter}`), spec, {
    environment: { backend: { name: 'cpu', requested: 'cpu', version: tf.version.tfjs }, versions: {}, workers: 1, platform: 'test' },
  });
}

function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', '']);
  assert.equal(child.status, 0);
  return child.pid!;
}

/** Put a lock in place as another process would have left it. */
function writeLock(runDir: string, owner: Partial<OwnerRecord>): void {
  const now = new Date().toISOString();
  const record: OwnerRecord = {
    pid: process.pid,
    hostname: os.hostname(),
    startedAt: new Date(ownStartTime()).toISOString(),
    acquiredAt: now,
    heartbeat: now,
    token: 'someone-else',
    ...owner,
  };
  fs.mkdirSync(path.join(runDir, OWNER_LOCK_DIR), { recursive: true });
  fs.writeFileSync(path.join(runDir, OWNER_LOCK_DIR, 'owner.json'), JSON.stringify(record));
}

const minutesAgo = (minutes: number) => new Date(Date.now() - minutes * 60_000).toISOString();

/** Poll `condition` every 20 ms until it holds; fail after a generous deadline. */
async function waitFor(what: string, condition: () => boolean, deadlineMs = 30_000): Promise<void> {
  const start = Date.now();
  while (!condition()) {
    if (Date.now() - start > deadlineMs) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

test('a sink holds its run: a second writer and a delete are refused, naming the owner, until it closes', () => {
  const runDir = newRun();
  const first = new DiskRunSink(runDir);
  const namesOwner = (error: unknown) =>
    error instanceof RunLockedError && error.message.includes(`pid ${process.pid} on ${os.hostname()}`) && /since \d{4}-/.test(error.message);
  assert.throws(() => new DiskRunSink(runDir), namesOwner);
  assert.throws(() => deleteRun(runDir), namesOwner);
  assert.equal(readOwner(runDir)?.pid, process.pid);

  first.close();
  assert.equal(readOwner(runDir), undefined, 'closing releases the lock');
  const second = new DiskRunSink(runDir);
  second.close();
  deleteRun(runDir);
  assert.ok(!fs.existsSync(runDir));
});

test('a stale lock is taken over with a note; a live owner on another host is not', () => {
  const runDir = newRun();
  const notes: string[] = [];
  const onTakeover = (note: string) => notes.push(note);

  const dead = deadPid();
  writeLock(runDir, { pid: dead });
  const abandoned = path.join(runDir, `.tmp-owner-${dead}-abc`); // a taker killed before its rename
  fs.mkdirSync(abandoned);
  acquireOwnerLock(runDir, { onTakeover }).release();
  assert.match(notes.pop() ?? '', new RegExp(`from pid ${dead} on ${os.hostname()} .*which is gone`));
  assert.ok(!fs.existsSync(abandoned), 'abandoned temp lock folders are removed');

  writeLock(runDir, { hostname: 'another-machine', heartbeat: new Date(Date.now() - HEARTBEAT_TIMEOUT_MS - 5_000).toISOString() });
  acquireOwnerLock(runDir, { onTakeover }).release();
  assert.match(notes.pop() ?? '', /on another-machine/);

  fs.mkdirSync(path.join(runDir, OWNER_LOCK_DIR));
  fs.writeFileSync(path.join(runDir, OWNER_LOCK_DIR, 'owner.json'), '{"pid":');
  acquireOwnerLock(runDir, { onTakeover }).release();
  assert.match(notes.pop() ?? '', /unreadable lock/);

  writeLock(runDir, { hostname: 'another-machine', pid: dead });
  assert.throws(() => acquireOwnerLock(runDir, { onTakeover }), /in use by pid \d+ on another-machine/);
  assert.deepEqual(notes, []);
});

test('of several processes racing for a stale lock, exactly one wins', async () => {
  const runDir = newRun();
  writeLock(runDir, { pid: deadPid() });
  const children: ChildProcessWithoutNullStreams[] = [];
  const results: Promise<string>[] = [];
  for (let i = 0; i < 5; i++) {
    const child = spawn(process.execPath, ['--import', 'tsx', LOCK_CHILD, runDir]);
    children.push(child);
    const lines = readline.createInterface({ input: child.stdout });
    let stderr = '';
    child.stderr.on('data', (chunk) => (stderr += chunk));
    results.push(
      new Promise((resolve, reject) => {
        lines.on('line', (line) => line !== 'READY' && resolve(line));
        child.on('exit', (code) => reject(new Error(`lock child exited (${code}) before answering: ${stderr}`)));
      }),
    );
    await new Promise<void>((resolve) => lines.once('line', () => resolve())); // READY
  }
  for (const child of children) child.stdin.write('go\n'); // all at once
  const answers = await Promise.all(results);
  const winners = children.filter((_, i) => answers[i] === 'WON');
  assert.equal(winners.length, 1, `answers: ${answers.join(', ')}`);
  for (const answer of answers) if (answer !== 'WON') assert.equal(answer, `LOCKED ${winners[0].pid}`);
  assert.equal(readOwner(runDir)?.pid, winners[0].pid);
  await Promise.all(children.map((child) => new Promise((resolve) => (child.on('exit', resolve), child.stdin.end()))));
});

test('a live owner keeps its run whatever its heartbeat age (a long evaluation); a reused pid does not', () => {
  const runDir = newRun();
  const statusFile = path.join(runDir, 'status.json');
  const status: RunStatusRecord = { ...JSON.parse(fs.readFileSync(statusFile, 'utf8')), state: 'running', heartbeat: minutesAgo(10) };
  fs.writeFileSync(statusFile, JSON.stringify(status));

  // This process stands for an owner whose training thread has been stuck for ten minutes.
  writeLock(runDir, { heartbeat: minutesAgo(10) });
  assert.equal(readRun(runDir).state, 'running');
  assert.throws(() => new DiskRunSink(runDir), (error) => error instanceof RunLockedError && /last heartbeat 6\d\d s ago/.test(error.message));

  if (processStartTime(process.pid) !== undefined) {
    // Same pid, but started an hour before this process: the owner died and its pid was reused.
    writeLock(runDir, { heartbeat: minutesAgo(10), startedAt: minutesAgo(60) });
    assert.equal(readRun(runDir).state, 'interrupted');
    new DiskRunSink(runDir, { onTakeover: () => undefined }).close();
  }

  // Across hosts pids say nothing: the freshest heartbeat, of the lock or of status.json, decides.
  const elsewhere = { pid: 1, hostname: 'another-machine', startedAt: minutesAgo(60), heartbeat: minutesAgo(10) };
  const theirs = { ...status, hostname: 'another-machine' };
  assert.equal(effectiveState(theirs, {}, elsewhere), 'interrupted');
  assert.equal(effectiveState({ ...theirs, heartbeat: new Date().toISOString() }, {}, elsewhere), 'running');
  assert.equal(effectiveState(theirs, {}, { ...elsewhere, heartbeat: new Date().toISOString() }), 'running');
});

test('the Engine keeps the lock beating from its own thread while the training thread is blocked', async () => {
  const runDir = newRun();
  const engine = new Engine({ workerScript: BLOCKED_WORKER, workers: 1, backend: 'cpu', wasmDir: root });
  try {
    const job = engine.startTraining(runDir, false);
    assert.throws(() => engine.startTraining(runDir, true), RunLockedError, 'one job per run, even in one engine');
    await waitFor('the worker to block', () => fs.existsSync(path.join(runDir, 'blocked')));
    const blockedAt = readOwner(runDir)!.heartbeat;
    await waitFor('a heartbeat while the worker is blocked', () => readOwner(runDir)!.heartbeat !== blockedAt);
    assert.equal(readOwner(runDir)?.pid, process.pid);

    fs.writeFileSync(path.join(runDir, 'unblock'), '');
    assert.equal((await job.done).state, 'completed');
    assert.equal(readOwner(runDir), undefined, 'the lock is released when the job ends');
  } finally {
    fs.writeFileSync(path.join(runDir, 'unblock'), '');
    await engine.dispose();
  }
});
