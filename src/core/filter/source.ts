// A minimal JSONL line reader for the operations' default input (the lead may plug the store's
// reader instead through the operations' `open` hook). Lines are split on "\n" only: a "\r" before
// it stays in `raw`, so writing `raw + "\n"` back reproduces the line byte for byte (for valid
// UTF-8). The empty piece after a final "\n" is not a line; other blank lines are invalid lines.
import { createReadStream } from 'node:fs';
import { isObject, type Line } from './fields';

export function parseLine(index: number, raw: string): Line {
  if (raw.trim() === '') return { index, raw, invalid: { reason: 'empty line' } };
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (err) {
    return { index, raw, invalid: { reason: err instanceof Error ? err.message : String(err) } };
  }
  if (!isObject(value)) return { index, raw, invalid: { reason: 'not a JSON object' } };
  return { index, raw, value };
}

/** Reads a JSONL file as Lines, streaming. */
export async function* readJsonl(path: string, signal?: AbortSignal): AsyncGenerator<Line> {
  const stream = createReadStream(path, { encoding: 'utf8', highWaterMark: 1 << 20 });
  let rest = '';
  let index = 0;
  try {
    for await (const chunk of stream as AsyncIterable<string>) {
      if (signal?.aborted) break;
      const text = rest + chunk;
      let start = 0;
      for (let nl = text.indexOf('\n', start); nl !== -1; nl = text.indexOf('\n', start)) {
        yield parseLine(index++, text.slice(start, nl));
        start = nl + 1;
      }
      rest = text.slice(start);
    }
    if (rest !== '') yield parseLine(index++, rest);
  } finally {
    stream.destroy();
  }
}

/** Lines from plain records (tests, scripts): raw is the record's JSON. */
export function linesOf(records: readonly Record<string, unknown>[]): Line[] {
  return records.map((value, index) => ({ index, value, raw: JSON.stringify(value) }));
}
