/**
 * metrics.jsonl: one MetricRecord per line, append-only.
 *
 * The writer appends whole lines with one write per batch, so a killed process leaves at most a
 * truncated last line. The reader therefore tolerates an incomplete or unparsable LAST line (it is
 * not consumed: `nextOffset` stays before it, so a tailing reader picks it up once complete) but
 * reports any other bad line with its file and line number.
 *
 * JSON has no NaN/Infinity: a non-finite value is written as `null` and read back as NaN.
 */
import * as fs from 'node:fs';
import type { MetricRecord } from '../protocol';
import { RunFileError, writeFileAtomic } from './atomic';
import { MAX_METRICS_BYTES, openRegularFile, statRegularFile } from './safeFiles';

const NEWLINE = 0x0a;

export function encodeMetricLines(records: MetricRecord[]): string {
  return records.map((record) => JSON.stringify(record) + '\n').join('');
}

/**
 * The records as a reader of metrics.jsonl gets them back (a non-finite value as NaN), for a
 * reader told them some other way (a progress message) that must see what the file says.
 */
export function asReadBack(records: MetricRecord[]): MetricRecord[] {
  const finite = (record: MetricRecord) => Object.values(record.values).every(Number.isFinite);
  if (records.every(finite)) return records;
  return records.map((record) =>
    finite(record) ? record : { ...record, values: Object.fromEntries(Object.entries(record.values).map(([name, value]) => [name, Number.isFinite(value) ? value : NaN])) },
  );
}

/**
 * Appends the records as whole lines in one write. Returns where they are in the file (nothing
 * for no records): from `fromOffset` to `nextOffset`, the file's size after the write (one writer
 * at a time, see src/runs/ownership.ts), so a reader told this need not read them back.
 */
export function appendMetricLines(file: string, records: MetricRecord[]): { fromOffset: number; nextOffset: number } | undefined {
  if (records.length === 0) return undefined;
  const text = encodeMetricLines(records);
  fs.appendFileSync(file, text);
  const nextOffset = fs.statSync(file).size;
  return { fromOffset: nextOffset - Buffer.byteLength(text), nextOffset };
}

/** Why `value` is not a MetricRecord, or undefined when it is one (NaN restored from null). */
function toMetricRecord(value: unknown): MetricRecord | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'expected a JSON object';
  const { step, time, values } = value as Record<string, unknown>;
  if (!Number.isSafeInteger(step) || (step as number) < 0) return '"step" should be a non-negative integer';
  if (typeof time !== 'number') return '"time" should be a number';
  if (typeof values !== 'object' || values === null || Array.isArray(values)) return '"values" should be an object';
  const restored: Record<string, number> = {};
  for (const [name, metric] of Object.entries(values)) {
    if (metric === null) restored[name] = NaN;
    else if (typeof metric === 'number') restored[name] = metric;
    else return `value "${name}" should be a number or null`;
  }
  return { step: step as number, time, values: restored };
}

function parseLine(text: string): MetricRecord | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return `not valid JSON (${(error as Error).message})`;
  }
  return toMetricRecord(value);
}

function lineNumberAt(file: string, byteOffset: number, bytesFromOffset: Buffer, fromOffset: number): number {
  const prefix = fromOffset > 0 ? readRange(file, 0, fromOffset) : Buffer.alloc(0);
  let lines = 1;
  for (const byte of prefix) if (byte === NEWLINE) lines++;
  for (let i = 0; i < byteOffset - fromOffset; i++) if (bytesFromOffset[i] === NEWLINE) lines++;
  return lines;
}

function readRange(file: string, start: number, end: number): Buffer {
  const fd = openRegularFile(file);
  try {
    const buffer = Buffer.alloc(end - start);
    let read = 0;
    while (read < buffer.length) {
      const n = fs.readSync(fd, buffer, read, buffer.length - read, start + read);
      if (n === 0) break;
      read += n;
    }
    return buffer.subarray(0, read);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * A record is one short line, so a file ending in more than this without a newline is not a record
 * being written but damage (a file grown by a crash or a copy and filled with NUL bytes, say).
 */
const MAX_UNTERMINATED_TAIL_BYTES = 1024 * 1024;

/** Refuses such a tail after reading only its last MAX_UNTERMINATED_TAIL_BYTES + 1 bytes, not the whole file. */
function assertTailBounded(file: string, from: number, size: number): void {
  if (size - from <= MAX_UNTERMINATED_TAIL_BYTES) return;
  if (readRange(file, size - MAX_UNTERMINATED_TAIL_BYTES - 1, size).includes(NEWLINE)) return;
  throw new RunFileError(file, `ends in more than ${MAX_UNTERMINATED_TAIL_BYTES} bytes without a newline: damaged (a metrics record is one short line)`);
}

/** True when `offset` is a place this reader could have returned: the start, or just after a newline. */
function isLineStart(file: string, offset: number): boolean {
  return offset === 0 || readRange(file, offset - 1, offset)[0] === NEWLINE;
}

/**
 * Records from byte `fromOffset` on. A record is a line ending in a newline: a last line without
 * one is still being written (or was cut by a kill) and is left for a later call, as is a
 * newline-terminated last line that is not valid JSON (a torn write). `nextOffset` is where the
 * next call should start.
 *
 * `nextOffset < fromOffset` means the file was replaced (a resume cut the records after its
 * checkpoint, see truncateMetricsAfter): drop what was read before and read again from 0.
 */
export function readMetricsFile(file: string, fromOffset = 0): { records: MetricRecord[]; nextOffset: number } {
  const stats = statRegularFile(file, MAX_METRICS_BYTES);
  if (!stats) return { records: [], nextOffset: 0 };
  const size = stats.size;
  if (fromOffset > size || !isLineStart(file, fromOffset)) return { records: [], nextOffset: 0 };
  if (fromOffset === size) return { records: [], nextOffset: size };
  assertTailBounded(file, fromOffset, size);

  const bytes = readRange(file, fromOffset, size);
  const records: MetricRecord[] = [];
  let lineStart = 0;
  for (;;) {
    const newline = bytes.indexOf(NEWLINE, lineStart);
    if (newline === -1) break; // no complete line left
    const text = bytes.toString('utf8', lineStart, newline).trim();
    if (text !== '') {
      const parsed = parseLine(text);
      if (typeof parsed === 'string') {
        const isLast = bytes.subarray(newline + 1).toString('utf8').trim() === '';
        if (isLast && parsed.startsWith('not valid JSON')) break; // torn last write
        const line = lineNumberAt(file, fromOffset + lineStart, bytes, fromOffset);
        throw new RunFileError(file, `corrupt metrics record: ${parsed}`, line);
      }
      records.push(parsed);
    }
    lineStart = newline + 1;
  }
  return { records, nextOffset: fromOffset + lineStart };
}

/**
 * Before a writer appends again (resume), make the file end on a record boundary so the next
 * append cannot glue onto garbage and create a corrupt middle line: a complete record that only
 * lacks its newline (hand edit) gets one; a truncated or torn tail is cut.
 */
export function repairMetricsTail(file: string): void {
  if (!fs.existsSync(file)) return;
  const { nextOffset } = readMetricsFile(file, 0);
  const size = fs.statSync(file).size;
  if (nextOffset === size) return;
  const tail = readRange(file, nextOffset, size).toString('utf8');
  const completeButUnterminated = !tail.includes('\n') && typeof parseLine(tail.trim()) !== 'string';
  if (completeButUnterminated) fs.appendFileSync(file, '\n');
  else fs.truncateSync(file, nextOffset);
}

/**
 * Keep only the records with `step <= lastStep` (resume from the checkpoint at `lastStep`).
 * The file is replaced atomically; a reader tailing it by offset must start again from 0.
 */
export function truncateMetricsAfter(file: string, lastStep: number): void {
  const { records } = readMetricsFile(file, 0);
  const kept = records.filter((record) => record.step <= lastStep);
  if (kept.length === records.length && fs.existsSync(file)) {
    repairMetricsTail(file);
    return;
  }
  writeFileAtomic(file, encodeMetricLines(kept));
}
