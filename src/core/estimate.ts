// The pass over a file's records that a job's cost estimate makes before anything is sent: it
// gives the event loop a turn every few milliseconds (so a Ctrl-C or a Cancel click reaches it),
// stops at the signal, reports progress, and on a large file that no job has touched yet reads an
// even sample of the records instead of every one (a whole 1 GB file took about a minute to render
// and tokenize, with nothing shown; 10,000 records spread over it take under a second).
import { fmix32 } from './hash32';
import type { Estimate, EstimateContext } from './operation';

/** Past this many records a first run's estimate reads a sample (below it, every record). */
export const SAMPLE_ABOVE = 20_000;
/** Records read when sampling, spread evenly over the file. */
export const SAMPLE_SIZE = 10_000;

/**
 * How often the pass gives the event loop a turn and reports progress. A turn is a timer, not
 * setImmediate: in VS Code's extension host a quick pick's answer (the status bar job's "Cancel
 * the Job") reached the pass only once it had ended when its turns were setImmediate; with a timer
 * it arrives within a few dozen turns (test/e2e/first-hour.e2e.ts).
 */
const TURN_MS = 15;

/**
 * Calls `each(i)` for the records an estimate reads among the first `n`: all of them, or with
 * `sample` (and more than SAMPLE_ABOVE records) SAMPLE_SIZE of them at even steps, the first and
 * the last included. Throws the signal's AbortError when it is aborted. Returns how many were read
 * and the factor that scales their sums to the `n` records.
 */
export async function estimatePass(
  n: number,
  ctx: EstimateContext,
  sample: boolean,
  each: (i: number) => void | Promise<void>,
): Promise<{ read: number; scale: number; sampled: boolean }> {
  const sampled = sample && n > SAMPLE_ABOVE;
  const count = sampled ? SAMPLE_SIZE : n;
  const at = sampled ? (k: number) => Math.round((k * (n - 1)) / (count - 1)) : (k: number) => k;
  ctx.signal.throwIfAborted();
  let turn = performance.now();
  const report = (k: number): void =>
    ctx.progress?.({
      done: k,
      total: count,
      unit: 'record',
      message: `record ${k.toLocaleString('en-US')} of ${count.toLocaleString('en-US')}${sampled ? ` sampled over ${n.toLocaleString('en-US')}` : ''}`,
    });
  report(0);
  for (let k = 0; k < count; k++) {
    // The clock read after every record (a record can be megabytes): ~50 ns next to its tokens.
    if (k > 0 && performance.now() - turn >= TURN_MS) {
      await new Promise<void>((r) => setTimeout(r, 0));
      ctx.signal.throwIfAborted();
      report(k);
      turn = performance.now();
    }
    // (a record done without waiting, as most of a resume's are, costs no promise)
    const r = each(at(k));
    if (r) await r;
  }
  ctx.signal.throwIfAborted();
  report(count);
  return { read: count, scale: count === 0 ? 1 : n / count, sampled };
}

/**
 * An estimate summed over a sample, scaled to the whole file (`records` stays the file's count):
 * requests and tokens rounded, the cost scaled, `sampled` the records read.
 */
export function scaleEstimate(e: Estimate, pass: { read: number; scale: number; sampled: boolean }): Estimate {
  if (!pass.sampled) return e;
  return {
    ...e,
    requests: Math.round(e.requests * pass.scale),
    inputTokens: Math.round(e.inputTokens * pass.scale),
    outputTokens: Math.round(e.outputTokens * pass.scale),
    ...(e.cost !== undefined ? { cost: e.cost * pass.scale } : {}),
    sampled: pass.read,
  };
}

/**
 * The records of a resumed job's estimate whose requests and tokens are counted. Which records
 * are left is known only record by record (a journal entry is bound to its record's content), so
 * a resume's pass walks every record, reading those with an entry to check its key; but past
 * SAMPLE_ABOVE records it reads, renders and tokenizes only about SAMPLE_SIZE of those left (the
 * tokenizer was half of the pass: 49 s for a 1 GB file) and scales their sums to all the records
 * left, whose count stays exact. A record left that is not taken is not read. A record is counted
 * by a hash of its index, not every k-th record left: a file whose records repeat a pattern (every
 * 4th one long) would make an every-k-th sample as far off as the pattern is strong.
 */
export class LeftSample {
  /** A record is counted when its index's hash is below this (2^32 / the stride). */
  private readonly below: number;
  private left = 0;
  private counted = 0;

  /** `expectedLeft`: about how many records are left (the file's less the journal's); at most SAMPLE_ABOVE, each is counted. */
  constructor(expectedLeft: number) {
    this.below = expectedLeft > SAMPLE_ABOVE ? 2 ** 32 * (SAMPLE_SIZE / expectedLeft) : 2 ** 32;
  }

  /** Called once for each record left to do (`i` its index): true when its requests and tokens are to be counted. */
  take(i: number): boolean {
    this.left++;
    // the first one always: a sum over none would say that nothing is left to pay for
    const yes = this.left === 1 || fmix32(i | 0) < this.below;
    if (yes) this.counted++;
    return yes;
  }

  /** The estimate summed over the records counted, scaled to all the records left. */
  scale(e: Estimate): Estimate {
    if (this.counted === this.left) return e;
    return scaleEstimate(e, { read: this.counted, scale: this.left / this.counted, sampled: true });
  }
}

/** How a face says that an estimate was counted on a sample ('' when it was not). */
export function sampledNote(e: Estimate): string {
  if (e.sampled === undefined) return '';
  return e.remaining !== undefined
    ? ` (counted on ${e.sampled} of the records left, spread over the file)`
    : ` (counted on ${e.sampled} records spread over the file)`;
}
