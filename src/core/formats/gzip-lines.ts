// The lines of a gzip-compressed JSONL file (`.jsonl.gz`, `.ndjson.gz`), streamed: decompressed a
// chunk at a time, split at LF, each line checked by the store's own rules (the same reasons for
// an invalid line as the editor and `curate validate` give). `readJsonlLines` reads a plain JSONL
// file the same way, for one pass from start to end (a conversion), where the store's index and its
// random reads would cost more than they give.
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { checkLineBytes } from '../store/check';
import { abortError } from '../store/errors';
import type { Line } from '../filter/fields';

export function readGzipLines(path: string, signal?: AbortSignal): AsyncGenerator<Line> {
  return readLines(path, true, signal);
}

export function readJsonlLines(path: string, signal?: AbortSignal): AsyncGenerator<Line> {
  return readLines(path, false, signal);
}

async function* readLines(path: string, gzip: boolean, signal?: AbortSignal): AsyncGenerator<Line> {
  const file = createReadStream(path, { highWaterMark: 1 << 20 });
  const stream = gzip ? file.pipe(createGunzip()) : file;
  let rest: Buffer | undefined;
  let index = 0;
  const line = (content: Buffer): Line => {
    const c = content.length && content[content.length - 1] === 13 ? content.subarray(0, content.length - 1) : content;
    const check = checkLineBytes(c);
    const raw = c.toString('utf8');
    return check.value
      ? { index: index++, raw, value: check.value }
      : { index: index++, raw, invalid: check.invalid ?? { reason: 'not a JSON object' } };
  };
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      if (signal?.aborted) throw abortError();
      const buf = rest ? Buffer.concat([rest, chunk]) : chunk;
      let start = 0;
      for (let nl = buf.indexOf(10, start); nl !== -1; nl = buf.indexOf(10, start)) {
        yield line(buf.subarray(start, nl));
        start = nl + 1;
      }
      rest = start < buf.length ? Buffer.from(buf.subarray(start)) : undefined;
    }
  } catch (err) {
    if (err instanceof Error && (err as NodeJS.ErrnoException).code?.startsWith('Z_'))
      throw new Error(`${path} is not valid gzip data: ${err.message}`, { cause: err });
    throw err;
  } finally {
    stream.destroy();
    file.destroy();
  }
  if (rest && rest.length) yield line(rest);
}
