// The operations' input: a file's lines read through the dataset store (the same line numbering,
// validity checks and reasons everywhere: editor, CLI, jobs).
import { JsonlDataset } from './store';
import { rangeLines } from './store/scan-lines';
import type { Line, LineSource } from './filter/fields';

export async function* storeLines(path: string, signal?: AbortSignal): AsyncGenerator<Line> {
  const ds = await JsonlDataset.open(path, { signal });
  try {
    // Nobody else edits this dataset: its file is read in large chunks (the same lines, values
    // and reasons as line views give).
    await ds.ready;
    for (const seg of ds.segments(64 * 1024 * 1024)) {
      if (seg.kind !== 'orig') {
        for (let k = 0; k < seg.lines.length; k++) yield lineOf(ds, seg.logicalStart + k);
        continue;
      }
      for (const chunk of rangeLines(ds.fileDescriptor, seg.byteStart, seg.byteEnd, seg.logicalStart, ds.maxLineBytes, 1024 * 1024)) {
        if (signal?.aborted) return;
        yield* chunk;
        await new Promise((r) => setImmediate(r));
      }
    }
  } finally {
    ds.close();
  }
}

function lineOf(ds: JsonlDataset, i: number): Line {
  const l = ds.line(i);
  return l.invalid ? { index: i, raw: l.raw, invalid: l.invalid } : { index: i, raw: l.raw, value: l.value };
}

/** The lines of an open dataset as it is now (its edits included), yielding to the event loop as it goes. */
export async function* datasetLines(ds: JsonlDataset, signal?: AbortSignal): AsyncGenerator<Line> {
  await ds.ready;
  for (let i = 0; i < ds.lineCount; i++) {
    if ((i & 0x3ff) === 0 && signal?.aborted) break;
    yield lineOf(ds, i);
    if ((i & 0x3ff) === 0x3ff) await new Promise((r) => setImmediate(r));
  }
}

export const openStore = (file: string, signal?: AbortSignal): LineSource => () => storeLines(file, signal);
