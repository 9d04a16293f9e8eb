/**
 * What a fuzz target is: cases generated from the formats (fast-check arbitraries), and a check
 * that throws when a case ends in anything but a valid result or a located error (outcomes.ts).
 * Targets run in a capped worker (cappedRun.ts); they know nothing about the caps.
 */
import type fc from 'fast-check';

export interface SetupContext {
  /** The repository (templates/, dist/). */
  root: string;
  /** A folder of the worker's own, removed afterwards. */
  tmp: string;
  /** A small real run folder trained by the CLI (seedRun.ts); targets copy it, never change it. */
  seedRun: string;
}

export interface FuzzTarget<State, Case> {
  name: string;
  setup(context: SetupContext): State | Promise<State>;
  cases(state: State): fc.Arbitrary<Case>;
  check(state: State, testCase: Case): void | Promise<void>;
  /** One line saying what the case does, for the report of a case that hangs or runs out of memory. */
  describe(state: State, testCase: Case): string;
}
