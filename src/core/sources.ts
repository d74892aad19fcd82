// The operations' input: a file's lines read through the dataset store (the same line numbering,
// validity checks and reasons everywhere: editor, CLI, jobs).
import { JsonlDataset } from './store';
import type { Line, LineSource } from './filter/fields';

export async function* storeLines(path: string, signal?: AbortSignal): AsyncGenerator<Line> {
  const ds = await JsonlDataset.open(path, { signal });
  try {
    yield* datasetLines(ds, signal);
  } finally {
    ds.close();
  }
}

/** The lines of an open dataset as it is now (its edits included), yielding to the event loop as it goes. */
export async function* datasetLines(ds: JsonlDataset, signal?: AbortSignal): AsyncGenerator<Line> {
  await ds.ready;
  for (let i = 0; i < ds.lineCount; i++) {
    if ((i & 0x3ff) === 0 && signal?.aborted) break;
    const l = ds.line(i);
    // An invalid line carries its bytes (invalid UTF-8 is not in `raw`); a record is valid UTF-8.
    yield l.invalid ? { index: i, raw: l.raw, invalid: l.invalid, bytes: l.bytes() } : { index: i, raw: l.raw, value: l.value };
    if ((i & 0x3ff) === 0x3ff) await new Promise((r) => setImmediate(r));
  }
}

export const openStore = (file: string, signal?: AbortSignal): LineSource => () => storeLines(file, signal);
