/**
 * Checks that what we read back from run.json / status.json has the expected shape, so a
 * hand-edited or foreign file gives a located error instead of `undefined` deep in the UI.
 */
import type { RunState } from '../protocol';
import type { RunInit } from '../shared/runs';
import { RunFileError } from './atomic';
import { describeValue } from './errors';
import { RUN_FORMAT_VERSION, type RunRecord, type RunStatusRecord } from './layout';

const RUN_STATES: readonly RunState[] = ['queued', 'running', 'completed', 'cancelled', 'failed', 'interrupted'];

export function isRunState(value: unknown): value is RunState {
  return typeof value === 'string' && (RUN_STATES as readonly string[]).includes(value);
}

function asObject(file: string, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new RunFileError(file, 'expected a JSON object');
  }
  return value as Record<string, unknown>;
}

function field<T>(file: string, object: Record<string, unknown>, name: string, check: (v: unknown) => v is T, expected: string): T {
  const value = object[name];
  if (!check(value)) {
    throw new RunFileError(file, `field "${name}" should be ${expected}, got ${describeValue(value)}`);
  }
  return value;
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isNonNegativeInteger = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every(isString);
const isOptionalString = (v: unknown): v is string | undefined => v === undefined || typeof v === 'string';
const isOptionalNonNegativeNumber = (v: unknown): v is number | undefined => v === undefined || (typeof v === 'number' && Number.isFinite(v) && v >= 0);

export function parseRunRecord(file: string, value: unknown): RunRecord {
  const object = asObject(file, value);
  const formatVersion = field(file, object, 'formatVersion', isNonNegativeInteger, 'an integer');
  if (formatVersion > RUN_FORMAT_VERSION) {
    throw new RunFileError(
      file,
      `run format ${formatVersion} was written by a newer Model Lab (this one reads up to ${RUN_FORMAT_VERSION})`,
    );
  }
  return {
    formatVersion,
    id: field(file, object, 'id', isString, 'a string'),
    name: field(file, object, 'name', isString, 'a string'),
    experiment: field(file, object, 'experiment', isString, 'a string'),
    specFile: field(file, object, 'specFile', isOptionalString, 'a string'),
    createdAt: field(file, object, 'createdAt', isString, 'an ISO date string'),
    notes: field(file, object, 'notes', isString, 'a string'),
    tags: field(file, object, 'tags', isStringArray, 'an array of strings'),
    ...(object.init !== undefined ? { init: field(file, object, 'init', isRunInit, 'an object {"run": run id, "step": integer >= 0}') } : {}),
  };
}

const isRunInit = (v: unknown): v is RunInit =>
  typeof v === 'object' && v !== null && typeof (v as RunInit).run === 'string' && isNonNegativeInteger((v as RunInit).step);

/**
 * status.json has no format version yet (version 1); a later format that adds one must be
 * refused here rather than rewritten in the old shape by a resume.
 */
export const STATUS_FORMAT_VERSION = 1;

/** Throws when `object.formatVersion` says a newer Model Lab wrote the file (absent: version 1). */
export function refuseNewerFormat(file: string, object: Record<string, unknown>, readsUpTo: number, what: string): void {
  const version = object.formatVersion;
  if (version === undefined) return;
  if (!isNonNegativeInteger(version)) throw new RunFileError(file, `field "formatVersion" should be an integer, got ${describeValue(version)}`);
  if (version > readsUpTo) {
    throw new RunFileError(file, `${what} format ${version} was written by a newer Model Lab (this one reads up to ${readsUpTo}): update Model Lab to open this run`);
  }
}

export function parseStatusRecord(file: string, value: unknown): RunStatusRecord {
  const object = asObject(file, value);
  refuseNewerFormat(file, object, STATUS_FORMAT_VERSION, 'status');
  return {
    state: field(file, object, 'state', isRunState, `one of ${RUN_STATES.join(', ')}`),
    step: field(file, object, 'step', isNonNegativeInteger, 'a non-negative integer'),
    totalSteps: field(file, object, 'totalSteps', isNonNegativeInteger, 'a non-negative integer'),
    heartbeat: field(file, object, 'heartbeat', isString, 'an ISO date string'),
    pid: field(file, object, 'pid', isNonNegativeInteger, 'a process id'),
    hostname: field(file, object, 'hostname', isString, 'a string'),
    error: field(file, object, 'error', isOptionalString, 'a string'),
    elapsedMs: field(file, object, 'elapsedMs', isOptionalNonNegativeNumber, 'a non-negative number of milliseconds'),
  };
}
