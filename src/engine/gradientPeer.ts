/**
 * The leader's side of a gradient worker: a GradientPeer whose shard runs in its own thread, so
 * the two shards of a step use both cores. One request in flight at a time (one per step).
 */
import * as path from 'node:path';
import type { Worker } from 'node:worker_threads';
import type { GradientPeer, ShardResult } from '../core/gradientShards';
import type { ResolvedSpec } from '../core/spec/types';
import type { Backend, FromGradientWorker, ToGradientWorker } from '../protocol';
import type { GradientWorkerData } from './gradientWorker';
import { describeWorkerError, startLimitedWorker } from './workerLimits';

export interface GradientWorkerOptions {
  backend: Backend;
  wasmDir: string;
  tfjsNodePath?: string;
  /** The bundled entry (default: dist/gradientWorker.js beside this bundle). */
  script?: string;
}

export class WorkerGradientPeer implements GradientPeer {
  private readonly worker: Worker;
  private readonly ready: Promise<void>;
  private started = false;
  private pending?: { resolve: (result: ShardResult) => void; reject: (error: Error) => void };
  private failed?: Error;

  constructor(spec: ResolvedSpec, options: GradientWorkerOptions) {
    const data: GradientWorkerData = { spec, backend: options.backend, wasmDir: options.wasmDir, tfjsNodePath: options.tfjsNodePath };
    this.worker = startLimitedWorker(options.script ?? path.join(__dirname, 'gradientWorker.js'), { workerData: data });
    let started!: () => void;
    this.ready = new Promise((resolve, reject) => {
      started = resolve;
      this.worker.once('error', reject);
    });
    this.worker.on('message', (message: FromGradientWorker) => {
      if (message.type === 'ready') {
        this.started = true;
        return started();
      }
      const pending = this.pending;
      this.pending = undefined;
      if (message.type === 'result') pending?.resolve({ loss: message.loss, gradients: message.gradients });
      else this.fail(new Error(`the gradient worker failed: ${message.message}`), pending);
    });
    this.worker.on('error', (error) => this.fail(new Error(`the gradient worker crashed: ${describeWorkerError(error)}`), this.pending));
    this.worker.on('exit', (code) => this.fail(new Error(`the gradient worker exited (code ${code})`), this.pending));
  }

  async compute(step: number, shard: number, weights: Float32Array[]): Promise<ShardResult> {
    // Post before returning: the leader computes its own shard synchronously right after this
    // call, so an `await` here (even of a settled promise) would hold the request back until the
    // leader had finished, and the two shards would run one after the other.
    if (!this.started) await this.ready;
    if (this.failed) throw this.failed;
    if (this.pending) throw new Error('the gradient worker is still computing the previous shard');
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      const message: ToGradientWorker = { type: 'compute', step, shard, weights };
      this.worker.postMessage(message, weights.map((w) => w.buffer as ArrayBuffer));
    });
  }

  private fail(error: Error, pending: { reject: (error: Error) => void } | undefined): void {
    this.failed ??= error;
    this.pending = undefined;
    pending?.reject(this.failed);
  }

  async dispose(): Promise<void> {
    this.worker.removeAllListeners('exit');
    await this.worker.terminate();
  }
}
