/**
 * Writing runs: everything of src/runs/runFolder.ts (create a run folder, the run's status and
 * metrics writer), and DiskRunSink, the RunSink the training loop writes through: that writer
 * plus checkpoints with retention. Checkpoints hold tensors, so this module loads TensorFlow.js;
 * the extension host imports runFolder.ts instead.
 */
import type { Checkpoint, RunSink } from '../core/sink';
import { pruneCheckpoints, writeCheckpoint } from './checkpoints';
import { RunFolderSink } from './runFolder';

export * from './runFolder';

export class DiskRunSink extends RunFolderSink implements RunSink {
  async saveCheckpoint(checkpoint: Checkpoint): Promise<void> {
    this.assertOpen('save a checkpoint');
    this.lock.assertHeld();
    await writeCheckpoint(this.runDir, checkpoint);
    pruneCheckpoints(this.runDir, this.keepCheckpoints);
  }
}
