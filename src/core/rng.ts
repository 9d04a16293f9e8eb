/**
 * Seeded randomness. Every random draw in core goes through an `Rng`; batches are drawn
 * from a generator keyed by (seed, stream, step), so a resumed run sees the same data
 * as an uninterrupted one without saving generator state.
 */
import seedrandom from 'seedrandom';

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Standard normal (Box-Muller). */
  normal(): number;
  /** Integer in [0, n). */
  int(n: number): number;
  /** A 32-bit integer, e.g. to seed tfjs initialisers. */
  int32(): number;
}

export function createRng(...key: (string | number)[]): Rng {
  const prng = seedrandom.alea(key.join(':'));
  let spare: number | undefined;
  return {
    next: () => prng(),
    int: (n) => Math.floor(prng() * n),
    int32: () => prng.int32(),
    normal() {
      if (spare !== undefined) {
        const value = spare;
        spare = undefined;
        return value;
      }
      let u = 0;
      while (u === 0) u = prng();
      const v = prng();
      const radius = Math.sqrt(-2 * Math.log(u));
      spare = radius * Math.sin(2 * Math.PI * v);
      return radius * Math.cos(2 * Math.PI * v);
    },
  };
}
