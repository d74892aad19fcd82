// The WebAssembly scanner of dataset statistics (wasm/stats-scan.ts, driven by
// src/core/store/stats-wasm.ts and stats-core.ts' statsOfRange): the committed module is what its
// source compiles to; it accepts a line exactly when JSON.parse does (apart from the cases it
// leaves to JS on purpose), whatever the offset of a stop byte in its 64-byte bitmap words; the
// lines it leaves to JS (escaped labels, numbers off its fast path, a full label table, histogram
// buckets out of its range, long lines, CRLF, invalid UTF-8) are counted the same; workers and
// the calling thread all use it; without it (no WebAssembly, or turned off) the JS scanner counts,
// with the same figures. The random and hostile corpus of stats-scan.test.ts runs through it too.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { closeSync, openSync, readFileSync, statSync } from 'node:fs';
import { compileStatsWasm, generatedFile, generatedSource } from '../../scripts/build-wasm';
import { JsonlDataset, computeStats } from '../../src/core/store';
import { WASM_MAX_CHUNK, statsOfRange, type PartialStats, type StatsFields } from '../../src/core/store/stats-core';
import { finishStats } from '../../src/core/store/stats';
import { endIdleWorkers } from '../../src/core/store/stats-pool';
import { setStatsWasm, statsWasm } from '../../src/core/store/stats-wasm';
import { FieldMap } from '../../src/core/schema/annotation';
import { fileWith, root } from './helpers/store';

const defaults: StatsFields = { label: 'label', judge: 'judge', annotations: 'annotations', question: 'label' };

/** statsOfRange over a whole file, as plain data. */
function countFile(path: string, mode: boolean | 'js', chunk = 4096, f = defaults): PartialStats {
  const fd = openSync(path, 'r');
  try {
    const s = statsOfRange(fd, 0, statSync(path).size, 1, f, 1000, 1 << 26, undefined, chunk, mode);
    return { ...s, labels: { ...s.labels }, histogram: { ...s.histogram } };
  } finally {
    closeSync(fd);
  }
}

/** The WebAssembly, JS scanner and full parse figures of `content` (checked equal), and how many records the WebAssembly scanner took. */
function sameEveryWay(content: Buffer, chunk = 4096, f = defaults): { figures: PartialStats; wasmRecords: number } {
  const path = fileWith(content);
  const { wasmRecords, ...wasm } = countFile(path, true, chunk, f);
  const { wasmRecords: js0, ...js } = countFile(path, 'js', chunk, f);
  const { wasmRecords: full0, ...full } = countFile(path, false, chunk, f);
  assert.equal(js0, 0);
  assert.equal(full0, 0);
  assert.deepEqual(wasm, full);
  assert.deepEqual(js, full);
  return { figures: { ...full, wasmRecords: 0 }, wasmRecords };
}

/** True when the WebAssembly scanner alone counts `line` (one line, no terminator) as a record. */
function wasmCounts(line: Buffer): boolean {
  const w = statsWasm();
  assert.ok(w, 'WebAssembly is there');
  assert.ok(w.setFields(defaults));
  w.x.reset();
  const buf = w.input(line.length + 1);
  buf.set(line, 0);
  w.x.prepare(w.base, w.base + line.length, w.bitmap);
  return w.x.scan(w.base, w.base + line.length, 1 << 20) === 0 && w.x.linesCounted() === 1 && w.x.count(0) === 1;
}

function parsesToObject(line: Buffer): boolean {
  try {
    const v: unknown = JSON.parse(line.toString('utf8'));
    return v !== null && typeof v === 'object' && !Array.isArray(v);
  } catch {
    return false;
  }
}

test('the committed WebAssembly is what wasm/stats-scan.ts compiles to (else: npm run build:wasm)', async () => {
  const bytes = await compileStatsWasm();
  assert.equal(readFileSync(generatedFile, 'utf8'), generatedSource(bytes), 'run: npm run build:wasm');
});

test('on the sample every record is counted by the WebAssembly scanner, with the full parse figures', () => {
  const buf = readFileSync(`${root}/samples/reviews.jsonl`);
  const { figures, wasmRecords } = sameEveryWay(buf, 1 << 20);
  assert.equal(figures.records, 36);
  assert.equal(wasmRecords, 36);
});

test('a stop byte or an escape at every offset of a 64-byte bitmap word: the scanner counts exactly the lines JSON.parse accepts', () => {
  const inserts: Buffer[] = [
    ...[0x00, 0x01, 0x09, 0x0d, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x5c, 0x7f].map((c) => Buffer.from([c])),
    Buffer.from('é😀'),
    ...['\\"', '\\\\', '\\/', '\\n', '\\u0041', '\\ud83d\\ude00', '\\x', '\\u00g1', '\\u12', '\\ '].map((e) =>
      Buffer.from(e),
    ),
  ];
  const lines: Buffer[] = [];
  for (const ins of inserts)
    for (const len of [0, 15, 16, 17, 63, 64, 65, 140])
      for (let at = 0; at <= len; at++) {
        const s = Buffer.concat([Buffer.from('a'.repeat(at)), ins, Buffer.from('b'.repeat(len - at))]);
        const escape = ins[0] === 0x5c;
        for (const [line, leftToJs] of [
          // An escaped label is decoded by JS.
          [Buffer.concat([Buffer.from('{"label":"'), s, Buffer.from('","judge":{"score":2}}')]), escape],
          [Buffer.concat([Buffer.from('{"x":"'), s, Buffer.from('","label":"ok"}')]), false],
          // A key with an escape where keys are matched: JS decides.
          [Buffer.concat([Buffer.from('{"'), s, Buffer.from('":1,"label":"k"}')]), escape],
          [Buffer.concat([Buffer.from('{"n":{"'), s, Buffer.from('":[1]},"label":"k"}')]), false],
        ] as const) {
          const want = parsesToObject(line) && !leftToJs && !line.includes(0x0d);
          assert.equal(wasmCounts(line), want, JSON.stringify(line.toString('latin1')));
          lines.push(line);
        }
      }
  // And a file of them all, in chunks that cut them anywhere: the same figures every way.
  const content = Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')]));
  sameEveryWay(content, 4096);
  sameEveryWay(content, 1 << 20);
});

test('strings of every length from 0 to 130 at every offset of a 64-byte bitmap word, with or without an escape near their end: counted exactly when JSON.parse accepts them', () => {
  const lines: Buffer[] = [];
  for (let pad = 0; pad < 64; pad++)
    for (let len = 0; len <= 130; len++) {
      const body = 'a'.repeat(len);
      const texts = [body, `${body.slice(0, Math.max(0, len - 2))}\\n`, `${body}\\q`];
      for (const t of texts) {
        const line = Buffer.from(`{"${'p'.repeat(pad)}":0,"x":"${t}","label":"${t.slice(0, 9)}"}`);
        const want = parsesToObject(line) && !line.toString('latin1').slice(line.indexOf('"label"')).includes('\\');
        assert.equal(wasmCounts(line), want, line.toString('latin1'));
        lines.push(line);
      }
    }
  sameEveryWay(Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')])), 4096);
});

test('numbers with runs of 1 to 20 digits at every offset of an 8-byte load, and malformed ones: counted exactly when JSON.parse accepts them', () => {
  const runs = Array.from({ length: 20 }, (_, n) => '1234567890'.repeat(2).slice(0, n + 1));
  const forms = [
    ...runs.flatMap((r) => [r, `-${r}`, `0.${r}`, `${r}.${r}`, `${r}e${r.slice(0, 3)}`, `-${r}.5E-${r.slice(0, 2)}`]),
    ...[
      '0',
      '-0',
      '01',
      '1.',
      '1e',
      '1e+',
      '-',
      '.5',
      '+1',
      '--1',
      '1.e5',
      '0x1',
      '1.5e',
      '00',
      '-01',
      '1..2',
      '1e5.5',
      '1:',
      '12;',
      '0.5:',
      '1e5:',
      '9/',
      '1a',
    ],
  ];
  const lines: Buffer[] = [];
  for (let pad = 0; pad < 8; pad++)
    for (const n of forms)
      for (const line of [
        `{"${'p'.repeat(pad)}":${n},"x":[${n}]}`,
        `{"${'p'.repeat(pad)}":1,"label":${n}}`,
        `{"${'p'.repeat(pad)}":1,"judge":{"score":${n},"scale":[0,${n}]}}`,
      ]) {
        const b = Buffer.from(line);
        if (line.includes('"x"')) assert.equal(wasmCounts(b), parsesToObject(b), line);
        lines.push(b);
      }
  sameEveryWay(Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')])), 4096);
});

test('field names of 1 to 256 bytes, and keys one byte off them (first, last, longer, shorter): only the exact name is read', () => {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789'.repeat(8);
  for (const n of [1, 2, 7, 8, 9, 15, 16, 17, 24, 40, 255, 256]) {
    const name = alphabet.slice(0, n);
    const judge = `j${name.slice(1)}`;
    const f: StatsFields = { label: name, judge, annotations: `A${name.slice(1)}`, question: name };
    const off = (k: string) => [
      `${k.slice(0, -1)}${k.endsWith('z') ? 'y' : 'z'}`,
      `Z${k.slice(1)}`,
      `${k}x`,
      k.slice(0, -1),
    ];
    const lines = [
      { [name]: 'hit', [judge]: { score: 3 } },
      ...off(name).map((k) => ({ [k]: 'miss', [judge]: { score: 2 } })),
      ...off(judge).map((k) => ({ [name]: 'other', [k]: { score: 5 } })),
    ].map((r) => JSON.stringify(r));
    const { figures, wasmRecords } = sameEveryWay(Buffer.from(`${lines.join('\n')}\n`), 4096, f);
    assert.deepEqual(figures.labels, { hit: 1, other: 4 }, `names of ${n} bytes`);
    assert.deepEqual(figures.histogram, { 3: 1, 2: 4 }, `names of ${n} bytes`);
    assert.equal(wasmRecords, lines.length, `names of ${n} bytes`);
  }
});

test('numbers, labels and buckets the scanner counts itself or leaves to JS: the same figures', () => {
  const cases: [string, Partial<Record<keyof PartialStats, unknown>>, boolean][] = [
    // [line, figures, counted by the WebAssembly scanner]
    ['{"label":1}', { labels: { 1: 1 } }, true],
    ['{"label":-12}', { labels: { '-12': 1 } }, true],
    ['{"label":"1"}', { labels: { 1: 1 } }, true],
    ['{"label":-0}', { labels: { 0: 1 } }, false],
    ['{"label":1.0}', { labels: { 1: 1 } }, false],
    ['{"label":1e2}', { labels: { 100: 1 } }, false],
    ['{"label":1234567890123456}', { labels: { 1234567890123456: 1 } }, false],
    ['{"label":true}', { labels: { true: 1 } }, true],
    ['{"label":"true"}', { labels: { true: 1 } }, true],
    ['{"label":false}', { labels: { false: 1 } }, true],
    ['{"label":""}', { annotated: 0 }, true],
    ['{"label":null}', { annotated: 0 }, true],
    ['{"label":"caf\\u00e9"}', { labels: { café: 1 } }, false],
    ['{"label":"__proto__"}', { labels: { ['__proto__']: 1 } }, true],
    ['{"judge":{"score":0.1,"scale":[0,1]}}', { histogram: { '0.1': 1 }, scoreSum: 0.1 }, true],
    ['{"judge":{"score":0.3,"scale":[0,1.0]}}', { histogram: { '0.3': 1 } }, true],
    ['{"judge":{"score":1,"scale":[0,1]}}', { histogram: { '1.0': 1 } }, true],
    ['{"judge":{"score":1.5,"scale":[0,1]}}', { histogram: { '1.0': 1 } }, true],
    ['{"judge":{"score":-0.05,"scale":[0,1]}}', { histogram: { '-0.1': 1 } }, true],
    ['{"judge":{"score":-0,"scale":[0,1]}}', { histogram: { '0.0': 1 } }, true],
    ['{"judge":{"score":2.5}}', { histogram: { 3: 1 } }, true],
    ['{"judge":{"score":-2.5}}', { histogram: { '-2': 1 } }, true],
    ['{"judge":{"score":-0.4}}', { histogram: { 0: 1 } }, true],
    ['{"judge":{"score":0.49999999999999994}}', { histogram: { 0: 1 } }, false],
    ['{"judge":{"score":7,"scale":[1,"10"]}}', { histogram: { 7: 1 } }, true],
    ['{"judge":{"score":7,"scale":{"1":1}}}', { histogram: { 7: 1 } }, true],
    ['{"judge":{"score":1e22}}', { scored: 1 }, false],
    ['{"judge":{"score":12e-1}}', { histogram: { 1: 1 }, scoreSum: 1.2 }, true],
    ['{"judge":{"score":1E+2}}', { histogram: { 100: 1 } }, true],
    ['{"judge":{"score":5000}}', { histogram: { 5000: 1 } }, false],
    ['{"judge":{"score":1e400}}', { scored: 0 }, false],
    ['{"judge":{"score":0.30000000000000004}}', { scored: 1 }, false],
    ['{"judge":{"score":7,"scale":[1,1e999]}}', { histogram: { 7: 1 } }, false],
    ['{"annotations":{"review":{"status":"pend\\u0069ng"}}}', { reviewed: 0 }, false],
    [
      '{"annotations":{"origin":{"type":"model"},"suggestions":{"label":[0]},"human":{"label":{}}}}',
      { generated: 1, suggested: 1, humanLabeled: 1 },
      true,
    ],
    [' \t{"label":"a"} \t', { labels: { a: 1 } }, true],
    // Containers inside the scale array, and the contexts around a closed container.
    ['{"judge":{"score":0.5,"scale":[[0,5],1]}}', { histogram: { '0.5': 1 } }, true],
    ['{"judge":{"score":0.5,"scale":[0,[1],1]}}', { histogram: { 1: 1 } }, true],
    ['{"judge":{"scale":[{"a":[1,2],"b":{}},1],"score":0.5}}', { histogram: { '0.5': 1 } }, true],
    ['{"judge":{"scale":[0,1],"scale":[0,10],"score":0.5}}', { histogram: { 1: 1 } }, true],
    ['{"judge":{"scale":[0,10],"scale":[[],1],"score":0.5}}', { histogram: { '0.5': 1 } }, true],
    ['{"judge":{"x":{"score":9,"y":[{"score":8}]},"score":2}}', { histogram: { 2: 1 } }, true],
    [
      '{"annotations":{"suggestions":{"x":[{"label":[1]}],"label":[]},"x":[[{}]],"review":{"status":"done"}}}',
      { suggested: 0, reviewed: 1 },
      true,
    ],
    ['{"x":[[[{"label":"b"}]]],"label":"a","y":{"label":"c"}}', { labels: { a: 1 } }, true],
  ];
  for (const [text, want, byWasm] of cases) {
    const { figures, wasmRecords } = sameEveryWay(Buffer.from(`${text}\n`));
    for (const [k, v] of Object.entries(want)) assert.deepEqual(figures[k as keyof PartialStats], v, `${text}: ${k}`);
    assert.equal(wasmRecords, byWasm ? 1 : 0, `${text}: counted by the WebAssembly scanner`);
  }
  // A score sum in line order, whichever scanner counted each line.
  const mixed = ['0.1', '0.2', '1e22', '0.3', '0.30000000000000004', '7'].map((x) => `{"judge":{"score":${x}}}\n`);
  sameEveryWay(Buffer.from(mixed.join('')));
});

test('more labels than the table holds, long labels, long lines and lines across chunk ends: the same figures', () => {
  const lines: string[] = [];
  for (let i = 0; i < 5000; i++) lines.push(JSON.stringify({ label: `label-${i}`, judge: { score: i % 11 } }));
  lines.push(JSON.stringify({ label: 'x'.repeat(300), text: 'y'.repeat(20_000) }));
  lines.push(JSON.stringify({ label: 'x'.repeat(300) }));
  const { figures, wasmRecords } = sameEveryWay(Buffer.from(`${lines.join('\n')}\n`), 4096);
  assert.equal(figures.records, 5002);
  assert.equal(Object.keys(figures.labels).length, 5001);
  // The table holds 2048 distinct labels per range; the others go to JS.
  assert.ok(wasmRecords >= 2000 && wasmRecords < 5002, String(wasmRecords));
  // CRLF terminators, a lone CR, invalid UTF-8 and a last line without a terminator.
  sameEveryWay(
    Buffer.concat([
      Buffer.from('{"label":"a"}\r\n{"label":"b"}\r\n'),
      Buffer.from('{"label":"c"}\r{"label":"d"}\n'),
      Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d, 0x0a]),
      Buffer.from('{"label":"e"}\r'),
    ]),
  );
  sameEveryWay(Buffer.from('{"label":"a"}\r\n{"label":"b"}'));
  // A CR out of place sends its own line to JS, not the chunk: the other lines stay the module's.
  const crs = [
    '{"label":"a"}\r\n',
    '{"label":"b\r"}\n',
    '{"label":"c"}\n',
    '{"label":\r"d"}\r\n',
    '{"label":"e"}\r\r\n',
    '\r\n',
    '{"label":"f"}\r',
  ].join('');
  const byModule = sameEveryWay(Buffer.from(crs), 1 << 20);
  assert.equal(byModule.figures.lines, 7);
  assert.deepEqual(byModule.figures.labels, { a: 1, c: 1 });
  assert.equal(byModule.wasmRecords, 2);
});

test('a line longer than the largest WebAssembly chunk: the JS scanner counts the rest of the range, and the module memory stays small', () => {
  const long = JSON.stringify({ label: 'long', text: 'z'.repeat(WASM_MAX_CHUNK + 1000) });
  const content = Buffer.from(`{"label":"a"}\n{"label":"b"}\n${long}\n{"label":"c"}\n`);
  const { figures, wasmRecords } = sameEveryWay(content, 1 << 20);
  assert.deepEqual(figures.labels, { a: 1, b: 1, long: 1, c: 1 });
  assert.equal(wasmRecords, 2);
  assert.ok(statsWasm()!.x.memory.buffer.byteLength < 2 * WASM_MAX_CHUNK);
});

test('without the WebAssembly scanner (turned off) the JS scanner counts, with the same figures', () => {
  const path = `${root}/samples/reviews.jsonl`;
  const withWasm = countFile(path, true);
  setStatsWasm(false);
  try {
    assert.equal(statsWasm(), undefined);
    const without = countFile(path, true);
    assert.equal(withWasm.wasmRecords, 36);
    assert.equal(without.wasmRecords, 0);
    assert.deepEqual({ ...without, wasmRecords: 36 }, withWasm);
  } finally {
    setStatsWasm(true);
  }
  assert.ok(statsWasm());
});

test('the worker threads and the calling thread count with the WebAssembly scanner', async () => {
  endIdleWorkers();
  const lines: string[] = [];
  for (let i = 0; i < 20000; i++)
    lines.push(JSON.stringify({ i, label: ['pos', 'neg'][i % 2], judge: { score: i % 5 }, text: 'é"'.repeat(i % 30) }));
  const path = fileWith(`${lines.join('\n')}\n`);
  const fields = FieldMap.parse({});
  const ds = await JsonlDataset.open(path, { deferScan: true });
  try {
    for (const opts of [{ workers: 2 }, { workers: 1, inThread: true }]) {
      const diagnostics: { workersUsed?: number; wasmRecords?: number } = {};
      const s = await computeStats(ds, fields, { ...opts, pieceBytes: 64 * 1024, diagnostics });
      assert.equal(s.records, 20000);
      assert.equal(diagnostics.workersUsed, opts.workers);
      assert.equal(diagnostics.wasmRecords, 20000, JSON.stringify(opts));
    }
  } finally {
    ds.close();
    endIdleWorkers();
  }
});

test('DC_STATS_WASM=0 turns the WebAssembly scanner off in the workers too: the JS scanner counts, the same figures', async () => {
  endIdleWorkers();
  const lines: string[] = [];
  for (let i = 0; i < 5000; i++)
    lines.push(JSON.stringify({ i, label: ['a', 'b', 'c'][i % 3], judge: { score: i % 9 } }));
  const path = fileWith(`${lines.join('\n')}\n`);
  const fields = FieldMap.parse({});
  const ds = await JsonlDataset.open(path, { deferScan: true });
  try {
    const on: { wasmRecords?: number } = {};
    const want = await computeStats(ds, fields, { workers: 2, pieceBytes: 32 * 1024, diagnostics: on });
    endIdleWorkers();
    process.env.DC_STATS_WASM = '0';
    const off: { wasmRecords?: number; workersUsed?: number } = {};
    const got = await computeStats(ds, fields, { workers: 2, pieceBytes: 32 * 1024, diagnostics: off });
    assert.equal(on.wasmRecords, 5000);
    assert.equal(off.workersUsed, 2);
    assert.equal(off.wasmRecords, 0);
    assert.deepEqual(got, want);
  } finally {
    delete process.env.DC_STATS_WASM;
    ds.close();
    endIdleWorkers();
  }
});

test('curate stats on the sample (the stats operation) gives the full parse figures', async () => {
  const path = `${root}/samples/reviews.jsonl`;
  const ds = await JsonlDataset.open(path, { deferScan: true });
  let got;
  try {
    got = await computeStats(ds, FieldMap.parse({}), { inThread: true });
  } finally {
    ds.close();
  }
  const fd = openSync(path, 'r');
  try {
    const full = finishStats(
      path,
      statsOfRange(fd, 0, statSync(path).size, 1, defaults, 100, 1 << 26, undefined, 1 << 20, false),
    );
    assert.deepEqual(got, full);
  } finally {
    closeSync(fd);
  }
});
