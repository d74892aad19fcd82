// Host-side timestamps of a curation editor's open, for bench/editor.ts: with DC_BENCH_HOST_MARKS
// set to a file, each mark appends a line `{"name", "file", "t"}` to it (`t`: wall-clock ms, the
// same clock as the browser's `performance.timeOrigin + performance.now()`). Without it, nothing.
import { appendFileSync } from 'node:fs';
import { basename } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';

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

// The host's garbage collections, as marks `gc:<ms>` (their start), for the same file: a long one
// between the marks above tells where an open's time went.
if (file) {
  new PerformanceObserver((list) => {
    for (const e of list.getEntries())
      if (e.duration >= 2) append(`gc:${e.duration.toFixed(1)}`, '*', performance.timeOrigin + e.startTime);
  }).observe({ entryTypes: ['gc'] });
}
