/**
 * What a lab is, as data: its tasks, models and objectives with their option schemas, its panel
 * and the commands that open it, its Live miniature, its templates, how the Runs view marks its
 * runs, and when a run has learned enough to show. Everything the extension host, the spec
 * validator and the package.json generator need to know about a lab, without loading it: a
 * manifest imports no TensorFlow.js. The worker joins each manifest to the lab's factories
 * (src/core/labs.ts); the list of labs is src/core/labList.ts.
 */
import type { Static, TObject, TSchema } from '@sinclair/typebox';
import type { RecordedOptions } from './registry';
import type { FileOptions } from './spec/schema';
import type { MemoryShape } from './memoryShape';
import type { ExperimentKind, ResolvedSpec } from './spec/types';

/** A task, model or objective as the validator and the editor see it: no factory. */
export interface ComponentManifest<Name extends string = string, Options extends TObject = TObject> {
  readonly name: Name;
  readonly description: string;
  /** The JSON schema of the options (TypeBox: `Static<typeof options>` is their type). */
  readonly options: Options;
  /** Experiment kinds the component supports; default: only 'train'. */
  readonly kinds?: readonly ExperimentKind[];
  /** Options that name files (resolved against the experiment file, contents checked). */
  readonly files?: FileOptions<Static<Options>>;
  /** Options a task records in the resolved spec (e.g. the values a named rule stands for). */
  readonly recorded?: RecordedOptions<Static<Options>>;
  /** A model's shape for the training memory estimate (src/core/memoryEstimate.ts); none: no estimate. */
  readonly memory?: (spec: ResolvedSpec) => MemoryShape;
}

/** Declares a component, keeping its name as a literal type (the factories are checked against it). */
export const component = <const Name extends string, Options extends TObject>(
  declaration: ComponentManifest<Name, Options>,
): ComponentManifest<Name, Options> => declaration;

/** The options type of a declared component. */
export type OptionsOf<C> = C extends { readonly options: infer O extends TSchema } ? Static<O> : never;

/**
 * Where a lab command shows in VS Code's menus (package.json is generated from these,
 * scripts/contributions.mjs):
 * - `runs`: the Runs view's context menu of this lab's runs (by the run's context value);
 * - `runsAndSweeps`: the same, and of sweeps;
 * - `sweepInline`: an inline button on sweeps in the Runs view;
 * - `explorerFolder`: the Explorer's context menu of folders.
 */
export interface LabMenu {
  readonly where: 'runs' | 'runsAndSweeps' | 'sweepInline' | 'explorerFolder';
  /** VS Code's menu group and order, e.g. `1_open@4`. */
  readonly group: string;
}

export interface LabCommand {
  /** Command id, e.g. `modelLab.openAttention`. */
  readonly id: string;
  readonly title: string;
  /** A codicon name, e.g. `type-hierarchy`. */
  readonly icon: string;
  readonly menus: readonly LabMenu[];
}

export interface LabPanelManifest {
  /** The webview panel's view type (also its `onWebviewPanel:` activation event). */
  readonly viewType: string;
  /** The panel's tab title. */
  readonly title: string;
  /** The command that opens it for a run (one of the lab's `commands`). */
  readonly command: string;
}

/** The Live view's small picture of a run of this lab. */
export interface LabMiniatureManifest {
  /** Which picture the Live view draws (`webview/live`). */
  readonly kind: 'attention' | 'posterior' | 'similarity' | 'sampler';
  /** The open button's label. */
  readonly openLabel: string;
  /** Whether a run of this lab has the picture (e.g. only CoRelNet has a similarity matrix); default: all. */
  readonly shows?: (spec: SpecNames) => boolean;
}

/** The few fields of a resolved spec that manifests decide on (it may come from an untrusted run folder). */
export interface SpecNames {
  readonly task: { readonly name: string; readonly [option: string]: unknown };
  readonly model: { readonly name: string; readonly [option: string]: unknown };
}

/** Whether a run has learned enough to be worth showing, and the numbers that decided it. */
export interface LearnedVerdict {
  /** `unknown`: the final metrics hold nothing this rule can judge (e.g. no exact posterior). */
  readonly verdict: 'learned' | 'not-yet' | 'unknown';
  readonly reason: string;
}

export interface LabManifest {
  /** Folder name under src/core and the lab's id, e.g. `retrieval`. */
  readonly id: string;
  readonly title: string;
  readonly description: string;
  readonly tasks: readonly ComponentManifest[];
  readonly models: readonly ComponentManifest[];
  readonly objectives: readonly ComponentManifest[];
  readonly panel?: LabPanelManifest;
  /** Commands the lab contributes to VS Code (its panel's, and any others). */
  readonly commands: readonly LabCommand[];
  readonly miniature?: LabMiniatureManifest;
  /** Templates of the lab: `templates/<prefix>*.lab.json`, shown under `label`. */
  readonly templates: { readonly prefix: string; readonly label: string };
  /**
   * The suffix of the Runs view's context value of the lab's runs: `run.<state>.<runContext>`
   * (menus `when` clauses match it). Kept from before manifests: the panel's short name.
   */
  readonly runContext: string;
  /** The rule that says a run has learned enough to show, from its last logged metrics. */
  readonly hasLearned: (finalMetrics: Readonly<Record<string, number>>) => LearnedVerdict;
}
