// The lines of a gzip-compressed JSONL file (`.jsonl.gz`, `.ndjson.gz`), streamed: decompressed a
// chunk at a time, split at LF, each line checked by the store's own rules (the same reasons for
// an invalid line as the editor and `curate validate` give).
import { createReadStream } from 'node:fs';
import { createGunzip } from 'node:zlib';
import { checkLineBytes } from '../store/check';
import { abortError } from '../store/errors';
import type { Line } from '../filter/fields';

export async function* readGzipLines(path: string, signal?: AbortSignal): AsyncGenerator<Line> {
  const stream = createReadStream(path).pipe(createGunzip());
  let rest: Buffer | undefined;
  let index = 0;
  const line = (content: Buffer): Line => {
    const c = content.length && content[content.length - 1] === 13 ? content.subarray(0, content.length - 1) : content;
    const check = checkLineBytes(c);
    const raw = c.toString('utf8');
    return check.value ? { index: index++, raw, value: check.value } : { index: index++, raw, invalid: check.invalid ?? { reason: 'not a JSON object' } };
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
    if (err instanceof Error && (err as NodeJS.ErrnoException).code?.startsWith('Z_')) throw new Error(`${path} is not valid gzip data: ${err.message}`);
    throw err;
  } finally {
    stream.destroy();
  }
  if (rest && rest.length) yield line(rest);
}
