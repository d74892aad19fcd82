// Writes a new JSONL file atomically: lines streamed to a temp file beside the target, fsynced,
// renamed over it, the folder fsynced. Used by every operation that writes an output file.
import { createWriteStream } from 'node:fs';
import { open, rename, rm, stat } from 'node:fs/promises';
import { once } from 'node:events';
import { dirname } from 'node:path';
import { UserError } from './operation';

function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) {
    const e = new Error('cancelled');
    e.name = 'AbortError';
    throw e;
  }
}

/** Writes each item as one line (a '\n' is added); returns the number of lines written. */
export async function writeLinesAtomic(
  out: string,
  lines: AsyncIterable<string> | Iterable<string>,
  signal?: AbortSignal,
  overwrite = false,
): Promise<number> {
  if (!overwrite && (await stat(out).catch(() => undefined))) throw new UserError(`${out} exists; pass overwrite to replace it.`);
  const tmp = `${out}.${process.pid}.tmp`;
  const ws = createWriteStream(tmp);
  let n = 0;
  try {
    for await (const line of lines) {
      if ((n & 1023) === 0) throwIfAborted(signal);
      if (!ws.write(`${line}\n`)) await once(ws, 'drain');
      n++;
    }
    ws.end();
    await once(ws, 'finish');
    const fh = await open(tmp, 'r+');
    await fh.sync();
    await fh.close();
    await rename(tmp, out);
    const dir = await open(dirname(out), 'r');
    await dir.sync().catch(() => undefined);
    await dir.close();
    return n;
  } catch (e) {
    ws.destroy();
    await rm(tmp, { force: true });
    throw e;
  }
}
