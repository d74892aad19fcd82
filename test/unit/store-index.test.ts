// The edge-case corpus: every case is indexed right (at chunk sizes that put boundaries
// everywhere, in this thread and in the worker), reported with the right reason, and survives a
// save after an unrelated edit byte for byte.
import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { JsonlDataset } from '../../src/core/store';
import { expectedLines, fileWith } from './helpers/store';

type Expect = { invalid?: RegExp; lossy?: RegExp };
const ok: Expect = {};

const emoji = '\u{1F600}'; // 4 bytes in UTF-8
const bigLine = `{"text":"${'x'.repeat(10 * 1024 * 1024)}"}`;

const corpus: [string, Buffer, Expect[]][] = [
  ['empty file', Buffer.alloc(0), []],
  ['only newlines', Buffer.from('\n\n\n'), [{ invalid: /blank/ }, { invalid: /blank/ }, { invalid: /blank/ }]],
  ['one record without final newline', Buffer.from('{"a":1}'), [ok]],
  [
    'blank and whitespace lines',
    Buffer.from('{"a":1}\n\n  \t\n{"b":2}\n'),
    [ok, { invalid: /blank/ }, { invalid: /blank/ }, ok],
  ],
  [
    'UTF-8 BOM',
    Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a":1}\n{"b":2}\n')]),
    [{ invalid: /byte order mark/ }, ok],
  ],
  ['mixed CRLF and LF, no final newline', Buffer.from('{"a":1}\r\n{"b":2}\n{"c":3}\r\n{"d":4}'), [ok, ok, ok, ok]],
  ['lone CR inside a line', Buffer.from('{"a":1}\r{"b":2}\n'), [{ invalid: /carriage return \(CR\) at byte 8/ }]],
  ['CR-only line endings', Buffer.from('{"a":1}\r{"b":2}\r'), [{ invalid: /carriage return/ }]],
  [
    'invalid UTF-8',
    Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}\n')]),
    [{ invalid: /invalid UTF-8 at byte 7/ }],
  ],
  [
    'truncated 4-byte sequence',
    Buffer.concat([Buffer.from('{"a":"'), Buffer.from([0xf0, 0x9f, 0x98]), Buffer.from('"}\n{"b":1}\n')]),
    [{ invalid: /invalid UTF-8 at byte 7/ }, ok],
  ],
  [
    'bad JSON',
    Buffer.from('{"a":1,}\n{"b":\n{a:1}\n'),
    [{ invalid: /invalid JSON/ }, { invalid: /invalid JSON/ }, { invalid: /invalid JSON/ }],
  ],
  [
    'non-object top-level values',
    Buffer.from('[1,2]\n"x"\n3\nnull\ntrue\n'),
    [
      { invalid: /an array/ },
      { invalid: /a string/ },
      { invalid: /a number/ },
      { invalid: /null/ },
      { invalid: /a boolean/ },
    ],
  ],
  [
    'duplicate keys',
    Buffer.from('{"a":1,"a":2}\n{"o":{"k":1},"p":{"k":2}}\n{"o":{"k":1,"k":1}}\n'),
    [{ lossy: /duplicate key "a"/ }, ok, { lossy: /duplicate key "k"/ }],
  ],
  [
    'escaped quotes and backslashes in keys and values',
    Buffer.from(
      [
        String.raw`{"a\"b":1,"a\"b":2}`, // the same key, with an escaped quote: a duplicate
        String.raw`{"t":"say \"{\\\"k\\\":1,\\\"k\\\":2}\" \\","k":1}`, // keys inside a value's text are text
        String.raw`{"t":"ends with a backslash \\","t2":"x","t":3}`, // an escaped backslash before the closing quote
        String.raw`{"\u0061":1,"a":2}`, // the same key written two ways
        String.raw`{"a\\":1,"a":2,"x":"\\\\\\"}`, // different keys; a value of backslashes only
      ].join('\n') + '\n',
    ),
    [{ lossy: /duplicate key "a\\"b"/ }, ok, { lossy: /duplicate key "t"/ }, { lossy: /duplicate key "a"/ }, ok],
  ],
  [
    'integers beyond 2^53',
    Buffer.from('{"id":12345678901234567890}\n{"id":9007199254740991}\n{"id":-9007199254740993}\n'),
    [{ lossy: /12345678901234567890/ }, ok, { lossy: /beyond 2\^53/ }],
  ],
  [
    'numbers that change when rewritten',
    Buffer.from(
      '{"x":1.0}\n{"x":1.5}\n{"x":1.50}\n{"x":1e2}\n{"x":-0}\n{"x":1e400}\n{"x":0.1000000000000000000001}\n{"x":1E-7}\n',
    ),
    [
      { lossy: /1\.0 would be written as 1/ },
      ok,
      ok,
      { lossy: /1e2/ },
      { lossy: /-0/ },
      { lossy: /null/ },
      { lossy: /would be written as 0\.1/ },
      ok,
    ],
  ],
  [
    'integer-like keys out of order',
    Buffer.from('{"b":1,"2":2}\n{"1":1,"2":2,"b":3}\n'),
    [{ lossy: /key "2" would be moved/ }, ok],
  ],
  ['NUL bytes', Buffer.from('{"a":"\u0000"}\n\u0000\n'), [{ invalid: /invalid JSON/ }, { invalid: /invalid JSON/ }]],
  [
    'unicode escapes and surrogate pairs',
    Buffer.from(`{"t":"caf\\u00e9 ${emoji} \\ud83d\\ude00 \\ud800"}\n{"t":"\\/"}\n`),
    [ok, ok],
  ],
  ['4-byte emoji on every chunk boundary', Buffer.from(`{"e":"${emoji.repeat(5)}"}\n`.repeat(4)), [ok, ok, ok, ok]],
  [
    'deep nesting',
    Buffer.from(`${'{"a":'.repeat(400)}1${'}'.repeat(400)}\n${'['.repeat(300)}${']'.repeat(300)}\n`),
    [ok, { invalid: /an array/ }],
  ],
  ['a 10 MB line between records', Buffer.from(`{"a":1}\n${bigLine}\n{"b":2}\n`), [ok, ok, ok]],
];

const chunkSizes = [1, 2, 3, 5, 7, 64, undefined];

function checkLines(ds: JsonlDataset, buf: Buffer, expected: Expect[], label: string, total = expected.length): void {
  assert.equal(ds.lineCount, total, `${label}: line count`);
  const lines = expectedLines(buf);
  expected.forEach((exp, i) => {
    const line = ds.line(i);
    assert.equal(line.lineNumber, i + 1);
    assert.ok(line.bytes().equals(lines[i]!.content), `${label}: bytes of line ${i + 1}`);
    assert.equal(line.eol, lines[i]!.eol, `${label}: terminator of line ${i + 1}`);
    assert.equal(line.edited, false);
    if (exp.invalid) {
      assert.match(line.invalid?.reason ?? '(valid)', exp.invalid, `${label}: line ${i + 1}`);
      assert.equal(line.value, undefined);
    } else {
      assert.equal(line.invalid, undefined, `${label}: line ${i + 1} should be valid, got ${line.invalid?.reason}`);
      assert.ok(line.value && typeof line.value === 'object');
    }
    if (exp.lossy) assert.match(line.lossy?.reason ?? '(not lossy)', exp.lossy, `${label}: line ${i + 1}`);
    else if (!exp.invalid)
      assert.equal(line.lossy, undefined, `${label}: line ${i + 1} is not lossy, got ${line.lossy?.reason}`);
  });
}

describe('edge-case corpus', () => {
  for (const [name, buf, expected] of corpus) {
    test(`${name}: indexed right at every chunk size, in this thread`, async () => {
      const sizes = buf.length > 1024 * 1024 ? [7, 4096, undefined] : chunkSizes;
      for (const chunkSize of sizes) {
        const ds = await JsonlDataset.open(fileWith(buf), { chunkSize, worker: false });
        await ds.ready;
        checkLines(ds, buf, expected, `${name} (chunk ${chunkSize ?? 'default'})`);
        ds.close();
      }
    });

    test(`${name}: a save after an unrelated edit keeps its bytes`, async () => {
      const path = fileWith(buf);
      const ds = await JsonlDataset.open(path);
      await ds.ready;
      // Append a record, save, then check the case's bytes are a prefix of the file, intact.
      ds.insertLine(ds.lineCount, { added: true });
      await ds.save();
      const after = readFileSync(path);
      const sep =
        buf.length > 0 && buf[buf.length - 1] !== 10
          ? buf.indexOf('\r\n') !== -1 && buf.indexOf('\r\n') === buf.indexOf('\n') - 1
            ? '\r\n'
            : '\n'
          : '';
      const eol = buf.indexOf(10) > 0 && buf[buf.indexOf(10) - 1] === 13 ? '\r\n' : '\n';
      assert.ok(after.subarray(0, buf.length).equals(buf), `${name}: original bytes intact`);
      assert.equal(after.subarray(buf.length).toString('utf8'), `${sep}{"added":true}${eol}`);
      // The store re-based on the saved file: same view without re-scanning.
      checkLines(ds, after, [...expected, ok], `${name} after save`);
      assert.equal(ds.line(expected.length).raw, '{"added":true}');
      assert.equal(ds.dirty, false);
      // Editing a line after it and saving again keeps the case's bytes too.
      ds.setField(expected.length, ['added'], false);
      await ds.save();
      assert.ok(readFileSync(path).subarray(0, buf.length).equals(buf));
      ds.close();
    });
  }

  test('the scan worker indexes the corpus the same way (chunk boundaries in the worker)', async () => {
    for (const [name, buf, expected] of corpus.filter(([, b]) => b.length < 1024 * 1024)) {
      const ds = await JsonlDataset.open(fileWith(buf), { chunkSize: 3, worker: true });
      if (buf.length > 3) assert.equal(ds.indexedBy, 'worker', 'the worker thread ran (no fallback)');
      await ds.ready;
      checkLines(ds, buf, expected, `${name} (worker)`);
      ds.close();
    }
  });
});

describe('indexing', () => {
  test('the first lines are readable before the index is complete; progress and ready follow', async () => {
    const rec = `{"i":0,"text":"${'y'.repeat(100)}"}\n`;
    const buf = Buffer.from(rec.repeat(20000));
    const progress: number[] = [];
    const ds = await JsonlDataset.open(fileWith(buf), {
      chunkSize: 4096,
      worker: true,
      onProgress: (p) => progress.push(p.bytes),
    });
    assert.equal(ds.indexed, false);
    assert.equal(ds.indexedBy, 'worker');
    assert.ok(ds.lineCount > 0 && ds.lineCount < 20000, `some lines known at open: ${ds.lineCount}`);
    assert.equal(ds.line(0).raw, rec.trimEnd());
    await ds.ready;
    assert.equal(ds.indexed, true);
    assert.equal(ds.lineCount, 20000);
    assert.equal(progress[progress.length - 1], buf.length);
    assert.deepEqual(
      [...progress].sort((a, b) => a - b),
      progress,
    );
    assert.equal(ds.line(19999).raw, rec.trimEnd());
    ds.close();
  });

  test('cancelling the scan rejects ready with an AbortError; lines found so far stay readable', async () => {
    const buf = Buffer.from('{"a":1}\n'.repeat(200000));
    const ac = new AbortController();
    const ds = await JsonlDataset.open(fileWith(buf), { chunkSize: 64, worker: false, signal: ac.signal });
    ac.abort();
    await assert.rejects(ds.ready, { name: 'AbortError' });
    assert.equal(ds.indexed, false);
    assert.ok(ds.lineCount < 200000);
    if (ds.lineCount > 0) assert.equal(ds.line(0).raw, '{"a":1}');
    ds.close();
  });

  test('an already aborted signal refuses to open', async () => {
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(JsonlDataset.open(fileWith('{"a":1}\n'), { signal: ac.signal }), { name: 'AbortError' });
  });

  test('a missing file and a folder are clear errors', async () => {
    await assert.rejects(JsonlDataset.open('/nonexistent/x.jsonl'), /ENOENT/);
    await assert.rejects(JsonlDataset.open(__dirname), /folder|EISDIR/);
  });

  test('the index holds 8 bytes a line', async () => {
    const ds = await JsonlDataset.open(fileWith('{}\n'.repeat(100000)));
    await ds.ready;
    assert.ok(ds.indexBytes <= 100000 * 8 + 8192, `index bytes ${ds.indexBytes}`);
    ds.close();
  });

  test('edits wait for the full index', async () => {
    const ds = await JsonlDataset.open(fileWith('{"a":1}\n'.repeat(50000)), { chunkSize: 1024, worker: false });
    assert.throws(() => ds.setField(0, ['a'], 2), /still being indexed/);
    await ds.ready;
    ds.setField(0, ['a'], 2);
    assert.equal(ds.line(0).raw, '{"a":2}');
    ds.close();
  });
});

describe('deferred scan', () => {
  const rec = (i: number) => `{"i":${i},"text":"${'z'.repeat(80)}"}\n`;
  const N = 2000; // ~200 KB
  const bigBuf = Buffer.from(Array.from({ length: N }, (_, i) => rec(i)).join(''));
  const sleep = (ms: number) => new Promise<'timer'>((r) => setTimeout(() => r('timer'), ms));

  for (const worker of [true, false]) {
    const how = worker ? 'worker' : 'in-thread';

    test(`${how}: waits after the first chunk until startScan(); then indexes everything`, async () => {
      const ds = await JsonlDataset.open(fileWith(bigBuf), { chunkSize: 4096, worker, deferScan: true });
      const firstLines = ds.lineCount;
      assert.ok(firstLines > 0 && firstLines < N, `first chunk lines: ${firstLines}`);
      assert.equal(ds.indexed, false);
      assert.equal(ds.scanDeferred, true);
      assert.equal(ds.line(0).raw, rec(0).trimEnd());
      await sleep(100);
      assert.equal(ds.indexed, false, 'still waiting');
      assert.equal(ds.lineCount, firstLines);
      assert.equal(ds.scanDeferred, true);
      ds.startScan();
      assert.equal(ds.scanDeferred, false);
      ds.startScan(); // a second call is a no-op
      await ds.indexDone;
      assert.equal(ds.indexed, true);
      assert.equal(ds.indexedBy, worker ? 'worker' : 'thread');
      assert.equal(ds.lineCount, N);
      for (let i = 0; i < N; i++) assert.equal(ds.line(i).raw, rec(i).trimEnd(), `line ${i + 1}`);
      ds.startScan(); // no-op once done
      ds.close();
    });

    test(`${how}: reading ready starts a deferred scan`, async () => {
      const ds = await JsonlDataset.open(fileWith(bigBuf), { chunkSize: 4096, worker, deferScan: true });
      assert.equal(ds.scanDeferred, true);
      await ds.ready;
      assert.equal(ds.scanDeferred, false);
      assert.equal(ds.indexed, true);
      assert.equal(ds.lineCount, N);
      ds.close();
    });

    test(`${how}: indexDone alone does not start a deferred scan`, async () => {
      const ds = await JsonlDataset.open(fileWith(bigBuf), { chunkSize: 4096, worker, deferScan: true });
      const done = ds.indexDone.then(() => 'indexed' as const);
      assert.equal(await Promise.race([done, sleep(150)]), 'timer');
      assert.equal(ds.indexed, false);
      assert.equal(ds.scanDeferred, true);
      ds.startScan();
      assert.equal(await done, 'indexed');
      assert.equal(ds.lineCount, N);
      ds.close();
    });

    test(`${how}: close() before the scan starts neither throws nor starts it`, async () => {
      const ds = await JsonlDataset.open(fileWith(bigBuf), { chunkSize: 4096, worker, deferScan: true });
      const unhandled: unknown[] = [];
      const onUnhandled = (e: unknown) => unhandled.push(e);
      process.on('unhandledRejection', onUnhandled);
      try {
        ds.close();
        assert.equal(ds.scanDeferred, false);
        ds.startScan(); // no-op once closed
        await sleep(50);
        assert.equal(ds.indexed, false);
        assert.equal(ds.indexedBy, 'open', 'no worker or in-thread scan ran');
        assert.deepEqual(unhandled, []);
      } finally {
        process.off('unhandledRejection', onUnhandled);
      }
    });

    test(`${how}: aborting while deferred rejects ready with an AbortError`, async () => {
      const ac = new AbortController();
      const ds = await JsonlDataset.open(fileWith(bigBuf), {
        chunkSize: 4096,
        worker,
        deferScan: true,
        signal: ac.signal,
      });
      ac.abort();
      assert.equal(ds.scanDeferred, false);
      await assert.rejects(ds.indexDone, { name: 'AbortError' });
      await assert.rejects(ds.ready, { name: 'AbortError' });
      ds.startScan(); // no-op after the abort
      await sleep(20);
      assert.equal(ds.indexed, false);
      assert.equal(ds.indexedBy, 'open');
      assert.equal(ds.line(0).raw, rec(0).trimEnd());
      ds.close();
    });
  }

  test('a file indexed at open is not deferred', async () => {
    for (const opts of [{}, { worker: false }, { chunkSize: 1 << 20, worker: true }]) {
      const ds = await JsonlDataset.open(fileWith(bigBuf), { ...opts, deferScan: true });
      assert.equal(ds.indexed, true);
      assert.equal(ds.scanDeferred, false);
      assert.equal(ds.lineCount, N);
      await ds.indexDone;
      ds.close();
    }
  });

  test("opening files takes no new read buffer each time (the editor's host: its growth set off collections as a large file's page loaded)", async () => {
    // A large file (its first MiB indexed at open, the rest deferred, as the editor opens it) and a
    // file indexed whole at open (3 MiB), each opened 12 times: each open used to read into a
    // buffer of its own (1 MiB, 3 MiB), memory outside V8's heap that only a collection returns.
    const line = (i: number) => `{"id":${i},"text":"${'y'.repeat(1000)}","label":"neutral"}\n`;
    const lines = (n: number) => Buffer.from(Array.from({ length: n }, (_, i) => line(i)).join(''));
    const large = fileWith(lines(17_500)); // 17.8 MB, over SYNC_SCAN_BYTES
    const small = fileWith(lines(3_000));
    const opens = 12;
    for (const [file, deferred] of [
      [large, true],
      [small, false],
    ] as const) {
      (await JsonlDataset.open(file, { deferScan: true })).close(); // the first open takes the shared buffer
      const before = process.memoryUsage().arrayBuffers;
      for (let k = 0; k < opens; k++) {
        const ds = await JsonlDataset.open(file, { deferScan: true, deferCleanup: true });
        assert.equal(ds.indexed, !deferred);
        assert.ok(
          deferred ? ds.lineCount > 1000 && ds.lineCount < 1100 : ds.lineCount === 3_000,
          `${ds.lineCount} lines`,
        );
        ds.close();
      }
      const grown = process.memoryUsage().arrayBuffers - before;
      // what is left per open: the offsets of its lines (32 KiB, 48 KiB)
      assert.ok(
        grown < opens * 128 * 1024,
        `${file}: ${(grown / 1048576).toFixed(1)} MiB outside the heap after ${opens} opens`,
      );
    }
  });

  test("the scan worker writes the offsets into the index's own memory: none is sent (the editor's host collected it as garbage)", async () => {
    const n = 400_000;
    const path = fileWith(Array.from({ length: n }, (_, i) => `{"i":${i},"t":"abcdefghij"}\n`).join(''));
    const ds = await JsonlDataset.open(path, { deferScan: true, worker: true });
    const before = process.memoryUsage().external;
    ds.startScan();
    await ds.ready;
    // V8's memory outside its heap: each batch of starts a worker sends is some (2x the index's
    // 3.2 MB in all before, as each batch arrived and was then copied in); the shared index none.
    const grown = process.memoryUsage().external - before;
    assert.equal(ds.indexedBy, 'worker');
    assert.equal(ds.lineCount, n);
    for (const i of [0, 1, 12_345, n - 1]) assert.equal((ds.line(i).value as { i: number }).i, i);
    assert.ok(
      grown < ds.indexBytes / 2,
      `${(grown / 1048576).toFixed(1)} MB outside the heap for an index of ${(ds.indexBytes / 1048576).toFixed(1)} MB`,
    );
    ds.close();
  });

  test('revert of a deferred dataset indexes the file again', async () => {
    const ds = await JsonlDataset.open(fileWith(bigBuf), { chunkSize: 4096, worker: false, deferScan: true });
    await ds.revert({ chunkSize: 4096, worker: false, deferScan: true });
    assert.equal(ds.indexed, true);
    assert.equal(ds.scanDeferred, false);
    assert.equal(ds.lineCount, N);
    ds.close();
  });
});

describe('lines read in order (read ahead) and out of order', () => {
  // ~1 MB: lines of every length around the read-ahead window's (256 KiB) edges, CRLF and LF,
  // a line longer than a quarter of the window (read on its own), a last line without terminator
  const lines: string[] = [];
  for (let i = 0; i < 3000; i++) {
    const len = i === 1000 ? 100_000 : i === 2000 ? 300_000 : (i * 7919) % 700;
    lines.push(`{"i":${i},"t":"${'y'.repeat(len)}\u00e9${i % 3 === 0 ? 'é' : ''}"}${i % 5 === 0 ? '\r\n' : '\n'}`);
  }
  const content = Buffer.from(`${lines.join('')}{"i":"last"}`);

  function assertAsOnDisk(ds: JsonlDataset, path: string, order: number[]): void {
    const want = expectedLines(readFileSync(path));
    assert.equal(ds.lineCount, want.length);
    for (const i of order) {
      const l = ds.line(i);
      assert.ok(l.bytes().equals(want[i]!.content), `line ${i + 1}`);
      assert.equal(l.eol, want[i]!.eol, `line ${i + 1}'s terminator`);
    }
  }

  test("each line as on disk, in order, backwards and jumping; after a save and after a revert, the new file's", async () => {
    const path = fileWith(content);
    const ds = await JsonlDataset.open(path, { worker: false });
    await ds.ready;
    const n = ds.lineCount;
    const forward = Array.from({ length: n }, (_, i) => i);
    assertAsOnDisk(ds, path, forward);
    assertAsOnDisk(ds, path, [...forward].reverse());
    assertAsOnDisk(
      ds,
      path,
      forward.map((i) => (i * 977) % n),
    );
    // edits (a replaced line keeps its terminator, read from the file), then a save re-bases the dataset
    for (const i of [0, 5, 999, 1000, 1001, 2500, n - 1]) ds.replaceLine(i, { i, edited: true });
    assertAsOnDisk(
      ds,
      path,
      forward.filter((i) => ![0, 5, 999, 1000, 1001, 2500, n - 1].includes(i)),
    );
    assert.equal(ds.line(5).eol, '\r\n');
    assert.equal(ds.line(5).raw, '{"i":5,"edited":true}');
    // the lines read last before the save are the first ones: after it, the same offsets hold other bytes
    assertAsOnDisk(ds, path, forward.slice(6, 200));
    await ds.save();
    assertAsOnDisk(ds, path, [150, 100, 50, ...forward]);
    assertAsOnDisk(ds, path, [...forward].reverse());
    // another program replaces the file (shorter lines at other offsets); a revert reads it
    writeFileSync(
      `${path}.new`,
      lines
        .slice(0, 2000)
        .map((l, i) => (i % 2 ? l : `{"other":${i}}\n`))
        .join(''),
    );
    renameSync(`${path}.new`, path);
    await ds.revert({ worker: false });
    assertAsOnDisk(
      ds,
      path,
      Array.from({ length: ds.lineCount }, (_, i) => i),
    );
    ds.close();
  });
});

test('a deferred scan sized from its first chunk indexes every line when the chunk misjudges the count, and its index is not left mostly empty', async () => {
  // (FIRST_CHUNK is 1 MiB: the first MiB of long lines then short ones, and the other way round)
  const long = (i: number) => `{"i":${i},"text":"${'L'.repeat(2000)}"}\n`;
  const short = (i: number) => `{"i":${i}}\n`;
  const cases: Array<[string, (i: number) => string]> = [
    ['long lines, then short ones', (i) => (i < 600 ? long(i) : short(i))],
    ['short lines, then long ones', (i) => (i < 80_000 ? short(i) : long(i))],
  ];
  // (in this thread, and by the worker: it writes into the offsets while they have room, and sends the rest)
  for (const [what, lineOf] of cases) {
    const n = what.startsWith('long') ? 400_000 : 81_000;
    const path = fileWith(Array.from({ length: n }, (_, i) => lineOf(i)).join(''));
    for (const worker of [false, true]) {
      const ds = await JsonlDataset.open(path, { deferScan: true, worker });
      ds.startScan();
      await ds.ready;
      assert.equal(ds.indexedBy, worker ? 'worker' : 'thread');
      assert.equal(ds.lineCount, n, what);
      for (const i of [0, 599, 600, 79_999, 80_000, n - 1])
        if (i < n) assert.equal((ds.line(i).value as { i: number }).i, i, `${what}: line ${i + 1}`);
      assert.ok(ds.indexBytes <= 8 * n * 1.125 + 8 * 1024, `${what}: ${ds.indexBytes} bytes for ${n} lines`);
      ds.close();
    }
  }
});
