// The hostile-input corpus: files a user will one day open, each with what the store must say
// about every line. Run through the store (test/unit/hostile-store.test.ts), the CLI
// (test/unit/hostile-cli.test.ts) and the curation editor in VS Code
// (test/integration/hostile.test.ts). Generated, not committed: some cases are 10 MB.
//
// Every case but the empty file holds one anchor record, {"anchor":0}, that the tests edit
// ("an unrelated edit") before a save; everything else in the file must come back byte for byte.
// The invalid-JSON lines follow JSONTestSuite's n_ (must reject) cases, by their names there
// (github.com/nst/JSONTestSuite, test_parsing/), one case a line, none containing a line feed.
import { mulberry32 } from '../../src/core/filter/dedup';

export interface LineExpect {
  /** The reason the line is invalid, or undefined for a valid record. */
  invalid?: RegExp;
  /** The reason a structured edit of the record would lose information. */
  lossy?: RegExp;
}

export interface HostileCase {
  name: string;
  bytes: Buffer;
  /** What the store says of each line, in order (every line of the file). */
  lines: LineExpect[];
  /** The 0-based line of the anchor record (absent for the empty file). */
  anchor?: number;
}

export const ANCHOR = '{"anchor":0}';
export const ANCHOR_EDITED = '{"anchor":1}';

const ok: LineExpect = {};
const badJson: LineExpect = { invalid: /^invalid JSON: / };

/** JSONTestSuite n_ cases (must be rejected), as single lines. */
export const jsonTestSuiteN: [string, string][] = [
  ['n_array_1_true_without_comma', '[1 true]'],
  ['n_array_extra_comma', '["",]'],
  ['n_array_unclosed', '[""'],
  ['n_array_inner_array_no_comma', '[3[4]]'],
  ['n_array_colon_instead_of_comma', '["": 1]'],
  ['n_object_trailing_comma', '{"id":0,}'],
  ['n_object_single_quote', "{'a':0}"],
  ['n_object_unquoted_key', '{a: "b"}'],
  ['n_object_missing_colon', '{"a" b}'],
  ['n_object_double_colon', '{"x"::"b"}'],
  ['n_object_non_string_key', '{1:1}'],
  ['n_object_bracket_key', '{[: "x"}'],
  ['n_object_emoji', '{\u{1F1E8}\u{1F1ED}}'],
  ['n_object_trailing_comment', '{"a":"b"}/**/'],
  ['n_object_trailing_comment_slash_open', '{"a":"b"}//'],
  ['n_object_with_trailing_garbage', '{"a":"b"}#'],
  ['n_object_several_trailing_commas', '{"id":0,,,,,}'],
  ['n_structure_object_with_comment', '{"a":/*comment*/"b"}'],
  ['n_structure_unclosed_object', '{"asd":"asd"'],
  ['n_structure_open_object_open_string', '{"a'],
  ['n_structure_trailing_#', '{"a":"b"}#{}'],
  ['n_structure_double_array', '[][]'],
  ['n_structure_lone-open-bracket', '['],
  ['n_structure_single_star', '*'],
  ['n_structure_angle_bracket_null', '[<null>]'],
  ['n_structure_ascii-unicode-identifier', 'a\u00e5'],
  ['n_structure_whitespace_U+2060_word_joiner', '[\u2060]'],
  ['n_structure_null-byte-outside-string', '[\u0000]'],
  ['n_string_single_quote', "['single quote']"],
  ['n_string_escape_x', '["\\x00"]'],
  ['n_string_invalid_unicode_escape', '["\\uqqqq"]'],
  ['n_string_incomplete_escape', '["\\"]'],
  ['n_string_unescaped_tab', '["\t"]'],
  ['n_string_unescaped_ctrl_char', '["a\u0000a"]'],
  ['n_string_start_escape_unclosed', '["\\'],
  ['n_number_NaN', '[NaN]'],
  ['n_number_infinity', '[Infinity]'],
  ['n_number_minus_infinity', '[-Infinity]'],
  ['n_number_with_leading_zero', '[012]'],
  ['n_number_hex_1_digit', '[0x1]'],
  ['n_number_+1', '[+1]'],
  ['n_number_0.e1', '[0.e1]'],
  ['n_number_-01', '[-01]'],
  ['n_number_real_without_fractional_part', '[1.]'],
  ['n_incomplete_true', '[tru]'],
  ['n_incomplete_false', '[fals]'],
  ['n_incomplete_null', '[nul]'],
  ['n_single_space', ' '],
  // An ANSI escape sequence where a terminal would run it: the reason must not carry it raw.
  ['terminal escape', '\u001b]0;pwned\u0007\u001b[31mred'],
];

/** Binary garbage with line feeds but no '{', so no line can be a record. */
function garbage(bytes: number, seed: number): Buffer {
  const r = mulberry32(seed); // deterministic: a failing case can be reproduced
  const b = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) {
    let c = Math.floor(r() * 256);
    if (c === 0x7b) c = 0x7c;
    b[i] = r() < 0.02 ? 10 : c;
  }
  return b;
}

const b = (...parts: (string | Buffer | number[])[]) =>
  Buffer.concat(
    parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'utf8') : Buffer.isBuffer(p) ? p : Buffer.from(p))),
  );

/** How many lines the store sees in `buf` (LF-terminated; a last line without LF counts). */
export function countLines(buf: Buffer): number {
  let n = 0;
  for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, i + 1)) n++;
  return buf.length > 0 && buf[buf.length - 1] !== 10 ? n + 1 : n;
}

export const MB10 = 10 * 1024 * 1024;

/** The corpus. `big: false` leaves out the 10 MB and 100k-deep cases (for quick runs). */
export function hostileCorpus(opts: { big?: boolean } = {}): HostileCase[] {
  const big = opts.big ?? true;
  const cases: HostileCase[] = [
    {
      name: 'JSONTestSuite n_ cases',
      bytes: b(`${ANCHOR}\n`, jsonTestSuiteN.map(([, line]) => `${line}\n`).join('')),
      lines: [ok, ...jsonTestSuiteN.map(([name]) => (name === 'n_single_space' ? { invalid: /blank line/ } : badJson))],
      anchor: 0,
    },
    {
      name: 'top-level values that are not objects',
      bytes: b('[1,2]\n"x"\n3\nnull\ntrue\n', `${ANCHOR}\n`),
      lines: [
        { invalid: /an array/ },
        { invalid: /a string/ },
        { invalid: /a number/ },
        { invalid: /null/ },
        { invalid: /a boolean/ },
        ok,
      ],
      anchor: 5,
    },
    {
      name: 'UTF-8 BOM at the start of the file',
      bytes: b([0xef, 0xbb, 0xbf], '{"a":1}\n', `${ANCHOR}\n`),
      lines: [{ invalid: /byte order mark/ }, ok],
      anchor: 1,
    },
    {
      name: 'UTF-16LE with BOM',
      bytes: b(`${ANCHOR}\n`, Buffer.from('\ufeff{"a":1}', 'utf16le'), '\n'),
      lines: [ok, { invalid: /invalid UTF-8 at byte 1 / }],
      anchor: 0,
    },
    {
      name: 'CRLF line endings throughout',
      bytes: b('{"a":1}\r\n', `${ANCHOR}\r\n`, '{"b":2}\r\n'),
      lines: [ok, ok, ok],
      anchor: 1,
    },
    {
      name: 'lone CR (classic Mac endings), CR CR LF',
      bytes: b('{"a":1}\r{"b":2}\r{"c":3}\n', '{"d":4}\r\r\n', `${ANCHOR}\n`),
      lines: [
        { invalid: /lone carriage return \(CR\) at byte 8/ },
        { invalid: /lone carriage return \(CR\) at byte 8/ },
        ok,
      ],
      anchor: 2,
    },
    {
      name: 'invalid UTF-8: stray byte, overlong, surrogate, truncated, 0xFF',
      bytes: b(
        '{"t":"',
        [0x80],
        '"}\n',
        '{"t":"',
        [0xc0, 0xaf],
        '"}\n',
        '{"t":"',
        [0xed, 0xa0, 0x80],
        '"}\n',
        '{"t":"',
        [0xe2, 0x82],
        '"}\n',
        [0xff, 0xfe, 0xfd],
        '\n',
        `${ANCHOR}\n`,
      ),
      lines: [
        { invalid: /invalid UTF-8 at byte 7/ },
        { invalid: /invalid UTF-8 at byte 7/ },
        { invalid: /invalid UTF-8 at byte 7/ },
        { invalid: /invalid UTF-8 at byte 7/ },
        { invalid: /invalid UTF-8 at byte 1 / },
        ok,
      ],
      anchor: 5,
    },
    {
      name: 'NUL bytes',
      bytes: b('{"t":"a\u0000b"}\n', '\u0000\u0000\u0000\u0000\n', `${ANCHOR}\n`, '{"t":"\\u0000"}\n'),
      lines: [badJson, badJson, ok, ok],
      anchor: 2,
    },
    {
      name: 'huge numbers',
      bytes: b(
        `${ANCHOR}\n`,
        '{"n":1e400}\n',
        '{"n":-1e99999}\n',
        '{"n":123456789012345678901234567890}\n',
        `{"n":${'9'.repeat(10_000)}}\n`,
        `{"n":0.${'1'.repeat(400)}}\n`,
        '{"n":-0}\n',
        '{"n":1.0}\n',
      ),
      lines: [
        ok,
        { lossy: /too large for a double/ },
        { lossy: /too large for a double/ },
        { lossy: /beyond 2\^53/ },
        { lossy: /too large for a double/ },
        { lossy: /would be written as 0\.1/ },
        { lossy: /would be written as 0/ },
        { lossy: /1\.0 would be written as 1/ },
      ],
      anchor: 0,
    },
    {
      name: 'duplicate keys',
      bytes: b(
        '{"a":"b","a":"c"}\n',
        '{"a":"b","a":"b"}\n',
        '{"o":{"k":1,"k":2}}\n',
        `${ANCHOR}\n`,
        '{"__proto__":{"polluted":true},"constructor":1}\n',
      ),
      lines: [{ lossy: /duplicate key "a"/ }, { lossy: /duplicate key "a"/ }, { lossy: /duplicate key "k"/ }, ok, ok],
      anchor: 3,
    },
    {
      // Valid records whose label would drive a terminal (clear screen, set title) or flip text.
      name: 'labels with terminal escapes and bidi overrides',
      bytes: b(
        '{"label":"\\u001b[2J\\u001b]0;pwned\\u0007x","judge":{"score":5}}\n',
        '{"label":"\\u202egnp.exe"}\n',
        `${ANCHOR}\n`,
      ),
      lines: [ok, ok, ok],
      anchor: 2,
    },
    { name: 'empty file', bytes: Buffer.alloc(0), lines: [] },
    {
      name: 'only line feeds',
      bytes: b('\n\n\n', `${ANCHOR}\n`),
      lines: [{ invalid: /blank/ }, { invalid: /blank/ }, { invalid: /blank/ }, ok],
      anchor: 3,
    },
    { name: 'no final newline after the anchor', bytes: b('{"a":1}\n', ANCHOR), lines: [ok, ok], anchor: 1 },
    {
      name: 'no final newline after an invalid line',
      bytes: b(`${ANCHOR}\n`, '{"a":'),
      lines: [ok, badJson],
      anchor: 0,
    },
    {
      name: 'binary garbage',
      bytes: b(`${ANCHOR}\n`, garbage(64 * 1024, 42), '\n'),
      lines: [],
      anchor: 0,
    },
    {
      // More line starts per read than one batch of the scan holds (a worker lost them once).
      name: '100,000 short lines',
      bytes: b(`${ANCHOR}\n`, '{}\n'.repeat(100_000)),
      lines: [ok, ...Array.from({ length: 100_000 }, () => ok)],
      anchor: 0,
    },
    {
      name: 'nesting 300 deep (allowed)',
      bytes: b(`{"a":${'['.repeat(299)}${']'.repeat(299)}}\n`, `${ANCHOR}\n`),
      lines: [ok, ok],
      anchor: 1,
    },
  ];
  if (big) {
    cases.push(
      {
        name: 'deep nesting: 100,000 [',
        bytes: b(
          `${ANCHOR}\n`,
          '['.repeat(100_000),
          '\n',
          `{"a":${'['.repeat(100_000)}${']'.repeat(100_000)}}\n`,
          `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}\n`,
        ),
        lines: [
          ok,
          badJson,
          { invalid: /nested more than \d+ levels deep/ },
          { invalid: /nested more than \d+ levels deep/ },
        ],
        anchor: 0,
      },
      {
        name: '10 MB lines',
        bytes: b('{"a":1}\n', `{"text":"${'x'.repeat(MB10)}"}\n`, `${ANCHOR}\n`, 'y'.repeat(MB10), '\n', '{"b":2}\n'),
        lines: [ok, ok, ok, badJson, ok],
        anchor: 2,
      },
    );
  }
  // Garbage: every line is invalid, for one reason or another (no '{', so no record).
  for (const c of cases) {
    if (c.name === 'binary garbage')
      c.lines = [ok, ...Array.from({ length: countLines(c.bytes) - 1 }, () => ({ invalid: /./ }))];
  }
  return cases;
}

/** The file after the anchor edit: the anchor's bytes replaced, every other byte as it was. */
export function withAnchorEdited(c: HostileCase): Buffer {
  const at = c.bytes.indexOf(ANCHOR);
  if (at === -1 || c.bytes.indexOf(ANCHOR, at + 1) !== -1)
    throw new Error(`${c.name}: the anchor must occur exactly once`);
  return Buffer.concat([c.bytes.subarray(0, at), Buffer.from(ANCHOR_EDITED), c.bytes.subarray(at + ANCHOR.length)]);
}
