/**
 * Tensors on disk through a TensorFlow.js IOHandler: `<group>.json` (a model.json-like manifest
 * with `weightsManifest[].weights` = weight specs) next to `<group>.bin` (the raw bytes).
 * tfjs only ships a file:// handler in tfjs-node; this one works with every backend.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { NamedTensor } from '../core/sink';
import { RunFileError, errorMessage, writeFileDurable } from './atomic';
import { describeValue } from './errors';
import { MAX_WEIGHTS_BYTES, readRegularFile } from './safeFiles';
import { MANIFEST_FORMAT, MANIFEST_VERSION, readManifest, type WeightsManifestFile } from './weightsManifest';

function joinWeightData(data: tf.io.WeightData): Uint8Array {
  const buffers = Array.isArray(data) ? data : [data];
  const total = buffers.reduce((sum, buffer) => sum + buffer.byteLength, 0);
  const joined = new Uint8Array(total);
  let offset = 0;
  for (const buffer of buffers) {
    joined.set(new Uint8Array(buffer), offset);
    offset += buffer.byteLength;
  }
  return joined;
}

/**
 * An IOHandler that saves to / loads from `<dir>/<group>.json` + `<dir>/<group>.bin`.
 * Files are written durably (fsync) but not atomically: callers write into a temp folder
 * and rename it (see checkpoints.ts).
 */
export type FolderIOHandler = Required<Pick<tf.io.IOHandler, 'save' | 'load'>>;

export function folderIOHandler(dir: string, group: string): FolderIOHandler {
  const manifestPath = path.join(dir, `${group}.json`);
  const binName = `${group}.bin`;
  const binPath = path.join(dir, binName);

  return {
    async save(artifacts: tf.io.ModelArtifacts): Promise<tf.io.SaveResult> {
      if (artifacts.modelTopology instanceof ArrayBuffer) {
        throw new Error('folderIOHandler saves JSON model topologies only');
      }
      const weightSpecs = artifacts.weightSpecs ?? [];
      const bytes = artifacts.weightData ? joinWeightData(artifacts.weightData) : new Uint8Array(0);
      const manifest: WeightsManifestFile = {
        format: MANIFEST_FORMAT,
        formatVersion: MANIFEST_VERSION,
        ...(artifacts.modelTopology !== undefined ? { modelTopology: artifacts.modelTopology } : {}),
        weightsManifest: [{ paths: [binName], weights: weightSpecs }],
      };
      // The bin first, the manifest last: a manifest never points at bytes that are not there.
      writeFileDurable(binPath, bytes);
      writeFileDurable(manifestPath, JSON.stringify(manifest));
      return {
        modelArtifactsInfo: {
          dateSaved: new Date(),
          modelTopologyType: 'JSON',
          weightSpecsBytes: JSON.stringify(weightSpecs).length,
          weightDataBytes: bytes.byteLength,
        },
      };
    },

    async load(): Promise<tf.io.ModelArtifacts> {
      const manifest = readManifest(manifestPath);
      const weightSpecs = manifest.weightsManifest.flatMap((group) => group.weights);
      const expectedBytes = weightSpecs.reduce((sum, spec) => sum + specByteLength(spec, manifestPath), 0);
      if (expectedBytes > MAX_WEIGHTS_BYTES) throw new RunFileError(manifestPath, 'its tensors are larger than a checkpoint may hold');
      const buffers = readWeightFiles(dir, manifest.weightsManifest.flatMap((group) => group.paths), expectedBytes, manifestPath);
      return {
        modelTopology: manifest.modelTopology as {} | undefined,
        weightSpecs,
        weightData: joinWeightData(buffers).buffer as ArrayBuffer,
      };
    },
  };
}

/**
 * The weight files a manifest names: plain names in `dir`, regular files, whose sizes add up to
 * exactly what the manifest's tensors need (so a manifest cannot make us read more than it says).
 */
function readWeightFiles(dir: string, names: string[], expectedBytes: number, manifestPath: string): ArrayBuffer[] {
  let total = 0;
  for (const name of names) total += regularFileSize(path.join(dir, name));
  if (total !== expectedBytes) {
    const files = names.length === 0 ? 'no file' : names.length <= 4 ? names.join(', ') : `its ${names.length} files`; // a manifest may list thousands
    throw new RunFileError(manifestPath, `its tensors need ${expectedBytes} bytes but ${files} hold ${total}`);
  }
  return names.map((name) => {
    const bytes = readRegularFile(path.join(dir, name), expectedBytes);
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  });
}

function regularFileSize(file: string): number {
  let stats: fs.Stats;
  try {
    stats = fs.lstatSync(file);
  } catch (error) {
    throw new RunFileError(file, `cannot read weights (${errorMessage(error)})`);
  }
  if (!stats.isFile()) throw new RunFileError(file, 'is not a regular file (weights are plain files in the checkpoint folder)');
  return stats.size;
}

/** Save named tensors, in order, as one group. Names must be unique (they key the manifest). */
export async function saveNamedTensors(dir: string, group: string, tensors: NamedTensor[]): Promise<void> {
  const seen = new Set<string>();
  for (const { name } of tensors) {
    if (seen.has(name)) throw new Error(`Cannot save ${group}: two tensors are named "${name}"`);
    seen.add(name);
  }
  const { data, specs } = await tf.io.encodeWeights(tensors);
  await folderIOHandler(dir, group).save({ weightSpecs: specs, weightData: data });
}

/** Load a group saved by `saveNamedTensors`, in saved order. The caller owns the tensors. */
export async function loadNamedTensors(dir: string, group: string): Promise<NamedTensor[]> {
  const artifacts = await folderIOHandler(dir, group).load();
  const specs = artifacts.weightSpecs ?? [];
  const decoded = tf.io.decodeWeights(artifacts.weightData ?? new ArrayBuffer(0), specs);
  // Object key order is not reliable for numeric-looking names: follow the manifest order.
  return specs.map((spec) => ({ name: spec.name, tensor: decoded[spec.name] }));
}

const BYTES_PER_ELEMENT: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8 };

/** Bytes of one tensor of a manifest; a shape or dtype that cannot be a tensor of ours is an error. */
function specByteLength(spec: tf.io.WeightsManifestEntry, manifestPath: string): number {
  const name = spec.name.slice(0, 80);
  const perElement = BYTES_PER_ELEMENT[spec.dtype];
  if (spec.quantization || perElement === undefined) {
    throw new RunFileError(manifestPath, `tensor "${name}" has unsupported dtype ${describeValue(spec.dtype)}`);
  }
  let bytes = perElement;
  for (const size of spec.shape) {
    if (!Number.isSafeInteger(size) || size < 0) {
      throw new RunFileError(manifestPath, `tensor "${name}" has a bad shape entry ${describeValue(size)}`);
    }
    bytes *= size;
    if (bytes > MAX_WEIGHTS_BYTES) throw new RunFileError(manifestPath, `tensor "${name}" is larger than a checkpoint may hold`);
  }
  return bytes;
}
