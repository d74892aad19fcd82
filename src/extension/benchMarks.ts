// Host-side timestamps of a curation editor's open, for bench/editor.ts: with DC_BENCH_HOST_MARKS
// set to a file, each mark appends a line `{"name", "file", "t"}` to it (`t`: wall-clock ms, the
// same clock as the browser's `performance.timeOrigin + performance.now()`). Without it, nothing.
import { appendFileSync } from 'node:fs';
import { basename } from 'node:path';
import { constants, PerformanceObserver } from 'node:perf_hooks';

const file = process.env.DC_BENCH_HOST_MARKS;

/** Appends one mark to the bench's file (a bench aid: never in the way). */
function append(name: string, of: string, t: number): void {
  if (!file) return;
  try {
    appendFileSync(file, `${JSON.stringify({ name, file: of, t })}\n`);
  } catch {
    // nothing: the open goes on
  }
}

/** Records `name` for the dataset at `fsPath` when the bench asks for host marks. */
export function hostMark(name: string, fsPath: string): void {
  if (file) append(name, basename(fsPath), performance.timeOrigin + performance.now());
}

// The host's garbage collections, as marks `gc:<kind>:<ms>` (their start), for the same file: a
// long one between the marks above tells where an open's time went; its kind, what set it off
// (minor: the young generation filled by allocation; major: the old one, or external memory).
const GC_KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};
if (file) {
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = (e as { detail?: { kind?: number } | null }).detail?.kind;
      if (e.duration >= 2)
        append(
          `gc:${(kind !== undefined && GC_KINDS[kind]) || 'other'}:${e.duration.toFixed(1)}`,
          '*',
          performance.timeOrigin + e.startTime,
        );
    }
  }).observe({ entryTypes: ['gc'] });
}
// With DC_BENCH_LAG too: the host's event loop held up more than 20 ms (a 5 ms timer late), as marks
// `lag:<ms>` at the start of the hold-up, for the same file: what keeps the host from answering the page.
if (file && process.env.DC_BENCH_LAG) {
  let last = performance.now();
  setInterval(() => {
    const now = performance.now();
    if (now - last > 20) append(`lag:${(now - last).toFixed(0)}`, '*', performance.timeOrigin + last);
    last = now;
  }, 5).unref();
}
