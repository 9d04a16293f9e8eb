/**
 * The safetensors file format (huggingface/safetensors), written out because it is tiny and no
 * maintained npm package for it exists:
 *   8 bytes   N, the header length, unsigned 64-bit little-endian
 *   N bytes   a JSON object: { "<name>": { "dtype", "shape", "data_offsets": [begin, end] }, ...,
 *             optionally "__metadata__": { string: string } }, padded with spaces to a multiple of 8
 *   rest      the tensors' bytes, little-endian, offsets relative to the end of the header
 * We write F32 only; reading accepts every dtype of the format and leaves conversion to callers.
 */

export type SafetensorsDtype =
  | 'BOOL' | 'U8' | 'I8' | 'F8_E5M2' | 'F8_E4M3' | 'I16' | 'U16' | 'F16' | 'BF16'
  | 'I32' | 'U32' | 'F32' | 'F64' | 'I64' | 'U64';

const DTYPE_BYTES: Record<SafetensorsDtype, number> = {
  BOOL: 1, U8: 1, I8: 1, F8_E5M2: 1, F8_E4M3: 1, I16: 2, U16: 2, F16: 2, BF16: 2,
  I32: 4, U32: 4, F32: 4, F64: 8, I64: 8, U64: 8,
};

const METADATA_KEY = '__metadata__';
/** The reference implementation refuses larger headers; so do we (a corrupt length is caught early). */
const MAX_HEADER_BYTES = 100_000_000;

export class SafetensorsError extends Error {
  constructor(readonly source: string, readonly detail: string) {
    super(`${source}: ${detail}`);
  }
}

/** A tensor read from a file: raw little-endian bytes of `dtype`. */
export interface StoredTensor {
  dtype: SafetensorsDtype;
  shape: number[];
  bytes: Uint8Array;
}

export interface SafetensorsContents {
  /** In file order (the order of the header). */
  tensors: Map<string, StoredTensor>;
  metadata: Record<string, string>;
}

export interface Float32Entry {
  name: string;
  shape: number[];
  data: Float32Array;
}

const elementCount = (shape: readonly number[]) => shape.reduce((n, d) => n * d, 1);

/** Encode F32 tensors, in the order given, plus optional string metadata. */
export function encodeSafetensors(entries: readonly Float32Entry[], metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) header[METADATA_KEY] = metadata;
  let offset = 0;
  for (const { name, shape, data } of entries) {
    if (name === METADATA_KEY) throw new Error(`a tensor cannot be named ${METADATA_KEY}`);
    if (name in header) throw new Error(`tensor '${name}' is given twice`);
    if (elementCount(shape) !== data.length) {
      throw new Error(`tensor '${name}': shape [${shape}] holds ${elementCount(shape)} values, got ${data.length}`);
    }
    header[name] = { dtype: 'F32', shape: [...shape], data_offsets: [offset, offset + data.length * 4] };
    offset += data.length * 4;
  }
  let json = JSON.stringify(header);
  const encoder = new TextEncoder();
  const unpadded = encoder.encode(json).length;
  json += ' '.repeat((8 - (unpadded % 8)) % 8); // the format allows trailing spaces; keeps the data 8-byte aligned
  const headerBytes = encoder.encode(json);

  const file = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(file.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  file.set(headerBytes, 8);
  let position = 8 + headerBytes.length;
  for (const { data } of entries) {
    for (const value of data) {
      view.setFloat32(position, value, true);
      position += 4;
    }
  }
  return file;
}

/** Decode a safetensors file; `source` (e.g. the file name) starts every error message. */
export function decodeSafetensors(file: Uint8Array, source: string): SafetensorsContents {
  const fail = (detail: string): never => {
    throw new SafetensorsError(source, detail);
  };
  if (file.length < 8) fail(`not a safetensors file: ${file.length} bytes, shorter than the 8-byte header length`);
  const view = new DataView(file.buffer, file.byteOffset, file.byteLength);
  const declared = view.getBigUint64(0, true);
  if (declared > BigInt(Math.min(MAX_HEADER_BYTES, file.length - 8))) {
    fail(`not a safetensors file: the header length (${declared} bytes) exceeds the file (${file.length} bytes)`);
  }
  const headerLength = Number(declared);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(file.subarray(8, 8 + headerLength)));
  } catch (error) {
    fail(`not a safetensors file: the header is not valid JSON (${(error as Error).message})`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('the header must be a JSON object');

  const data = file.subarray(8 + headerLength);
  const tensors = new Map<string, StoredTensor>();
  let metadata: Record<string, string> = {};
  const spans: Array<[number, number, string]> = [];
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === METADATA_KEY) {
      metadata = readMetadata(entry, fail);
      continue;
    }
    const tensor = `tensor '${short(name)}'`;
    const { dtype, shape, data_offsets: offsets } = (entry ?? {}) as Record<string, unknown>;
    // Own keys only: 'toString' or '__proto__' are not dtypes, though `in` finds them on every object.
    if (typeof dtype !== 'string' || !Object.hasOwn(DTYPE_BYTES, dtype)) {
      fail(`${tensor}: unknown dtype ${shown(dtype)}`);
    }
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      fail(`${tensor}: shape must be a list of non-negative integers, got ${shown(shape)}`);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
      fail(`${tensor}: data_offsets must be [begin, end], got ${shown(offsets)}`);
    }
    const [begin, end] = offsets as [number, number];
    const expected = elementCount(shape as number[]) * DTYPE_BYTES[dtype as SafetensorsDtype];
    if (end < begin || end - begin !== expected) {
      fail(`${tensor}: data_offsets [${begin}, ${end}] hold ${end - begin} bytes, but ${dtype} ${shown(shape)} needs ${expected}`);
    }
    if (end > data.length) fail(`${tensor}: its data ends at byte ${end}, past the end of the data (${data.length} bytes)`);
    spans.push([begin, end, name]);
    tensors.set(name, { dtype: dtype as SafetensorsDtype, shape: shape as number[], bytes: data.subarray(begin, end) });
  }
  checkSpans(spans, data.length, fail);
  return { tensors, metadata };
}

function readMetadata(entry: unknown, fail: (detail: string) => never): Record<string, string> {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) fail(`${METADATA_KEY} must be an object of strings, got ${shown(entry)}`);
  for (const [key, value] of Object.entries(entry as object)) {
    if (typeof value !== 'string') fail(`${METADATA_KEY}.${short(key)} must be a string, got ${shown(value)}`);
  }
  return { ...(entry as Record<string, string>) };
}

/**
 * A value of the header for an error message. The header is untrusted: a value can be a
 * megabyte-long string or nested deeper than JSON.stringify can recurse, so it is shown short
 * and never stringified whole.
 */
function shown(value: unknown): string {
  if (Array.isArray(value)) {
    const simple = value.length <= 8 && value.every((v) => typeof v === 'number' || typeof v === 'string');
    return simple ? `[${value.map(shown).join(', ')}]` : `a list of ${value.length} items`;
  }
  if (typeof value === 'object' && value !== null) return 'an object';
  if (value === undefined) return 'nothing';
  return typeof value === 'string' ? JSON.stringify(short(value)) : short(String(value));
}

const short = (text: string): string => (text.length > 60 ? `${text.slice(0, 57)}...` : text);

/** Tensors must tile the data without gaps or overlaps (as the reference reader requires). */
function checkSpans(spans: Array<[number, number, string]>, length: number, fail: (detail: string) => never): void {
  spans.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let expected = 0;
  for (const [begin, end, name] of spans) {
    if (begin !== expected) {
      fail(`tensor '${short(name)}' starts at byte ${begin} of the data, expected ${expected} (tensors overlap or leave a gap)`);
    }
    expected = end;
  }
  if (expected !== length) fail(`the data holds ${length} bytes but the tensors cover ${expected}`);
}

/** The values of an F32 tensor (copied, so they do not alias the file). */
export function float32Values(tensor: StoredTensor): Float32Array {
  if (tensor.dtype !== 'F32') throw new Error(`expected dtype F32, got ${tensor.dtype}`);
  const view = new DataView(tensor.bytes.buffer, tensor.bytes.byteOffset, tensor.bytes.byteLength);
  return Float32Array.from({ length: tensor.bytes.length / 4 }, (_, i) => view.getFloat32(i * 4, true));
}
