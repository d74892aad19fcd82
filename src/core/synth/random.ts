// Seeded randomness for generation jobs: every draw comes from a generator keyed by the job's seed
// and where it is used (round, request, record), never from a shared sequence, so a resumed or
// re-run job (at any concurrency) makes the same choices: the same demonstrations, personas and
// attributes per request, and the same prompts (which the response cache then answers).
import { createHash } from 'node:crypto';

export type Rng = () => number;

/** mulberry32 seeded from sha256 of the parts. */
export function rng(...parts: (string | number)[]): Rng {
  const h = createHash('sha256').update(parts.join('\u0000')).digest();
  let a = h.readUInt32LE(0);
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function pick<T>(r: Rng, items: readonly T[]): T | undefined {
  return items.length ? items[Math.floor(r() * items.length)] : undefined;
}

/** k distinct items (all of them when there are fewer), in the order drawn. */
export function sample<T>(r: Rng, items: readonly T[], k: number): T[] {
  const n = items.length;
  if (k >= n) return shuffle(r, items);
  // Floyd's algorithm: k draws, no copy of the whole list.
  const chosen = new Set<number>();
  const order: number[] = [];
  for (let j = n - k; j < n; j++) {
    const t = Math.floor(r() * (j + 1));
    const v = chosen.has(t) ? j : t;
    chosen.add(v);
    order.push(v);
  }
  return order.map((i) => items[i] as T);
}

export function shuffle<T>(r: Rng, items: readonly T[]): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}
