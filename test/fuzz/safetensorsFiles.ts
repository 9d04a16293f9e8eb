/**
 * Fuzz target: safetensors files. Each case starts from a valid file, either the seed run's last
 * checkpoint exported in the official layout (so the import path can accept it) or a small file
 * built from the format (any dtype, shape, order, metadata, padding), and changes one thing:
 * the 8-byte header length, one field of one tensor's header entry (dtype, shape, data_offsets)
 * replaced by a hostile value or removed, an unknown field, a tensor renamed (to `__metadata__`,
 * `__proto__`, a duplicate, a huge name), `__metadata__` replaced, the header's bytes (cut, bad
 * UTF-8, NUL, deep nesting), or the data section cut or grown.
 *
 * decodeSafetensors must return tensors that fit in the file, or a SafetensorsError naming the
 * source; a file that decodes goes on to importCheckpoint against the seed run's spec, which must
 * give a checkpoint or an error naming the source.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import fc from 'fast-check';
import { exportCheckpoint, importCheckpoint } from '../../src/core/weights/officialLayout';
import { decodeSafetensors, SafetensorsError, type SafetensorsDtype } from '../../src/core/weights/safetensors';
import { checkpointSource } from '../../src/runs/checkpointSource';
import { readSpec } from '../../src/runs/reader';
import type { ResolvedSpec } from '../../src/core/spec/types';
import { hostileText, hostileValue, logSize, type Hostile } from './hostileJson';
import { assertLocatedError, fail } from './outcomes';
import type { FuzzTarget, SetupContext } from './target';

const DTYPES: Record<SafetensorsDtype, number> = {
  BOOL: 1, U8: 1, I8: 1, F8_E5M2: 1, F8_E4M3: 1, I16: 2, U16: 2, F16: 2, BF16: 2,
  I32: 4, U32: 4, F32: 4, F64: 8, I64: 8, U64: 8,
};

interface TensorSpec {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
}

/** A valid file described by its parts, so that one part can be changed and the file rebuilt. */
interface FileParts {
  header: Record<string, unknown>;
  data: Uint8Array;
}

interface State {
  spec: ResolvedSpec;
  model: FileParts;
}

type HeaderField = 'dtype' | 'shape' | 'data_offsets';
type Rename = '__metadata__' | '__proto__' | 'constructor' | 'duplicate' | 'empty' | 'long';
type LengthChange = 'zero' | 'max-u64' | 'two-to-53' | 'plus' | 'minus' | 'whole-file' | 'into-data';
type DtypeText = 'toString' | '__proto__' | 'f32' | 'F32 ' | 'other' | 'F128';

type Change =
  | { kind: 'length'; to: LengthChange; by: number }
  | { kind: 'field'; tensor: number; field: HeaderField; hostile: Hostile }
  | { kind: 'dtype'; tensor: number; to: DtypeText; pick: number }
  | { kind: 'shape-entry'; tensor: number; value: number }
  | { kind: 'offsets'; tensor: number; begin: number; end: number }
  | { kind: 'remove-field'; tensor: number; field: HeaderField }
  | { kind: 'extra-field'; tensor: number }
  | { kind: 'rename'; tensor: number; to: Rename; length: number }
  | { kind: 'metadata'; hostile: Hostile }
  | { kind: 'header-bytes'; op: 'cut' | 'bad-utf8' | 'nul' | 'bom' | 'deep'; at: number; depth: number }
  | { kind: 'data'; op: 'cut' | 'grow'; bytes: number };

interface Case {
  /** The official export of the seed run's model, or a small file built from the format. */
  base: { from: 'model' } | { from: 'format'; tensors: TensorSpec[]; metadata: boolean; padding: number; seed: number };
  change: Change;
}

const LIMITS = { depth: 100_000, string: 1_000_000, array: 10_000, keys: 10_000 };
const SOURCE = 'fuzz.safetensors';

async function setup(context: SetupContext): Promise<State> {
  tf.env().set('IS_TEST', true);
  await tf.setBackend('cpu');
  const spec = readSpec(context.seedRun);
  const source = checkpointSource(context.seedRun);
  const checkpoint = await source.load(source.steps().at(-1)!);
  const file = exportCheckpoint(spec, checkpoint);
  tf.dispose([...checkpoint.weights, ...checkpoint.optimizer].map((t) => t.tensor));
  const length = Number(new DataView(file.buffer, file.byteOffset).getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(file.subarray(8, 8 + length))) as Record<string, unknown>;
  fs.writeFileSync(path.join(context.tmp, 'model.safetensors'), file); // for a person replaying a case
  return { spec, model: { header, data: file.subarray(8 + length) } };
}

const tensorSpec: fc.Arbitrary<TensorSpec> = fc.record({
  name: fc.constantFrom('w', 'b', 'encoder.0.weight', 'model.value_key.w', '0', 'é'),
  dtype: fc.constantFrom(...(Object.keys(DTYPES) as SafetensorsDtype[])),
  shape: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }),
});

function cases(): fc.Arbitrary<Case> {
  const tensor = fc.nat();
  const field = fc.constantFrom<HeaderField>('dtype', 'shape', 'data_offsets');
  const change: fc.Arbitrary<Change> = fc.oneof(
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('length' as const), to: fc.constantFrom<LengthChange>('zero', 'max-u64', 'two-to-53', 'plus', 'minus', 'whole-file', 'into-data'), by: fc.integer({ min: 1, max: 64 }) }) },
    { weight: 6, arbitrary: fc.record({ kind: fc.constant('field' as const), tensor, field, hostile: hostileValue(LIMITS) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('dtype' as const), tensor, to: fc.constantFrom<DtypeText>('toString', '__proto__', 'f32', 'F32 ', 'other', 'F128'), pick: fc.nat() }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('shape-entry' as const), tensor, value: fc.oneof(fc.integer({ min: -2, max: 8 }), fc.constantFrom(2 ** 31, 2 ** 32, 2 ** 53 - 1, 2 ** 53, 1e300, 0.5)) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('offsets' as const), tensor, begin: fc.oneof(fc.integer({ min: -8, max: 64 }), fc.constantFrom(2 ** 53, 2 ** 32, 1.5)), end: fc.oneof(fc.integer({ min: -8, max: 64 }), fc.constantFrom(2 ** 53 - 1, 2 ** 64, 2.5)) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('remove-field' as const), tensor, field }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('extra-field' as const), tensor }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('rename' as const), tensor, to: fc.constantFrom<Rename>('__metadata__', '__proto__', 'constructor', 'duplicate', 'empty', 'long'), length: logSize(LIMITS.string) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('metadata' as const), hostile: hostileValue(LIMITS) }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('header-bytes' as const), op: fc.constantFrom('cut' as const, 'bad-utf8' as const, 'nul' as const, 'bom' as const, 'deep' as const), at: fc.double({ min: 0, max: 1, noNaN: true }), depth: logSize(LIMITS.depth) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('data' as const), op: fc.constantFrom('cut' as const, 'grow' as const), bytes: fc.integer({ min: 1, max: 64 }) }) },
  );
  const base = fc.oneof(
    fc.constant({ from: 'model' as const }),
    fc.record({
      from: fc.constant('format' as const),
      tensors: fc.uniqueArray(tensorSpec, { maxLength: 4, selector: (t) => t.name }),
      metadata: fc.boolean(),
      padding: fc.integer({ min: 0, max: 7 }),
      seed: fc.nat(),
    }),
  );
  return fc.record({ base, change });
}

/** A valid file from the format: tensors in order, bytes from a small deterministic generator. */
function formatParts(base: Extract<Case['base'], { from: 'format' }>): FileParts {
  const header: Record<string, unknown> = base.metadata ? { __metadata__: { format: 'pt', note: 'fuzz' } } : {};
  let offset = 0;
  for (const { name, dtype, shape } of base.tensors) {
    const bytes = shape.reduce((n, d) => n * d, 1) * DTYPES[dtype];
    header[name] = { dtype, shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let state = base.seed;
  const data = Uint8Array.from({ length: offset }, () => (state = (state * 1103515245 + 12345) >>> 0) >>> 24);
  return { header, data };
}

/** The header's tensor names (not `__metadata__`), in file order. */
const tensorNames = (header: Record<string, unknown>) => Object.keys(header).filter((k) => k !== '__metadata__');

/** The header object as JSON text, with one member's value (or name) replaced by raw text. */
function headerText(header: Record<string, unknown>, padding: number, raw?: { tensor: string; field?: string; text: string; rename?: string }): string {
  const members = Object.entries(header).map(([name, entry]) => {
    if (!raw || name !== raw.tensor) return `${JSON.stringify(name)}:${JSON.stringify(entry)}`;
    if (raw.rename !== undefined) return `${raw.rename}:${JSON.stringify(entry)}`;
    if (raw.field === undefined) return `${JSON.stringify(name)}:${raw.text}`;
    const fields = Object.entries(entry as object).map(([k, v]) => `${JSON.stringify(k)}:${k === raw.field ? raw.text : JSON.stringify(v)}`);
    if (!(raw.field in (entry as object))) fields.push(`${JSON.stringify(raw.field)}:${raw.text}`);
    return `${JSON.stringify(name)}:{${fields.join(',')}}`;
  });
  return `{${members.join(',')}}${' '.repeat(padding)}`;
}

function assemble(headerBytes: Uint8Array, data: Uint8Array, declaredLength: bigint = BigInt(headerBytes.length)): Uint8Array {
  const file = new Uint8Array(8 + headerBytes.length + data.length);
  new DataView(file.buffer).setBigUint64(0, declaredLength, true);
  file.set(headerBytes, 8);
  file.set(data, 8 + headerBytes.length);
  return file;
}

/** The case's file: the base file with its one change. */
function caseFile(state: State, testCase: Case): Uint8Array {
  const base = testCase.base.from === 'model' ? state.model : formatParts(testCase.base);
  const padding = testCase.base.from === 'format' ? testCase.base.padding : 0;
  const header = structuredClone(base.header);
  const names = tensorNames(header);
  const pick = (index: number) => names[index % Math.max(1, names.length)];
  const encode = (text: string) => new TextEncoder().encode(text);
  const change = testCase.change;
  const entryOf = (index: number) => header[pick(index)] as Record<string, unknown> | undefined;
  switch (change.kind) {
    case 'length': {
      const text = encode(headerText(header, padding));
      const declared: Record<LengthChange, bigint> = {
        zero: 0n,
        'max-u64': 2n ** 64n - 1n,
        'two-to-53': 2n ** 53n,
        plus: BigInt(text.length + change.by),
        minus: BigInt(Math.max(0, text.length - change.by)),
        'whole-file': BigInt(text.length + base.data.length),
        'into-data': BigInt(text.length + Math.min(change.by, base.data.length)),
      };
      return assemble(text, base.data, declared[change.to]);
    }
    case 'field':
      if (names.length === 0) break;
      return assemble(encode(headerText(header, padding, { tensor: pick(change.tensor), field: change.field, text: hostileText(change.hostile, undefined, entryOf(change.tensor)?.[change.field]) })), base.data);
    case 'dtype': {
      const entry = entryOf(change.tensor);
      if (!entry) break;
      const dtypes = Object.keys(DTYPES).filter((d) => d !== entry.dtype);
      entry.dtype = change.to === 'other' ? dtypes[change.pick % dtypes.length] : change.to;
      break;
    }
    case 'shape-entry': {
      const entry = entryOf(change.tensor);
      if (!entry) break;
      const shape = entry.shape as number[];
      entry.shape = shape.length > 0 ? [change.value, ...shape.slice(1)] : [change.value];
      break;
    }
    case 'offsets': {
      const entry = entryOf(change.tensor);
      if (entry) entry.data_offsets = [change.begin, change.end];
      break;
    }
    case 'remove-field':
      delete entryOf(change.tensor)?.[change.field];
      break;
    case 'extra-field': {
      const entry = entryOf(change.tensor);
      if (entry) entry.fuzz = 1;
      break;
    }
    case 'rename': {
      if (names.length === 0) break;
      const other = names.find((n) => n !== pick(change.tensor)) ?? pick(change.tensor);
      const to: Record<Rename, string> = { __metadata__: '__metadata__', __proto__: '__proto__', constructor: 'constructor', duplicate: other, empty: '', long: 'n'.repeat(change.length) };
      // A duplicate name needs raw text: an object cannot hold one key twice.
      return assemble(encode(headerText(header, padding, { tensor: pick(change.tensor), text: '', rename: JSON.stringify(to[change.to]) })), base.data);
    }
    case 'metadata': {
      header.__metadata__ ??= {};
      return assemble(encode(headerText(header, padding, { tensor: '__metadata__', text: hostileText(change.hostile, undefined, header.__metadata__) })), base.data);
    }
    case 'header-bytes': {
      const text = encode(headerText(header, padding));
      const at = Math.floor(text.length * change.at);
      const edited = {
        cut: text.subarray(0, at),
        'bad-utf8': Uint8Array.from([...text.subarray(0, at), 0xc3, 0x28, ...text.subarray(at)]),
        nul: Uint8Array.from([...text.subarray(0, at), 0, ...text.subarray(at)]),
        bom: Uint8Array.from([0xef, 0xbb, 0xbf, ...text]),
        deep: encode(`{"deep":${'['.repeat(change.depth)}${']'.repeat(change.depth)},${new TextDecoder().decode(text).slice(1)}`),
      }[change.op];
      return assemble(edited, base.data);
    }
    case 'data': {
      const data = change.op === 'cut' ? base.data.subarray(0, Math.max(0, base.data.length - change.bytes)) : Uint8Array.from([...base.data, ...new Uint8Array(change.bytes)]);
      return assemble(encode(headerText(header, padding)), data);
    }
  }
  return assemble(encode(headerText(header, padding)), base.data);
}

async function check(state: State, testCase: Case): Promise<void> {
  const file = caseFile(state, testCase);
  const what = `decoding ${describe(state, testCase)}`;
  let contents: ReturnType<typeof decodeSafetensors>;
  try {
    contents = decodeSafetensors(file, SOURCE);
  } catch (error) {
    assertLocatedError(error, [SOURCE], what);
    if (!(error instanceof SafetensorsError)) fail(`threw a ${(error as Error).name}, not a SafetensorsError`, `${what}: ${(error as Error).message.slice(0, 300)}`);
    if (testCase.change.kind === 'dtype' && testCase.change.to !== 'other' && !/unknown dtype/.test(error.message)) {
      fail('a dtype outside the format is not reported as one', `${what}: ${error.message.slice(0, 300)}`);
    }
    return;
  }
  for (const [name, tensor] of contents.tensors) {
    const bytes = tensor.shape.reduce((n, d) => n * d, 1) * (DTYPES[tensor.dtype] ?? NaN);
    if (!(tensor.dtype in DTYPES) || !Object.hasOwn(DTYPES, tensor.dtype)) fail('decoded a tensor with a dtype outside the format', `${what}: '${name}' ${String(tensor.dtype)}`);
    if (tensor.bytes.length !== bytes) fail('decoded a tensor whose bytes do not fit its shape', `${what}: '${name}' [${tensor.shape}] ${tensor.dtype}: ${tensor.bytes.length} bytes`);
  }
  if (testCase.base.from !== 'model') return;
  try {
    const checkpoint = importCheckpoint(state.spec, file, SOURCE, 1);
    tf.dispose([...checkpoint.weights, ...checkpoint.optimizer].map((t) => t.tensor));
  } catch (error) {
    assertLocatedError(error, [SOURCE], `importing ${describe(state, testCase)}`);
  }
}

function describe(_state: State, testCase: Case): string {
  const base = testCase.base.from === 'model' ? 'the exported model' : `a file of ${testCase.base.tensors.map((t) => `${t.name} ${t.dtype} [${t.shape}]`).join(', ') || 'no tensors'}`;
  const { kind, ...change } = testCase.change;
  const shown = JSON.stringify(change);
  return `${base}, ${kind} ${shown.length > 300 ? `${shown.slice(0, 300)}...` : shown}`;
}

export const safetensorsFiles: FuzzTarget<State, Case> = { name: 'safetensors', setup, cases, check, describe };
