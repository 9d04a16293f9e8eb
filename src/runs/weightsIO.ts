/**
 * Tensors on disk through a TensorFlow.js IOHandler: `<group>.json` (a model.json-like manifest
 * with `weightsManifest[].weights` = weight specs) next to `<group>.bin` (the raw bytes).
 * tfjs only ships a file:// handler in tfjs-node; this one works with every backend.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { NamedTensor } from '../core/sink';
import { RunFileError, errorMessage, readJsonFile, writeFileDurable } from './atomic';

const MANIFEST_FORMAT = 'model-lab-weights';
const MANIFEST_VERSION = 1;

interface WeightsManifestFile {
  format: typeof MANIFEST_FORMAT;
  formatVersion: number;
  modelTopology?: unknown;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
}

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
      const manifest = readJsonFile(manifestPath) as Partial<WeightsManifestFile> | null;
      if (manifest?.format !== MANIFEST_FORMAT || !Array.isArray(manifest.weightsManifest)) {
        throw new RunFileError(manifestPath, `not a ${MANIFEST_FORMAT} manifest`);
      }
      if ((manifest.formatVersion ?? 0) > MANIFEST_VERSION) {
        throw new RunFileError(manifestPath, `written by a newer Model Lab (format ${manifest.formatVersion})`);
      }
      const weightSpecs = manifest.weightsManifest.flatMap((group) => group.weights);
      const buffers = manifest.weightsManifest.flatMap((group) =>
        group.paths.map((file) => readBinary(path.join(dir, file))),
      );
      return {
        modelTopology: manifest.modelTopology as {} | undefined,
        weightSpecs,
        weightData: joinWeightData(buffers).buffer as ArrayBuffer,
      };
    },
  };
}

function readBinary(file: string): ArrayBuffer {
  try {
    const bytes = fs.readFileSync(file);
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  } catch (error) {
    throw new RunFileError(file, `cannot read weights (${errorMessage(error)})`);
  }
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
  const manifestPath = path.join(dir, `${group}.json`);
  const expectedBytes = specs.reduce((sum, spec) => sum + specByteLength(spec, manifestPath), 0);
  const actualBytes = artifacts.weightData ? joinWeightData(artifacts.weightData).byteLength : 0;
  if (actualBytes !== expectedBytes) {
    throw new RunFileError(
      path.join(dir, `${group}.bin`),
      `holds ${actualBytes} bytes but the manifest describes ${expectedBytes}`,
    );
  }
  const decoded = tf.io.decodeWeights(artifacts.weightData ?? new ArrayBuffer(0), specs);
  // Object key order is not reliable for numeric-looking names: follow the manifest order.
  return specs.map((spec) => ({ name: spec.name, tensor: decoded[spec.name] }));
}

const BYTES_PER_ELEMENT: Record<string, number> = { float32: 4, int32: 4, bool: 1, complex64: 8 };

function specByteLength(spec: tf.io.WeightsManifestEntry, manifestPath: string): number {
  const elements = spec.shape.reduce((product, size) => product * size, 1);
  const perElement = BYTES_PER_ELEMENT[spec.dtype];
  if (spec.quantization || perElement === undefined) {
    throw new RunFileError(manifestPath, `tensor "${spec.name}" has unsupported dtype ${spec.dtype}`);
  }
  return elements * perElement;
}
