/**
 * A run's checkpoints as the core reads them (`CheckpointSource`): the steps saved, and one loaded.
 * Apart from src/runs/reader.ts because loading makes tensors: the reader stays free of
 * TensorFlow.js, so the extension host, which lists and reads runs, never loads it.
 */
import type { CheckpointSource } from '../core/sink';
import { listCheckpointSteps, loadCheckpoint } from './checkpoints';

export function checkpointSource(runDir: string): CheckpointSource {
  return {
    steps: () => listCheckpointSteps(runDir),
    load: (step) => loadCheckpoint(runDir, step),
  };
}
