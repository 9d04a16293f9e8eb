/** An in-memory RunSink for core tests: keeps records and checkpoints (tensor values copied out). */
import * as tf from '@tensorflow/tfjs';
import type { MetricRecord } from '../../src/protocol';
import type { Checkpoint, RunSink } from '../../src/core/sink';
import assert from 'node:assert/strict';
import { parseSpec } from '../../src/core/spec/validate';
import { train } from '../../src/core/train';

export class MemorySink implements RunSink {
  records: MetricRecord[] = [];
  checkpoints = new Map<number, Checkpoint>();
  lastHeartbeat = 0;

  appendMetrics(records: MetricRecord[]): void {
    this.records.push(...records);
  }
  heartbeat(step: number): void {
    this.lastHeartbeat = step;
  }
  rewindTo(step: number): void {
    this.records = this.records.filter((r) => r.step <= step);
  }
  async saveCheckpoint(checkpoint: Checkpoint): Promise<void> {
    const copy = (list: Checkpoint['weights']) => list.map(({ name, tensor }) => ({ name, tensor: tf.clone(tensor) }));
    this.checkpoints.set(checkpoint.step, {
      step: checkpoint.step,
      weights: copy(checkpoint.weights),
      optimizer: copy(checkpoint.optimizer),
      loop: { ...checkpoint.loop },
      ...(checkpoint.objectiveState ? { objectiveState: copy(checkpoint.objectiveState) } : {}),
    });
  }
  /** Loss values only (times differ between runs). */
  values(): Array<[number, Record<string, number>]> {
    return this.records.map((r) => [r.step, r.values]);
  }
}

/** Trains an experiment file's text to its end in memory and returns its metric values by step. */
export async function trainedValues(text: string, file: string): Promise<Array<[number, Record<string, number>]>> {
  const { spec, problems } = parseSpec(text, file);
  assert.deepEqual(problems, []);
  const sink = new MemorySink();
  await train({ spec: spec!, sink, shouldStop: () => false });
  return sink.values();
}
