/**
 * What the Runs tree shows, computed from plain `RunSummary` lists: groups, labels,
 * descriptions, tooltips, icons and menu context values. `runsTree.ts` only turns these into
 * `vscode.TreeItem`s. No 'vscode' import.
 */
import type { RunState, RunSummary } from '../../protocol';
import { runDisplayName } from '../../shared/runs';

export interface ExperimentGroup {
  experiment: string;
  /** Newest first. */
  runs: RunSummary[];
}

/** Groups by experiment name; groups ordered by their newest run, runs newest first. */
export function groupByExperiment(runs: readonly RunSummary[]): ExperimentGroup[] {
  const groups = new Map<string, RunSummary[]>();
  for (const run of [...runs].sort(newestFirst)) {
    const list = groups.get(run.experiment) ?? [];
    list.push(run);
    groups.set(run.experiment, list);
  }
  // Map keeps insertion order, and runs were inserted newest first.
  return [...groups].map(([experiment, groupRuns]) => ({ experiment, runs: groupRuns }));
}

/** A sweep and its member runs (a member whose folder is gone has no `run`). */
export interface SweepGroup {
  sweepId: string;
  name: string;
  createdAt: string;
  members: { label: string; runId: string; run?: RunSummary }[];
}

/** Sweeps with their members, and the runs that belong to no sweep (grouped by experiment as before). */
export function groupBySweep(
  runs: readonly RunSummary[],
  sweeps: readonly { id: string; record: { name: string; createdAt: string; members: { label: string; runId: string }[] } }[],
): { sweeps: SweepGroup[]; others: RunSummary[] } {
  const byId = new Map(runs.map((run) => [run.id, run]));
  const inSweep = new Set<string>();
  const groups = sweeps.map((sweep) => ({
    sweepId: sweep.id,
    name: sweep.record.name,
    createdAt: sweep.record.createdAt,
    members: sweep.record.members.map(({ label, runId }) => {
      inSweep.add(runId);
      return { label, runId, run: byId.get(runId) };
    }),
  }));
  return { sweeps: groups, others: runs.filter((run) => !inSweep.has(run.id)) };
}

/** e.g. `12 runs: 8 completed, 1 running, 3 queued` (states in a fixed order). */
export function sweepDescription(group: SweepGroup): string {
  const counts = new Map<string, number>();
  for (const member of group.members) {
    const state = member.run?.state ?? 'missing';
    counts.set(state, (counts.get(state) ?? 0) + 1);
  }
  const order = ['completed', 'running', 'queued', 'failed', 'interrupted', 'cancelled', 'missing'];
  const parts = order.filter((state) => counts.has(state)).map((state) => `${counts.get(state)} ${state}`);
  return `${group.members.length} run${group.members.length === 1 ? '' : 's'}: ${parts.join(', ')}`;
}

function newestFirst(a: RunSummary, b: RunSummary): number {
  return b.createdAt.localeCompare(a.createdAt) || b.id.localeCompare(a.id);
}

/** Codicon ids (`ThemeIcon`), `sync~spin` animates. */
export const STATE_ICONS: Record<RunState, string> = {
  queued: 'clock',
  running: 'sync~spin',
  completed: 'pass',
  cancelled: 'circle-slash',
  failed: 'error',
  interrupted: 'debug-disconnect',
};

/** Theme colour ids for the state icons (undefined: default foreground). */
export const STATE_COLORS: Partial<Record<RunState, string>> = {
  completed: 'testing.iconPassed',
  failed: 'testing.iconFailed',
  interrupted: 'list.warningForeground',
};

/**
 * Menu `when` clauses match on this: `run.<state>`, then `.<lab>` with the run's lab's
 * `runContext` (src/core/<lab>/manifest.ts; `run.completed.attention`), so the context menu offers
 * only the panels that can open it (package.json's menus are generated from the manifests:
 * `viewItem =~ /^run\.[a-z]+\.attention$/`).
 */
export function runContextValue(run: RunSummary, lab?: string): string {
  return lab ? `run.${run.state}.${lab}` : `run.${run.state}`;
}

export function isActive(run: RunSummary): boolean {
  return run.state === 'running' || run.state === 'queued';
}

/**
 * The active runs in the order a follower (Live view, status bar) prefers them: training runs
 * before queued ones (a sweep queues its members at once: the one training is the one to watch),
 * each group in its given order.
 */
export function activeByPreference(runs: readonly RunSummary[]): RunSummary[] {
  return [...runs.filter((run) => run.state === 'running'), ...runs.filter((run) => run.state === 'queued')];
}

/** Runs that can continue from their last checkpoint. */
export function isResumable(run: RunSummary): boolean {
  return run.state === 'cancelled' || run.state === 'interrupted' || run.state === 'failed';
}

/** The tree label: the run's display name, without the experiment its group already names. */
export const runLabel = (run: RunSummary): string => runDisplayName(run, { experimentShown: true });

export function stepText(run: RunSummary): string {
  return run.totalSteps > 0 ? `${run.step}/${run.totalSteps}` : `${run.step}`;
}

/** e.g. `running 120/2000 · #baseline #lr-sweep · lr 1e-3 first try` (`steps`: the first part, state and steps). */
export function runDescription(run: RunSummary, steps = run.state === 'completed' ? stepText(run) : `${run.state} ${stepText(run)}`): string {
  const parts = [steps];
  if (run.tags.length > 0) parts.push(run.tags.map((tag) => `#${tag}`).join(' '));
  const note = firstLine(run.notes);
  if (note) parts.push(note.length > 40 ? `${note.slice(0, 39)}…` : note);
  return parts.join(' · ');
}

/**
 * A group's runs as the tree nests them: a run that continues an older run of the same group
 * (Continue Training) sits under that run, so a chain reads down the tree and its row needs no
 * parent name (the side bar is narrow). Only an older parent counts: a continuation is always
 * created after the run it continues, and the order keeps a hand-edited `init` cycle from hiding
 * runs. Both lists keep the given order.
 */
export function nestContinuations(runs: readonly RunSummary[]): { roots: RunSummary[]; continuations: Map<string, RunSummary[]> } {
  const byId = new Map(runs.map((run) => [run.id, run]));
  const roots: RunSummary[] = [];
  const continuations = new Map<string, RunSummary[]>();
  for (const run of runs) {
    const parent = run.init ? byId.get(run.init.run) : undefined;
    if (parent && newestFirst(run, parent) < 0) continuations.set(parent.id, [...(continuations.get(parent.id) ?? []), run]);
    else roots.push(run);
  }
  return { roots, continuations };
}

/**
 * The description of a run nested under the run it continues, short for the narrow side bar: the
 * steps it took the joined curve over, `40→70` (`offset`: where its curve starts, shared/runs
 * initStepOffset), e.g. `running 40→52 of 70` while it trains; then tags and notes as any run.
 */
export function nestedContinuationDescription(run: RunSummary, offset: number): string {
  const reached = `${offset}→${offset + run.step}`;
  return runDescription(run, run.state === 'completed' ? reached : `${run.state} ${reached} of ${offset + run.totalSteps}`);
}

/**
 * `continues <display name> at step N` for a run started from another run's checkpoint (its spec's
 * `init`); the parent's id when it cannot be read (deleted). Undefined for a fresh start.
 */
export function continuesText(run: Pick<RunSummary, 'init'>, parent: RunSummary | undefined): string | undefined {
  if (!run.init) return undefined;
  return `continues ${parent ? runDisplayName(parent) : run.init.run} at step ${run.init.step}`;
}

/** A run in a quick pick: its display name, state and tags, and the folder id (searchable too). */
export function runPickItem(run: RunSummary): { label: string; description: string; detail: string } {
  return { label: runDisplayName(run), description: runDescription(run), detail: run.name === run.id ? run.id : `${run.experiment} · ${run.id}` };
}

/** Tooltip lines (Markdown-safe plain text: the caller escapes). */
export function runTooltipLines(run: RunSummary): string[] {
  const shown = runDisplayName(run);
  const lines = [
    `${shown}${shown !== run.id ? ` (${run.id})` : ''}`,
    `Experiment: ${run.experiment}`,
    `State: ${run.state}, step ${stepText(run)}`,
    `Created: ${run.createdAt}`,
  ];
  if (run.specFile) lines.push(`Spec: ${run.specFile}`);
  lines.push(`Folder: ${run.dir}`);
  if (run.tags.length > 0) lines.push(`Tags: ${run.tags.join(', ')}`);
  if (run.notes.trim()) lines.push(`Notes: ${run.notes.trim()}`);
  if (run.error) lines.push(`Error: ${run.error}`);
  return lines;
}

export function groupDescription(group: ExperimentGroup): string {
  const active = group.runs.filter(isActive).length;
  const count = `${group.runs.length} run${group.runs.length === 1 ? '' : 's'}`;
  return active > 0 ? `${count}, ${active} active` : count;
}

function firstLine(text: string): string {
  return text.trim().split(/\r?\n/, 1)[0] ?? '';
}

const TAG_PATTERN = /^[\p{L}\p{N}._:/-]+$/u;

/**
 * Tags typed as `a, b c`: separated by commas or spaces, a leading `#` dropped, duplicates
 * removed. Returns the problem instead when a tag has characters we do not allow.
 */
export function parseTags(input: string): { tags: string[] } | { problem: string } {
  const tags: string[] = [];
  for (const raw of input.split(/[\s,]+/)) {
    const tag = raw.replace(/^#/, '');
    if (tag === '') continue;
    if (!TAG_PATTERN.test(tag)) {
      return { problem: `"${tag}" is not a valid tag: use letters, digits and . _ : / - (separate tags with commas or spaces)` };
    }
    if (!tags.includes(tag)) tags.push(tag);
  }
  return { tags };
}

/**
 * The run a command was invoked on: a Runs tree node, a run id, or an object with an `id`
 * (commands are run from the tree, the palette, notifications and webviews).
 */
export function runIdOfCommandArg(arg: unknown): string | undefined {
  if (typeof arg === 'string') return arg;
  if (arg && typeof arg === 'object') {
    const node = arg as { kind?: unknown; run?: { id?: unknown }; id?: unknown };
    if (node.kind === 'run' && typeof node.run?.id === 'string') return node.run.id;
    if (typeof node.id === 'string') return node.id;
  }
  return undefined;
}
