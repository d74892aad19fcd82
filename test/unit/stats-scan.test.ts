// The byte scanners of dataset statistics (the JS one, src/core/store/stats-scan.ts, and the
// WebAssembly one, wasm/stats-scan.ts, through statsOfRange) give the same figures as the full parse (JSON.parse of every line) on any file: random records in the annotation layout,
// written in every way JSON allows (whitespace, escapes in keys and values, unicode, duplicate keys,
// the same names nested elsewhere), and hostile lines (truncated, control characters, bad escapes,
// bad numbers, deep nesting, BOMs, CRs, invalid UTF-8). And it is the path that counts clean
// records: on the sample, every line is read by the scanner, none falls back.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { closeSync, openSync, readFileSync, statSync } from 'node:fs';
import fc from 'fast-check';
import { statsOfRange, type StatsFields } from '../../src/core/store/stats-core';
import { StatsScanner } from '../../src/core/store/stats-scan';
import { fileWith, root } from './helpers/store';

const defaults: StatsFields = { label: 'label', judge: 'judge', annotations: 'annotations', question: 'label' };

/**
 * The figures of `content` counted every way: the WebAssembly scanner (`scan`), the JS scanner
 * (`js`) and the full parse (`full`), without the count of records the WebAssembly scanner took.
 */
function bothWays(content: Buffer, f: StatsFields): { scan: unknown; js: unknown; full: unknown } {
  const path = fileWith(content);
  const fd = openSync(path, 'r');
  try {
    const size = statSync(path).size;
    // A small chunk size also sends lines across chunk boundaries.
    const count = (mode: boolean | 'js') => {
      const { wasmRecords: _, ...s } = statsOfRange(fd, 0, size, 1, f, 1000, 1 << 20, undefined, 4096, mode);
      return { ...s, labels: { ...s.labels }, histogram: { ...s.histogram } };
    };
    return { scan: count(true), js: count('js'), full: count(false) };
  } finally {
    closeSync(fd);
  }
}

// --- values, with the names stats looks for turning up in the wrong places too -----------------

const names = [
  'label',
  'judge',
  'annotations',
  'score',
  'scale',
  'review',
  'status',
  'human',
  'suggestions',
  'origin',
  'type',
  'lbl',
  'q',
];
const key = fc.oneof(
  fc.constantFrom(...names),
  fc.string({ maxLength: 6 }),
  fc.string({ unit: 'binary', maxLength: 4 }),
);
const scalar = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.string({ unit: 'binary', maxLength: 6 }),
  fc.constantFrom('', 'pending', 'model', 'reviewed', 'positive', 'négatif', '😀', 'a"b', 'a\\b', '\u0000', '\u2028'),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(0, -0, 1, 10, 0.5, 1e21, 1e-7, 2 ** 53 + 1),
  fc.boolean(),
  fc.constant(null),
);
const { value } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    scalar,
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(key, tie('value'), { maxKeys: 4, noNullPrototype: true }),
  ),
}));
const scale = fc.oneof(
  fc.constant([1, 10]),
  fc.constant([0, 1]),
  fc.constant([0, '1']),
  fc.constant([1]),
  fc.array(scalar, { maxLength: 3 }),
  value,
);
const judge = fc.oneof(
  value,
  fc.record({ score: fc.oneof(scalar, value), scale, reasons: scalar, extra: value }, { requiredKeys: [] }),
);
const byQuestion = (v: fc.Arbitrary<unknown>) =>
  fc.oneof(value, fc.record({ label: v, q: v, other: value }, { requiredKeys: [] }));
const annotations = fc.oneof(
  value,
  fc.record(
    {
      review: fc.oneof(value, fc.record({ status: scalar, note: value }, { requiredKeys: [] })),
      human: byQuestion(fc.oneof(value, fc.record({ value: scalar }))),
      suggestions: byQuestion(fc.oneof(value, fc.array(value, { maxLength: 2 }))),
      origin: fc.oneof(value, fc.record({ type: scalar })),
      label: value,
    },
    { requiredKeys: [] },
  ),
);
const record = fc.record(
  { label: scalar, lbl: scalar, judge, annotations, text: scalar, nested: value },
  { requiredKeys: [] },
);

/** One way of writing an object's members as JSON text (keys escaped or not, spaces, duplicates). */
const writer = fc.record({
  space: fc.constantFrom('', ' ', '\t', ' \t '),
  escapeKeys: fc.boolean(),
  escapeAll: fc.boolean(),
  duplicate: fc.boolean(),
});
type Writer = { space: string; escapeKeys: boolean; escapeAll: boolean; duplicate: boolean };

function write(v: unknown, w: Writer, depth = 0): string {
  const sp = w.space;
  const str = (s: string) =>
    w.escapeAll
      ? JSON.stringify(s).replace(/[^\x20-\x7e]|[a-z]/g, (c) =>
          c === '"' || c === '\\' ? c : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
        )
      : JSON.stringify(s);
  if (Array.isArray(v)) return `[${sp}${v.map((x) => write(x, w, depth + 1)).join(`${sp},${sp}`)}${sp}]`;
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v);
    // A duplicate: an earlier member with the same key and another value (JSON.parse keeps the last).
    if (w.duplicate && entries.length > 0)
      entries.unshift([entries[entries.length - 1]![0], depth % 2 ? 'dup' : { score: 3, status: 'x', type: 'model' }]);
    return `{${sp}${entries.map(([k, x]) => `${w.escapeKeys ? str(k) : JSON.stringify(k)}${sp}:${sp}${write(x, w, depth + 1)}`).join(`${sp},${sp}`)}${sp}}`;
  }
  if (typeof v === 'string') return str(v);
  const json = JSON.stringify(v) as string | undefined; // undefined for undefined, a function, a symbol
  return json ?? 'null';
}

/** A line broken the ways files are: cut short, a byte inserted or replaced, a bad token. */
const damage = fc.oneof(
  fc.constant((t: string) => t),
  fc.constant((t: string) => t),
  fc.constant((t: string) => t),
  fc.nat().map((n) => (t: string) => t.slice(0, n % (t.length + 1))),
  fc
    .tuple(
      fc.nat(),
      fc.constantFrom(
        '\u0001',
        '\u001f',
        '\t',
        '"',
        '\\',
        ',',
        '}',
        ']',
        '{',
        ' ',
        '\\x',
        '\\u12',
        '01',
        '1.',
        '-',
        'tru',
        'é',
      ),
    )
    .map(([n, s]) => (t: string) => {
      const at = n % (t.length + 1);
      return t.slice(0, at) + s + t.slice(at);
    }),
  fc.constantFrom(
    () => '[1,2]',
    () => '"just a string"',
    () => '{"label":"a"} {}',
    () => '{"label":"a",}',
    () => '{"label":01}',
    () => '{"judge":{"score":1e400}}',
    () => '{"judge":{"score":-0,"scale":[0,1]}}',
    () => '{"label":"\\ud800"}',
    () => '{"label":"a\u0000b"}',
    () => `${'{"a":'.repeat(70)}1${'}'.repeat(70)}`,
    () => `${'['.repeat(600)}${']'.repeat(600)}`,
    () => `{"a":${'['.repeat(600)}${']'.repeat(600)}}`,
    () => '   ',
    () => '',
  ),
);

const line = fc.tuple(record, writer, damage).map(([r, w, d]) => d(write(r, w)));
/** Bytes that are not a clean line: a BOM, a lone CR, invalid UTF-8, a CRLF terminator. */
const raw = fc.oneof(
  line.map((l) => Buffer.from(`${l}\n`)),
  line.map((l) => Buffer.from(`${l}\n`)),
  line.map((l) => Buffer.from(`${l}\n`)),
  line.map((l) => Buffer.from(`${l}\r\n`)),
  line.map((l) => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`${l}\n`)])),
  line.map((l) => Buffer.from(`${l}\r${l}\n`)),
  line.map((l) =>
    Buffer.concat([Buffer.from(l.slice(0, 5)), Buffer.from([0xc3, 0x28]), Buffer.from(`${l.slice(5)}\n`)]),
  ),
);

const fieldMaps = fc.constantFrom<StatsFields>(
  defaults,
  { label: 'lbl', judge: 'judge', annotations: 'annotations', question: 'q' },
  { label: 'label', judge: 'nested', annotations: 'judge', question: 'label' },
  { label: 'score', judge: 'annotations', annotations: 'annotations', question: 'status' },
  { label: 'text', judge: 'nested', annotations: 'annotations', question: 'q' },
);

test('the scanner and the full parse count the same, on random and hostile lines', () => {
  fc.assert(
    fc.property(fc.array(raw, { minLength: 1, maxLength: 40 }), fieldMaps, fc.boolean(), (lines, f, finalNewline) => {
      let content = Buffer.concat(lines);
      if (!finalNewline && content[content.length - 1] === 10) content = content.subarray(0, content.length - 1);
      const { scan, js, full } = bothWays(content, f);
      assert.deepEqual(scan, full);
      assert.deepEqual(js, full);
    }),
    { numRuns: Number(process.env.DC_PROPERTY_RUNS ?? 400) },
  );
});

test('field names that objects inherit ("__proto__", "constructor") are counted by the full parse, the same', () => {
  const content = Buffer.from(
    '{"__proto__":{"score":1},"constructor":"x","label":"a","annotations":{"human":{}}}\n{"label":"b"}\n',
  );
  for (const f of [
    { label: 'constructor', judge: '__proto__', annotations: 'annotations', question: 'label' },
    { label: 'label', judge: 'judge', annotations: 'annotations', question: '__proto__' },
  ]) {
    assert.equal(new StatsScanner(f).usable, false);
    const { scan, js, full } = bothWays(content, f);
    assert.deepEqual(scan, full);
    assert.deepEqual(js, full);
  }
});

test('on the sample every record is read by the scanner (none falls back) with the full parse figures', () => {
  const path = `${root}/samples/reviews.jsonl`;
  const buf = readFileSync(path);
  const scanner = new StatsScanner(defaults);
  let lines = 0;
  for (let s = 0; s < buf.length;) {
    let e = buf.indexOf(10, s);
    if (e === -1) e = buf.length;
    assert.ok(scanner.scan(buf, s, e), `line ${lines + 1} falls back`);
    lines++;
    s = e + 1;
  }
  assert.equal(lines, 36);
  const { scan, js, full } = bothWays(buf, defaults);
  assert.deepEqual(scan, full);
  assert.deepEqual(js, full);
  assert.equal((scan as { records: number }).records, 36);
});

test('escapes, unicode, duplicate keys and look-alike nested keys, line by line', () => {
  const cases: [string, Partial<Record<string, unknown>>][] = [
    ['{"label":"caf\\u00e9"}', { labels: { café: 1 } }],
    ['{"label":"\\ud83d\\ude00"}', { labels: { '😀': 1 } }],
    ['{"label":"a","label":"b"}', { labels: { b: 1 } }],
    ['{"label":"a","label":null}', { annotated: 0 }],
    ['{"judge":{"score":3},"judge":{"scale":[0,1]}}', { scored: 0 }],
    ['{"judge":{"score":0.75,"scale":[0,1]}}', { histogram: { '0.7': 1 } }],
    ['{"judge":{"score":7,"scale":[1,10],"scale":"x"}}', { histogram: { '7': 1 } }],
    ['{"x":{"label":"nested"},"label":"top"}', { labels: { top: 1 } }],
    ['{"annotations":{"review":{"status":"pend\\u0069ng"}}}', { reviewed: 0 }],
    ['{"annotations":{"review":{"status":"done"},"review":{"status":"pending"}}}', { reviewed: 0 }],
    ['{"annotations":{"origin":{"type":"mod\\u0065l"}}}', { generated: 1 }],
    ['{"annotations":{"suggestions":{"label":[ ]}}}', { suggested: 0 }],
    ['{"annotations":{"suggestions":{"label":[{}]},"human":{"label":{}}}}', { suggested: 1, humanLabeled: 1 }],
    ['{"lab\\u0065l":"escaped key"}', { labels: { 'escaped key': 1 } }],
    ['{"label":true,"judge":{"score":-0}}', { labels: { true: 1 }, histogram: { '0': 1 } }],
    ['{"label":1.50}', { labels: { '1.5': 1 } }],
  ];
  for (const [text, want] of cases) {
    const { scan, js, full } = bothWays(Buffer.from(`${text}\n`), defaults);
    assert.deepEqual(scan, full, text);
    assert.deepEqual(js, full, text);
    for (const [k, v] of Object.entries(want))
      assert.deepEqual((scan as Record<string, unknown>)[k], v, `${text}: ${k}`);
  }
});

test('a stop byte or an escape at every offset of the eight-byte string steps: the scanner accepts exactly what JSON.parse accepts', () => {
  // The scanner skips strings eight bytes a step and takes a step's first flagged byte as the
  // stop: each insert lands at every offset of a step, in a value it reads (the label) and in one
  // it only checks.
  const inserts: Buffer[] = [
    ...[0x00, 0x01, 0x09, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x5b, 0x5c, 0x5d, 0x7f].map((c) => Buffer.from([c])),
    Buffer.from('é😀'),
    Buffer.from([0xe2, 0x80, 0xa8]),
    ...[
      '\\"',
      '\\\\',
      '\\/',
      '\\n',
      '\\t',
      '\\u0041',
      '\\u00e9',
      '\\ud83d\\ude00',
      '\\x',
      '\\u00g1',
      '\\u12',
      '\\ ',
    ].map((e) => Buffer.from(e)),
  ];
  const scanner = new StatsScanner(defaults);
  const lines: Buffer[] = [];
  for (const ins of inserts)
    for (let len = 0; len <= 20; len++)
      for (let at = 0; at <= len; at++) {
        const s = Buffer.concat([Buffer.from('a'.repeat(at)), ins, Buffer.from('b'.repeat(len - at))]);
        for (const line of [
          Buffer.concat([Buffer.from('{"label":"'), s, Buffer.from('","judge":{"score":2}}')]),
          Buffer.concat([Buffer.from('{"x":"'), s, Buffer.from('","label":"ok"}')]),
          Buffer.concat([Buffer.from('{"'), s, Buffer.from('":1,"label":"k"}')]),
        ]) {
          let parses: boolean;
          try {
            const v: unknown = JSON.parse(line.toString('utf8'));
            parses = v !== null && typeof v === 'object' && !Array.isArray(v);
          } catch {
            parses = false;
          }
          // Escaped keys at the top level make the scanner give up on purpose (the full parse decodes them).
          const escapedKey = line[1] === 0x22 && line[2] !== 0x78 && line[2] !== 0x6c && ins[0] === 0x5c;
          const ok = scanner.scan(line, 0, line.length);
          assert.equal(ok, parses && !escapedKey, JSON.stringify(line.toString('latin1')));
          lines.push(line);
        }
      }
  const { scan, js, full } = bothWays(Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')])), defaults);
  assert.deepEqual(scan, full);
  assert.deepEqual(js, full);
});
