/**
 * The manifest of a group of saved tensors (`<group>.json` beside `<group>.bin`, written by
 * weightsIO.ts): format, and reading it back checked for shape. No TensorFlow.js (its types
 * only), so the host can read which weights a checkpoint holds (names and shapes, for `init`)
 * without loading it.
 */
import * as path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import { RunFileError, readJsonFile } from './atomic';
import { describeValue } from './errors';
import { WEIGHTS_GROUP, checkpointDir } from './layout';
import { assertFolderInside, isPlainFileName } from './safeFiles';
import type { WeightShape } from '../core/weightLayout';

export const MANIFEST_FORMAT = 'model-lab-weights';
export const MANIFEST_VERSION = 1;

export interface WeightsManifestFile {
  format: typeof MANIFEST_FORMAT;
  formatVersion: number;
  modelTopology?: unknown;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
}

/** The manifest, checked for shape: it decides which files are read and how many bytes they hold. */
export function readManifest(manifestPath: string): WeightsManifestFile {
  const manifest = readJsonFile(manifestPath) as Partial<WeightsManifestFile> | null;
  if (manifest?.format !== MANIFEST_FORMAT || !Array.isArray(manifest.weightsManifest)) {
    throw new RunFileError(manifestPath, `not a ${MANIFEST_FORMAT} manifest`);
  }
  if (typeof manifest.formatVersion !== 'number' || manifest.formatVersion > MANIFEST_VERSION) {
    throw new RunFileError(manifestPath, `written by a newer Model Lab (format ${describeValue(manifest.formatVersion)})`);
  }
  manifest.weightsManifest.forEach((group, g) => {
    const where = `weightsManifest[${g}]`;
    if (typeof group !== 'object' || group === null || !Array.isArray(group.paths) || !Array.isArray(group.weights)) {
      throw new RunFileError(manifestPath, `${where} should be an object with "paths" and "weights" lists`);
    }
    group.paths.forEach((name, p) => {
      if (!isPlainFileName(name)) {
        const shown = describeValue(name);
        throw new RunFileError(manifestPath, `${where}.paths[${p}] should be a plain file name in the checkpoint folder, got ${shown}`);
      }
    });
    group.weights.forEach((spec, w) => {
      const entry = spec as Partial<tf.io.WeightsManifestEntry> | null;
      if (typeof entry !== 'object' || entry === null || typeof entry.name !== 'string' || typeof entry.dtype !== 'string' || !Array.isArray(entry.shape)) {
        throw new RunFileError(manifestPath, `${where}.weights[${w}] should be {name, shape, dtype}`);
      }
    });
  });
  return manifest as WeightsManifestFile;
}

/** The model weights' names and shapes of a run's checkpoint at `step`, from its manifest alone. */
export function checkpointWeightShapes(runDir: string, step: number): WeightShape[] {
  const dir = checkpointDir(runDir, step);
  assertFolderInside(runDir, dir); // checkpoints/ and step-N/ are real folders, not links out of the run
  const manifest = readManifest(path.join(dir, `${WEIGHTS_GROUP}.json`));
  return manifest.weightsManifest.flatMap((group) => group.weights.map(({ name, shape }) => ({ name, shape })));
}
