// Reading a whole file in chunks (src/core/store/scan-lines.ts, used by sources.ts' storeLines for
// filters, exports and metrics) gives exactly the lines the store's line views give: the same
// text, value and reason for every line of any file (CRLF, lone CRs, BOMs, invalid UTF-8, blank
// lines, lines too long, a last line without a newline), across chunk boundaries.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { JsonlDataset } from '../../src/core/store';
import { rangeLines } from '../../src/core/store/scan-lines';
import { storeLines } from '../../src/core/sources';
import { fileWith } from './helpers/store';

const content: fc.Arbitrary<Buffer> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc
      .dictionary(
        fc.string({ maxLength: 6 }),
        fc.oneof(fc.string({ maxLength: 8 }), fc.integer(), fc.boolean(), fc.constant(null)),
        { maxKeys: 4 },
      )
      .map((o) => Buffer.from(JSON.stringify(o))),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(
        '',
        '  ',
        '\t',
        '{"a":1,"a":2}',
        '[1]',
        'nope',
        '{"a":',
        '\u00ef\u00bb\u00bf{}',
        `{"long":"${'x'.repeat(80)}"}`,
        `${'['.repeat(600)}${']'.repeat(600)}`,
      )
      .map((s) => Buffer.from(s, s.startsWith('\u00ef') ? 'latin1' : 'utf8')),
  },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 12 }).map((a) => Buffer.from(a.filter((b) => b !== 10))) },
  {
    weight: 1,
    arbitrary: fc
      .string({ maxLength: 10 })
      .map((s) => Buffer.from(`{"k":"${s.replace(/[\n"\\]/g, '')}"}\r${s.replace(/\n/g, '')}`)),
  },
);
const file = fc
  .record({
    lines: fc.array(fc.record({ c: content, crlf: fc.boolean() }), { minLength: 1, maxLength: 30 }),
    last: fc.constantFrom('', '\n', '\r\n'),
  })
  .map(({ lines, last }) =>
    Buffer.concat(lines.flatMap((l, i) => [l.c, Buffer.from(i === lines.length - 1 ? last : l.crlf ? '\r\n' : '\n')])),
  );

test('chunked lines are the line views, line for line, whatever the chunk size', async () => {
  await fc.assert(
    fc.asyncProperty(file, fc.integer({ min: 1, max: 200 }), async (buf, chunk) => {
      const path = fileWith(buf);
      const ds = await JsonlDataset.open(path, { maxLineBytes: 64 });
      await ds.ready;
      const got = [...rangeLines(ds.fileDescriptor, 0, ds.byteLength, 0, 64, chunk)].flat();
      assert.equal(got.length, ds.lineCount);
      for (let i = 0; i < ds.lineCount; i++) {
        const l = ds.line(i);
        assert.deepEqual(
          got[i],
          l.invalid
            ? { index: i, raw: l.raw, invalid: l.invalid, bytes: l.bytes() }
            : { index: i, raw: l.raw, value: l.value },
          `line ${i + 1}`,
        );
      }
      ds.close();
    }),
    { numRuns: 300 },
  );
});

test('storeLines reads the file through the chunks: the same lines as the store', async () => {
  const buf = Buffer.from(
    Array.from({ length: 5000 }, (_, i) =>
      i % 97 === 0 ? 'broken {' : JSON.stringify({ i, label: ['a', 'b'][i % 2] }),
    ).join('\n'),
  );
  const path = fileWith(buf);
  const lines = [];
  for await (const l of storeLines(path)) lines.push(l);
  const ds = await JsonlDataset.open(path);
  await ds.ready;
  assert.equal(lines.length, ds.lineCount);
  for (const i of [0, 1, 97, 4999]) {
    const l = ds.line(i);
    assert.deepEqual(
      lines[i],
      l.invalid
        ? { index: i, raw: l.raw, invalid: l.invalid, bytes: l.bytes() }
        : { index: i, raw: l.raw, value: l.value },
    );
  }
  ds.close();
});
