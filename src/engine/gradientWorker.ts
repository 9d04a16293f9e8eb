/**
 * Entry point of a gradient worker (bundled as dist/gradientWorker.js), started by a training
 * worker for a run with training.gradientWorkers = 2. It keeps a replica of the run's model,
 * takes the leader's weights each step and answers with the loss and gradients of its shard;
 * between steps it hands over or takes back its objective's state (checkpoints, resume).
 */
import { parentPort, workerData } from 'node:worker_threads';
import '../core/labs';
import { ReplicaPeer } from '../core/gradientShards';
import type { ResolvedSpec } from '../core/spec/types';
import type { Backend, FromGradientWorker, ToGradientWorker } from '../protocol';
import { errorMessage } from '../shared/errors';
import { selectBackend } from './backend';

/** What the training worker passes: the run's spec and the backend it trains with, so both shards compute alike. */
export interface GradientWorkerData {
  spec: ResolvedSpec;
  backend: Backend;
  wasmDir: string;
  tfjsNodePath?: string;
}

if (!parentPort) throw new Error('src/engine/gradientWorker.ts must run in a worker thread.');
const port = parentPort;
const config = workerData as GradientWorkerData;
const post = (message: FromGradientWorker, transfer: ArrayBuffer[] = []) => port.postMessage(message, transfer);
const failure = (error: unknown) => post({ type: 'error', message: errorMessage(error) });

selectBackend(config.backend, { wasmDir: config.wasmDir, tfjsNodePath: config.tfjsNodePath }).then(
  () => {
    const replica = new ReplicaPeer(config.spec);
    port.on('message', (message: ToGradientWorker) => {
      try {
        if (message.type === 'save-state') return post({ type: 'state', state: replica.saveStateNow() });
        if (message.type === 'restore-state') {
          replica.restoreStateNow(message.state);
          return post({ type: 'restored' });
        }
        const { loss, gradients } = replica.computeNow(message.step, message.shard, message.weights);
        post({ type: 'result', step: message.step, loss, gradients }, gradients.map((g) => g.buffer as ArrayBuffer));
      } catch (error) {
        failure(error);
      }
    });
    post({ type: 'ready' });
  },
  failure,
);
