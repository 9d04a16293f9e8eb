/** The fuzz targets by name (`npm test` runs them all; bench/fuzz.ts can pick some). */
import { runFolders } from './runFolders';
import { safetensorsFiles } from './safetensorsFiles';
import { specFiles } from './specFiles';
import type { FuzzTarget } from './target';

// Each target has its own state and case types; the runner only passes them between its methods.
export const TARGETS: Record<string, FuzzTarget<any, any>> = Object.fromEntries([specFiles, runFolders, safetensorsFiles].map((t) => [t.name, t]));
