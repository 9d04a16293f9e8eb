/** Tests run on the wasm backend, the product's default, loaded from node_modules. */
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { join } from 'node:path';

export async function useWasmBackend(): Promise<void> {
  if (tf.getBackend() === 'wasm') return;
  setWasmPaths(join(__dirname, '../../node_modules/@tensorflow/tfjs-backend-wasm/dist/'));
  tf.env().set('IS_TEST', true); // silences the "install tfjs-node" banner
  if (!(await tf.setBackend('wasm'))) throw new Error('wasm backend failed to initialise');
}
