/**
 * Loads a folder of the user's PNG images as an object set (e.g. the original ESBN glyphs for
 * fidelity runs). Images are taken in natural order of their file names (2.png before 10.png),
 * must be 32 x 32 (they are not resized: a silent resize would change the task) and are turned
 * into greyscale intensities in [0, 1], transparent pixels composited on white paper.
 * Decoding uses `pngjs` (pure JavaScript, so it runs in the worker, the CLI and tests alike).
 */
import { readdirSync, statSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { PNG } from 'pngjs';
import { INPUT_LIMITS, InputFileError, readUserFile } from '../userFiles';
import { OBJECT_PIXELS, OBJECT_SIZE, type ObjectSet } from './objectSet';

/** More images than any object set needs (the tasks use 100); bounds the memory of a folder. */
export const MAX_OBJECT_IMAGES = 10_000;

export class ObjectSetError extends Error {
  override readonly name = 'ObjectSetError';
}

export function loadPngFolder(folder: string): ObjectSet {
  if (!isAbsolute(folder)) {
    // Experiment files resolve relative folders against their own folder (see tasks.ts).
    throw new ObjectSetError(`objectSet.folder must be an absolute path here, got '${folder}'`);
  }
  let names: string[];
  try {
    if (!statSync(folder).isDirectory()) throw new ObjectSetError(`objectSet.folder '${folder}' is not a folder`);
    names = readdirSync(folder).filter((name) => name.toLowerCase().endsWith('.png'));
  } catch (error) {
    if (error instanceof ObjectSetError) throw error;
    throw new ObjectSetError(`cannot read objectSet.folder '${folder}': ${(error as Error).message}`);
  }
  if (names.length === 0) throw new ObjectSetError(`objectSet.folder '${folder}' holds no .png images`);
  if (names.length > MAX_OBJECT_IMAGES) {
    throw new ObjectSetError(`objectSet.folder '${folder}' holds ${names.length} .png images: at most ${MAX_OBJECT_IMAGES} are allowed`);
  }
  names.sort(new Intl.Collator('en', { numeric: true }).compare);

  // A sweep validates the same folder once per member: decode again only when a file changed.
  const signature = names.map((name) => {
    const { size, mtimeMs } = statSync(join(folder, name));
    return `${name}:${size}:${mtimeMs}`;
  }).join('/');
  const cached = decoded.get(folder);
  if (cached?.signature === signature) return cached.set;

  const pixels = new Float32Array(names.length * OBJECT_PIXELS);
  names.forEach((name, index) => pixels.set(decodeGreyscale(join(folder, name)), index * OBJECT_PIXELS));
  const set: ObjectSet = { source: folder, count: names.length, pixels };
  decoded.set(folder, { signature, set });
  return set;
}

const decoded = new Map<string, { signature: string; set: ObjectSet }>();

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * Width and height from the PNG header (the IHDR chunk, which must come first), read before
 * decoding: a small file may declare 20000 x 20000 pixels, gigabytes once decoded.
 */
export function pngDimensions(bytes: Uint8Array): { width: number; height: number } | undefined {
  if (bytes.length < 24 || !PNG_SIGNATURE.equals(bytes.subarray(0, 8))) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (String.fromCharCode(...bytes.subarray(12, 16)) !== 'IHDR') return undefined;
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

/** One 32 x 32 PNG as greyscale intensities in [0, 1]. */
export function decodeGreyscale(file: string): Float32Array {
  let bytes: Buffer;
  try {
    bytes = readUserFile(file, 'object image', INPUT_LIMITS.imageBytes);
  } catch (error) {
    if (error instanceof InputFileError) throw new ObjectSetError(error.message);
    throw error;
  }
  const declared = pngDimensions(bytes);
  if (!declared) throw new ObjectSetError(`cannot decode ${file} as PNG: it does not start with a PNG signature and header`);
  if (declared.width !== OBJECT_SIZE || declared.height !== OBJECT_SIZE) {
    throw new ObjectSetError(`${file} is ${declared.width} x ${declared.height} pixels: objects must be ${OBJECT_SIZE} x ${OBJECT_SIZE}`);
  }
  let image: PNG;
  try {
    image = PNG.sync.read(bytes);
  } catch (error) {
    throw new ObjectSetError(`cannot decode ${file} as PNG: ${(error as Error).message}`);
  }
  if (image.width !== OBJECT_SIZE || image.height !== OBJECT_SIZE) {
    throw new ObjectSetError(`${file} is ${image.width} x ${image.height} pixels: objects must be ${OBJECT_SIZE} x ${OBJECT_SIZE}`);
  }
  // pngjs decodes every colour type and bit depth to 8-bit RGBA.
  const grey = new Float32Array(OBJECT_PIXELS);
  for (let k = 0; k < OBJECT_PIXELS; k++) {
    const [r, g, b, a] = image.data.subarray(4 * k, 4 * k + 4);
    // Grey pixels keep their exact value (v / 255, as the reference code reads them).
    const luminance = r === g && g === b ? r / 255 : (0.299 * r + 0.587 * g + 0.114 * b) / 255;
    const alpha = a / 255;
    grey[k] = alpha * luminance + (1 - alpha); // on white paper
  }
  return grey;
}
