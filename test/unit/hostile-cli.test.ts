// The hostile-input corpus through the real `curate` CLI (bundled by esbuild as `npm run build`
// does, then run as a process): stats, validate, get, set, filter and export on every case give a
// clear message and the right exit code, never a stack trace or a crash, never a raw control
// character on the terminal, and `set` on the anchor leaves every other byte of the file intact.
import { before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ANCHOR, hostileCorpus, withAnchorEdited } from '../support/hostile-corpus';
import { bundle } from './helpers/bundle';
import { fileWith, tempDir } from './helpers/store';

let cli = '';
before(async () => {
  cli = join(await bundle({ cli: 'src/cli/main.ts' }), 'cli.js');
});

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  out: string;
  err: string;
}

function curate(args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, [cli, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_OPTIONS: '' },
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    p.stdout.on('data', (d: Buffer) => out.push(d));
    p.stderr.on('data', (d: Buffer) => err.push(d));
    p.on('error', reject);
    p.on('close', (code, signal) => {
      const stdout = Buffer.concat(out);
      resolve({ code, signal, stdout, out: stdout.toString('utf8'), err: Buffer.concat(err).toString('utf8') });
    });
  });
}

// What a person must never see: a stack trace, a Node internal error, a raw control character.
const stackTrace = /^\s+at .+(:\d+:\d+\)?|\(native\))$|node:internal|Uncaught|FATAL ERROR/m;
// (control characters but tab and newline, and the bidi overrides)
const rawControl = /(?![\t\n])[\p{Cc}\u202a-\u202e\u2066-\u2069]/u;

function clean(r: Run, what: string, codes: number[]): void {
  assert.equal(r.signal, null, `${what}: killed by ${r.signal}`);
  assert.ok(codes.includes(r.code ?? -1), `${what}: exit ${r.code}, expected ${codes.join(' or ')}\n${r.err}`);
  assert.doesNotMatch(r.err, stackTrace, `${what}: no stack trace`);
  assert.doesNotMatch(r.err, rawControl, `${what}: stderr has no raw control characters`);
}

const corpus = hostileCorpus();

describe('hostile corpus through the curate CLI', () => {
  for (const c of corpus) {
    test(`${c.name}: stats, validate, get, set, filter, export`, async () => {
      const dir = tempDir('dc-hostile-cli-');
      const file = fileWith(c.bytes, 'data.jsonl', dir);
      const invalid = c.lines.map((l, i) => (l.invalid ? i + 1 : 0)).filter(Boolean);
      const lossy = c.lines.map((l, i) => (!l.invalid && l.lossy ? i + 1 : 0)).filter(Boolean);
      const valid = c.lines.length - invalid.length;
      const copy = (name: string) => {
        const p = join(dir, name);
        copyFileSync(file, p);
        return p;
      };
      const setAnchor = copy('set-anchor.jsonl');
      const setInvalid = copy('set-invalid.jsonl');
      const setLossy = copy('set-lossy.jsonl');
      const [stats, statsJson, validate, get, getInvalid, set, setBad, setLossyRun, filter, exp] = await Promise.all([
        curate(['stats', file]),
        curate(['stats', file, '--json']),
        curate(['validate', file, '--max-listed', '100000']),
        c.anchor !== undefined
          ? curate(['get', file, '--line', String(c.anchor + 1)])
          : curate(['get', file, '--line', '1']),
        invalid.length ? curate(['get', file, '--line', String(invalid[0])]) : undefined,
        c.anchor !== undefined
          ? curate(['set', setAnchor, '--line', String(c.anchor + 1), '--field', 'anchor', '--value', '1'])
          : undefined,
        invalid.length
          ? curate(['set', setInvalid, '--line', String(invalid[0]), '--field', 'label', '--value', '"x"'])
          : undefined,
        lossy.length
          ? curate(['set', setLossy, '--line', String(lossy[0]), '--field', 'label', '--value', '"x"'])
          : undefined,
        curate(['filter', file, '--where', 'not invalid', '--out', join(dir, 'kept.jsonl')]),
        curate(['export', file, '--format', 'argilla', '--out', join(dir, 'argilla.jsonl'), '--json']),
      ]);

      // stats: exit 0, the counts, every reason printable.
      clean(stats, 'stats', [0]);
      assert.match(stats.out, new RegExp(`lines\\s+${c.lines.length}\\n`));
      assert.match(stats.out, new RegExp(`invalid lines\\s+${invalid.length}\\n`));
      assert.doesNotMatch(stats.out, rawControl, 'stats prints no raw control characters');
      clean(statsJson, 'stats --json', [0]);
      const s = JSON.parse(statsJson.out) as {
        lines: number;
        invalid: number;
        invalidLines: { line: number; reason: string }[];
      };
      assert.equal(s.lines, c.lines.length);
      assert.equal(s.invalid, invalid.length);
      assert.deepEqual(
        s.invalidLines.map((l) => l.line),
        invalid.slice(0, 100),
      );

      // validate: exit 1 with one line per invalid line (its number and reason), else 0.
      clean(validate, 'validate', invalid.length ? [1] : [0]);
      assert.doesNotMatch(validate.out, rawControl, 'validate prints no raw control characters');
      for (const n of invalid.slice(0, 50))
        assert.match(validate.out, new RegExp(`data\\.jsonl:${n}: error: \\S`), `validate lists line ${n}`);
      assert.match(
        validate.out,
        invalid.length || lossy.length
          ? new RegExp(`${c.lines.length} line\\(s\\), ${invalid.length} invalid`)
          : /all valid/,
      );

      // get: the bytes as stored.
      if (c.anchor !== undefined) {
        clean(get, 'get', [0]);
        assert.ok(get.stdout.subarray(0, ANCHOR.length).equals(Buffer.from(ANCHOR)));
      } else {
        clean(get, 'get on an empty file', [2]);
        assert.match(get.err, /line 1 does not exist: .* has 0 line\(s\)/);
      }
      if (getInvalid) {
        clean(getInvalid, 'get of an invalid line', [0]);
        assert.ok(c.bytes.includes(getInvalid.stdout), 'get prints the invalid line exactly as stored');
      }

      // set: the anchor changes and nothing else; an invalid or lossy line is refused (exit 1), untouched.
      if (set) {
        clean(set, 'set on the anchor', [0]);
        assert.ok(readFileSync(setAnchor).equals(withAnchorEdited(c)), 'set changed the anchor and no other byte');
      }
      if (setBad) {
        clean(setBad, 'set on an invalid line', [1]);
        assert.match(setBad.err, /is not a JSON object/);
        assert.ok(readFileSync(setInvalid).equals(c.bytes), 'a refused set writes nothing');
      }
      if (setLossyRun) {
        clean(setLossyRun, 'set on a lossy record', [1]);
        assert.match(setLossyRun.err, /cannot be edited field by field without losing information/);
        assert.ok(readFileSync(setLossy).equals(c.bytes));
      }

      // filter 'not invalid' keeps exactly the valid lines; export skips the invalid ones.
      clean(filter, 'filter', [0]);
      const kept = readFileSync(join(dir, 'kept.jsonl'));
      assert.equal(
        kept.length === 0 ? 0 : kept.toString('utf8').split('\n').filter(Boolean).length,
        valid,
        'filter kept the valid records',
      );
      // every valid record is an Argilla record; with none, export writes nothing and exits 1
      clean(exp, 'export', valid ? [0] : [1]);
      assert.equal(
        (JSON.parse(exp.out) as { invalid: number }).invalid,
        invalid.length,
        'export counted the invalid lines',
      );
    });
  }
});
