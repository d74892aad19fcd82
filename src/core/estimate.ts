// The pass over a file's records that a job's cost estimate makes before anything is sent: it
// gives the event loop a turn every few milliseconds (so a Ctrl-C or a Cancel click reaches it),
// stops at the signal, reports progress, and on a large file that no job has touched yet reads an
// even sample of the records instead of every one (a whole 1 GB file took about a minute to render
// and tokenize, with nothing shown; 10,000 records spread over it take under a second).
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
    await each(at(k));
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
