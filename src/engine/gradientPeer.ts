/**
 * The leader's side of a gradient worker: a GradientPeer whose shard runs in its own thread, so
 * the two shards of a step use both cores. One request in flight at a time: a shard per step, or
 * between steps the worker objective's state (saved in checkpoints, restored on resume).
 */
import * as path from 'node:path';
import type { Worker } from 'node:worker_threads';
import type { GradientPeer, PlainTensor, ShardResult } from '../core/gradientShards';
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
  private pending?: { resolve: (reply: FromGradientWorker) => void; reject: (error: Error) => void };
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
      if (message.type === 'error') this.fail(new Error(`the gradient worker failed: ${message.message}`), pending);
      else pending?.resolve(message);
    });
    this.worker.on('error', (error) => this.fail(new Error(`the gradient worker crashed: ${describeWorkerError(error)}`), this.pending));
    this.worker.on('exit', (code) => this.fail(new Error(`the gradient worker exited (code ${code})`), this.pending));
  }

  async compute(step: number, shard: number, weights: Float32Array[]): Promise<ShardResult> {
    const reply = await this.request({ type: 'compute', step, shard, weights }, weights.map((w) => w.buffer as ArrayBuffer));
    if (reply.type !== 'result') throw new Error(`the gradient worker answered '${reply.type}' to a shard`);
    return { loss: reply.loss, gradients: reply.gradients };
  }

  async saveState(): Promise<PlainTensor[]> {
    const reply = await this.request({ type: 'save-state' });
    if (reply.type !== 'state') throw new Error(`the gradient worker answered '${reply.type}' to save-state`);
    return reply.state;
  }

  async restoreState(state: PlainTensor[]): Promise<void> {
    const reply = await this.request({ type: 'restore-state', state });
    if (reply.type !== 'restored') throw new Error(`the gradient worker answered '${reply.type}' to restore-state`);
  }

  private async request(message: ToGradientWorker, transfer: ArrayBuffer[] = []): Promise<FromGradientWorker> {
    // Post before returning: the leader computes its own shard synchronously right after
    // `compute`, so an `await` here (even of a settled promise) would hold the request back until
    // the leader had finished, and the two shards would run one after the other.
    if (!this.started) await this.ready;
    if (this.failed) throw this.failed;
    if (this.pending) throw new Error('the gradient worker is still answering the previous request');
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.worker.postMessage(message, transfer);
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
