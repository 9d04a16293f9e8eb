/**
 * A task option that names a folder of object images, checked when the experiment is read: the
 * path resolved against the experiment file's folder, every image read now (so a bad folder is a
 * located problem of the file, not a failed run), and m checked against the number of images.
 * No TensorFlow.js: spec validation runs it in the extension host (src/core/relational/manifest.ts).
 */
import { isAbsolute, resolve as resolvePath } from 'node:path';
import type { FileOptions } from '../spec/schema';
import type { RelationalTaskOptions } from './options';
import { ObjectSetError, loadPngFolder } from './pngFolder';
import { TASK_LAYOUTS, type RelationalTaskName } from './trials';

export const objectFolderFiles = (task: RelationalTaskName): FileOptions<RelationalTaskOptions> => ({
  resolve(options, directory) {
    const { objectSet, m } = options;
    if (typeof objectSet !== 'object' || objectSet === null) return [];
    if (!isAbsolute(objectSet.folder)) objectSet.folder = resolvePath(directory, objectSet.folder);
    let count: number;
    try {
      count = loadPngFolder(objectSet.folder).count;
    } catch (error) {
      if (error instanceof ObjectSetError) return [{ path: '/objectSet/folder', message: error.message }];
      throw error;
    }
    const { distinctObjects } = TASK_LAYOUTS[task];
    if (count - m < distinctObjects) {
      return [{ path: '/m', message: `m = ${m} leaves ${count - m} of the folder's ${count} objects for training: ${task} needs ${distinctObjects} distinct objects (expected m at most ${Math.max(0, count - distinctObjects)})` }];
    }
    return [];
  },
});
