/**
 * The rows of the runs table, kept from a `RunDataSource` (the run registry): one per run, with
 * its display name, lab, state, duration, the last value of each metric and the resolved spec.
 * Each run's metrics are read once; after that the last values follow the source's `onMetrics`
 * records, and a spec (written once, bounded by the reader) is read once per run. No `vscode`.
 */
import { labOf } from '../../core/labList';
import type { MetricRecord, RunSummary } from '../../protocol';
import type { RunsTableRow } from '../../protocol/runsTable';
import type { Disposable } from '../../shared/disposable';
import { runDisplayName } from '../../shared/runs';
import type { RunDataSource } from '../panels/dashboardPanel';

export type RunsTableSource = Pick<RunDataSource, 'listRuns' | 'readMetrics' | 'readSpec' | 'onMetrics' | 'onRunChanged' | 'onDidChange'>;

/** The last value of every metric in `records` over `into` (later records win). */
export function lastValues(records: readonly MetricRecord[], into: Record<string, number> = {}): Record<string, number> {
  for (const record of records) Object.assign(into, record.values);
  return into;
}

export class RunsTableRows {
  private readonly last = new Map<string, Record<string, number>>();
  private readonly specs = new Map<string, unknown>();
  private readonly subscriptions: Disposable[] = [];
  /** Runs whose row changed since the rows were last taken. */
  private readonly dirty = new Set<string>();
  /** The run ids of the rows last taken, in order. */
  private taken = '';

  /** `changed` is called after any change that alters the rows (often: the caller coalesces). */
  constructor(private readonly source: RunsTableSource, changed: () => void) {
    this.subscriptions.push(
      source.onMetrics((runId, records) => {
        const known = this.last.get(runId);
        if (known) lastValues(records, known); // unknown runs are read whole when first listed
        this.dirty.add(runId);
        changed();
      }),
      source.onRunChanged((run) => {
        this.dirty.add(run.id);
        changed();
      }),
    );
    if (source.onDidChange) this.subscriptions.push(source.onDidChange(() => changed()));
  }

  /** Every run of the source, newest first. */
  rows(): RunsTableRow[] {
    const runs = this.source.listRuns();
    const present = new Set(runs.map((run) => run.id));
    for (const id of this.last.keys()) if (!present.has(id)) this.forget(id);
    this.taken = runs.map((run) => run.id).join('\n');
    this.dirty.clear();
    return runs.map((run) => this.row(run));
  }

  /**
   * What changed since the rows were last taken: only the changed rows while the same runs are
   * listed (a training run's progress resends its row, not the whole table), every row when runs
   * came or went.
   */
  update(): { full: boolean; rows: RunsTableRow[] } {
    const runs = this.source.listRuns();
    if (runs.map((run) => run.id).join('\n') !== this.taken) return { full: true, rows: this.rows() };
    const changed = runs.filter((run) => this.dirty.has(run.id)).map((run) => this.row(run));
    this.dirty.clear();
    return { full: false, rows: changed };
  }

  private row(run: RunSummary): RunsTableRow {
    if (this.specs.get(run.id) === undefined) this.specs.set(run.id, attempt(() => this.source.readSpec(run.id)));
    let metrics = this.last.get(run.id);
    if (!metrics) this.last.set(run.id, (metrics = lastValues(attempt(() => this.source.readMetrics(run.id)) ?? [])));
    const spec = this.specs.get(run.id);
    return {
      id: run.id,
      name: runDisplayName(run),
      lab: labOf(spec)?.title ?? '',
      experiment: run.experiment,
      state: run.state,
      step: run.step,
      totalSteps: run.totalSteps,
      createdAt: run.createdAt,
      ...(run.elapsedMs !== undefined ? { durationMs: run.elapsedMs } : {}),
      metrics: { ...metrics },
      ...(spec !== undefined ? { spec } : {}),
    };
  }

  private forget(runId: string): void {
    this.last.delete(runId);
    this.specs.delete(runId);
  }

  dispose(): void {
    for (const subscription of this.subscriptions.splice(0)) subscription.dispose();
  }
}

/** A broken or vanished run folder must not break the table: it shows without what could not be read. */
function attempt<T>(read: () => T): T | undefined {
  try {
    return read();
  } catch {
    return undefined;
  }
}
