/** What a run records about where it trains (environment.json): one definition for host, CLI and worker. */
import * as os from 'node:os';
import type { BackendInfo } from '../protocol';
import type { RunEnvironment } from '../runs/layout';
import packageJson from '../../package.json';

export const MODEL_LAB_VERSION: string = packageJson.version;

export function runEnvironment(backend: BackendInfo, workers: number): RunEnvironment {
  return {
    backend,
    versions: { 'model-lab': MODEL_LAB_VERSION, '@tensorflow/tfjs': backend.version, node: process.version },
    workers,
    platform: `${os.platform()}-${os.arch()} node ${process.version}`,
  };
}
