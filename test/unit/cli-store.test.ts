// The real `curate` CLI (src/cli/main.ts under tsx): stdout, stderr, exit codes, files on disk.
import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { curate, curateAsync, fileWith, root, tempDir } from './helpers/store';

const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;
const data = Buffer.concat([
  Buffer.from('{"label":"pos","judge":{"score":8},"annotations":{"review":{"status":"reviewed"}}}\r\n'),
  Buffer.from('not json\n'),
  Buffer.from('{"label":"neg","judge":{"score":3},"messages":[{"content":"hi"}]}\n'),
  Buffer.from([0x7b, 0x22, 0x62, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d, 0x0a]), // {"b":"\xff"}
  Buffer.from('{"label":"pos","id":12345678901234567890}'),
]);

describe('curate', () => {
  test('--help, help CMD, --version; no command is a usage error', () => {
    const h = curate(['--help']);
    assert.equal(h.code, 0);
    for (const c of ['stats', 'validate', 'get', 'set', 'convert']) assert.match(h.out, new RegExp(`\\n  ${c} `));
    assert.match(h.out, /Exit codes/);
    const hc = curate(['help', 'set']);
    assert.equal(hc.code, 0);
    assert.match(hc.out, /Usage: curate set FILE --line N --field PATH --value JSON/);
    assert.equal(curate(['set', '--help']).out, hc.out);
    assert.equal(curate(['--version']).out, `${version}\n`);
    const none = curate([]);
    assert.equal(none.code, 2);
    assert.match(none.err, /Usage: curate COMMAND/);
    const unknown = curate(['frobnicate']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.err, /unknown command "frobnicate"/);
    assert.equal(curate(['help', 'nope']).code, 2);
  });

  // A long report (more than a pipe's 64 KB buffer) through a pipe read more slowly than it is
  // written: all of it arrives before the command exits.
  test('stats --json with 20,000 invalid lines listed: all of it arrives through a slow pipe, exit 0', async () => {
    const lines: string[] = [];
    for (let i = 0; i < 20_000; i++) lines.push(i % 2 ? `{"text":"ok ${i}","label":"a"}` : `{broken line ${i}`);
    const f = fileWith(`${lines.join('\n')}\n`);
    const r = await curateAsync(['stats', f, '--json', '--max-listed', '20000'], { slowReader: true });
    assert.equal(r.code, 0, r.err);
    const s = JSON.parse(r.out) as { invalid: number; invalidLines: { line: number }[]; records: number };
    assert.ok(r.out.length > 1_000_000, `${r.out.length} bytes`);
    assert.equal(s.records, 10_000);
    assert.equal(s.invalid, 10_000);
    assert.equal(s.invalidLines.length, 10_000);
    assert.equal(s.invalidLines.at(-1)!.line, 19_999);
  });

  test('stats --json: stable keys, invalid lines with numbers and reasons', () => {
    const f = fileWith(data);
    const r = curate(['stats', f, '--json']);
    assert.equal(r.code, 0, r.err);
    const s = JSON.parse(r.out) as Record<string, unknown>;
    assert.deepEqual(Object.keys(s), [
      'file',
      'lines',
      'records',
      'invalid',
      'invalidLines',
      'labels',
      'annotated',
      'annotatedShare',
      'reviewed',
      'reviewedShare',
      'humanLabeled',
      'suggested',
      'scored',
      'meanScore',
      'scoreHistogram',
      'generated',
      'generatedShare',
    ]);
    assert.equal(s.lines, 5);
    assert.equal(s.records, 3);
    assert.equal(s.invalid, 2);
    assert.deepEqual(s.invalidLines, [
      { line: 2, reason: 'invalid JSON: Unexpected token \'o\', "not json" is not valid JSON' },
      { line: 4, reason: 'invalid UTF-8 at byte 7 of the line' },
    ]);
    assert.deepEqual(s.labels, { pos: 2, neg: 1 });
    assert.deepEqual(s.scoreHistogram, [
      { bucket: '3', count: 1 },
      { bucket: '8', count: 1 },
    ]);
    assert.equal(s.meanScore, 5.5);
    const text = curate(['stats', f]);
    assert.equal(text.code, 0);
    assert.match(text.out, /records\s+3/);
    assert.match(text.out, /line 2: invalid JSON/);
  });

  test('validate: exit 1 and a list when a line is invalid; 0 and one line when all are valid', () => {
    const bad = curate(['validate', fileWith(data, 'bad.jsonl')]);
    assert.equal(bad.code, 1);
    assert.match(bad.out, /bad\.jsonl:2: error: invalid JSON/);
    assert.match(bad.out, /bad\.jsonl:4: error: invalid UTF-8/);
    assert.match(bad.out, /bad\.jsonl:5: warning: integer 12345678901234567890 is beyond 2\^53/);
    assert.match(bad.out, /5 line\(s\), 2 invalid, 1 warning\(s\)\n$/);
    const good = curate(['validate', fileWith('{"a":1}\n{"b":2}\n', 'good.jsonl')]);
    assert.equal(good.code, 0);
    assert.match(good.out, /^.*good\.jsonl: 2 line\(s\), all valid\n$/);
    const warn = fileWith('{"a":1,"a":2}\n', 'warn.jsonl');
    assert.equal(curate(['validate', warn]).code, 0);
    assert.equal(curate(['validate', warn, '--strict']).code, 1);
    const j = JSON.parse(curate(['validate', warn, '--json']).out) as { valid: boolean; warnings: number };
    assert.equal(j.valid, true);
    assert.equal(j.warnings, 1);
  });

  test('get: the line exactly as stored, raw bytes and its own terminator', () => {
    const f = fileWith(data);
    assert.ok(
      curate(['get', f, '--line', '1']).stdout.equals(
        Buffer.from('{"label":"pos","judge":{"score":8},"annotations":{"review":{"status":"reviewed"}}}\r\n'),
      ),
    );
    assert.ok(
      curate(['get', f, '--line', '4']).stdout.equals(
        data.subarray(data.indexOf('{"b"'), data.indexOf('{"label":"pos","id"')),
      ),
    );
    assert.equal(curate(['get', f, '-l', '5']).out, '{"label":"pos","id":12345678901234567890}');
    const missing = curate(['get', f, '--line', '6']);
    assert.equal(missing.code, 2);
    assert.match(missing.err, /line 6 does not exist: .* has 5 line\(s\)/);
    assert.equal(curate(['get', f, '--line', '0']).code, 2);
    assert.equal(curate(['get', f, '--line', 'x']).code, 2);
    assert.equal(curate(['get', f]).code, 2);
  });

  test('set: one field, atomic save, every other byte unchanged', () => {
    const dir = tempDir();
    const f = fileWith(data, 'd.jsonl', dir);
    const r = curate(['set', f, '--line', '3', '--field', 'messages.0.content', '--value', '"hello"']);
    assert.equal(r.code, 0, r.err);
    const after = readFileSync(f);
    const l3 = data.indexOf('{"label":"neg"');
    const l3end = data.indexOf('\n', l3);
    assert.ok(after.subarray(0, l3).equals(data.subarray(0, l3)));
    assert.equal(
      after.subarray(l3, after.indexOf('\n', l3)).toString(),
      '{"label":"neg","judge":{"score":3},"messages":[{"content":"hello"}]}',
    );
    assert.ok(after.subarray(after.indexOf('\n', l3)).equals(data.subarray(l3end)));
    assert.equal(curate(['set', f, '--line', '1', '--field', 'judge.score', '--value', '9']).code, 0);
    assert.match(readFileSync(f, 'utf8').split('\r\n')[0]!, /"judge":\{"score":9\}/);
    assert.deepEqual(readdirSync(dir), ['d.jsonl']);
  });

  test('set refuses lossy records and invalid lines (exit 1), bad values and paths (exit 2)', () => {
    const f = fileWith(data);
    const lossy = curate(['set', f, '--line', '5', '--field', 'label', '--value', '"neg"']);
    assert.equal(lossy.code, 1);
    assert.match(
      lossy.err,
      /Line 5 cannot be edited field by field without losing information: integer 12345678901234567890/,
    );
    const invalid = curate(['set', f, '--line', '2', '--field', 'label', '--value', '"x"']);
    assert.equal(invalid.code, 1);
    assert.match(invalid.err, /line 2 is not a JSON object/);
    const badValue = curate(['set', f, '--line', '1', '--field', 'label', '--value', 'positive']);
    assert.equal(badValue.code, 2);
    assert.match(badValue.err, /--value must be JSON \(quote strings/);
    assert.equal(curate(['set', f, '--line', '1', '--field', 'a..b', '--value', '1']).code, 2);
    assert.equal(curate(['set', f, '--line', '1', '--value', '1']).code, 2);
    assert.ok(readFileSync(f).equals(data), 'nothing written');
  });

  test('set with a JSON array path sets a key with dots', () => {
    const f = fileWith('{"a.b":1}\n');
    assert.equal(curate(['set', f, '--line', '1', '--field', '["a.b"]', '--value', '2']).code, 0);
    assert.equal(readFileSync(f, 'utf8'), '{"a.b":2}\n');
  });

  test('missing files, folders and unknown options are usage errors (exit 2) with a clear message', () => {
    const m = curate(['stats', '/nonexistent/x.jsonl']);
    assert.equal(m.code, 2);
    assert.match(m.err, /no such file: \/nonexistent\/x\.jsonl/);
    assert.match(curate(['stats', tempDir()]).err, /is a folder/);
    const u = curate(['stats', fileWith('{}\n'), '--bogus']);
    assert.equal(u.code, 2);
    assert.match(u.err, /unknown option --bogus/);
    const csv = curate(['stats', fileWith('a,b\n', 'x.csv')]);
    assert.equal(csv.code, 2);
    assert.match(csv.err, /convert it first/);
  });

  test('convert: CSV and JSON arrays to JSONL; refuses to overwrite without --force', () => {
    const dir = tempDir();
    const csv = fileWith('text,label\n"a, b",pos\n', 'in.csv', dir);
    const out = join(dir, 'out.jsonl');
    const r = curate(['convert', csv, '--out', out]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /1 record\(s\)/);
    assert.equal(readFileSync(out, 'utf8'), '{"text":"a, b","label":"pos"}\n');
    const again = curate(['convert', csv, '--out', out]);
    assert.equal(again.code, 2);
    assert.match(again.err, /exists; pass --force/);
    const json = fileWith('[{"x":1}]', 'in.json', dir);
    assert.equal(curate(['convert', json, '--out', out, '--force']).code, 0);
    assert.equal(readFileSync(out, 'utf8'), '{"x":1}\n');
    const bad = curate(['convert', fileWith('[1,', 'bad.json', dir), '--out', join(dir, 'b.jsonl')]);
    assert.equal(bad.code, 1);
    assert.match(bad.err, /not closed/);
    assert.equal(curate(['convert', fileWith('x', 'a.txt', dir), '--out', join(dir, 'c.jsonl')]).code, 2);
    assert.equal(curate(['convert', json]).code, 2);
  });

  test('a file changed underneath during set: exit 3, their change kept, nothing overwritten', async () => {
    // In-process (main() with captured output), changing the file while the save writes its temp file.
    const { main } = await import('../../src/cli/main');
    const { writeHooks } = await import('../../src/core/store/files');
    const dir = tempDir();
    const f = join(dir, 'race.jsonl');
    writeFileSync(f, '{"a":1}\n'.repeat(10));
    let err = '';
    writeHooks.beforeWrite = () => {
      writeHooks.beforeWrite = undefined;
      writeFileSync(f, '{"theirs":true}\n', { flag: 'a' });
    };
    try {
      const code = await main(['set', f, '--line', '1', '--field', 'a', '--value', '2'], {
        out: () => {},
        err: (t) => (err += t),
        write: () => {},
        isTTY: false,
        signal: new AbortController().signal,
      });
      assert.equal(code, 3);
    } finally {
      writeHooks.beforeWrite = undefined;
    }
    assert.match(err, /race\.jsonl changed on disk since it was opened .*nothing was written/);
    assert.ok(readFileSync(f, 'utf8').endsWith('{"theirs":true}\n'));
    assert.ok(readFileSync(f, 'utf8').startsWith('{"a":1}\n'));
    assert.deepEqual(readdirSync(dir), ['race.jsonl']);
  });
});
