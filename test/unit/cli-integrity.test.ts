// The smaller integrity cases of issue 14 (point 10), through the real `curate` against the
// loopback server: a binary file and a folder are refused (exit 2, as everywhere), an empty file
// leaves no journal folder, the request count includes retries, `--json` still prints on a fatal
// 401, and journals and caches never show in `git status`.
import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { JsonlDataset } from '../../src/core/store';
import { readJsonl, useLoopbackServer } from './helpers/llm';
import { curateAsync, tempDir } from './helpers/store';

const loopback = useLoopbackServer('dc-cli-integrity-');
const home = tempDir('dc-home-');

function curate(args: string[], env: Record<string, string> = {}) {
  return curateAsync(args, {
    cwd: loopback.dir(),
    env: {
      XDG_CACHE_HOME: join(home, 'cache'),
      XDG_CONFIG_HOME: join(home, 'config'),
      OPENAI_API_KEY: 'sk-integrity-test',
      OPENAI_BASE_URL: '',
      CURATE_MODEL: '',
      ...env,
    },
  });
}

const llm = () => ['--labels', 'positive,negative', '--base-url', loopback.server().baseURL, '--model', 'm', '--yes'];
const records = (n: number) =>
  Array.from({ length: n }, (_, i) => JSON.stringify({ text: `record ${i}` })).join('\n') + '\n';

describe('curate: integrity at the edges', () => {
  test('annotate on a binary file: exit 2, a clear message, nothing written, no request', async () => {
    const dir = loopback.dir();
    const bin = Buffer.concat([
      Buffer.from('\x7fELF\x02\x01\x01\x00\x00\x00'),
      Buffer.alloc(200, 0),
      Buffer.from('\n{"text":"x"}\n'),
    ]);
    writeFileSync(join(dir, 'program.jsonl'), bin);
    const r = await curate(['annotate', 'program.jsonl', ...llm(), '--in-place']);
    assert.equal(r.code, 2, r.err);
    assert.match(r.err, /program\.jsonl is a binary file \(a NUL byte at byte 8\), not JSONL text/);
    assert.ok(readFileSync(join(dir, 'program.jsonl')).equals(bin));
    assert.deepEqual(readdirSync(dir), ['program.jsonl']);
    assert.equal(loopback.server().counts.chat, 0);
  });

  test('a folder: exit 2 from annotate as from every other command', async () => {
    mkdirSync(join(loopback.dir(), 'data.jsonl'));
    const runs = await Promise.all([
      curate(['annotate', 'data.jsonl', ...llm(), '--in-place']),
      curate(['stats', 'data.jsonl']),
      curate(['set', 'data.jsonl', '--line', '1', '--field', 'label', '--value', '"x"']),
      curate(['filter', 'data.jsonl', '--out', 'kept.jsonl']),
    ]);
    for (const r of runs) {
      assert.equal(r.code, 2, r.err);
      assert.match(r.err, /data\.jsonl is a folder, not a dataset file/);
    }
  });

  test('an empty file: exit 0, no journal folder left', async () => {
    writeFileSync(join(loopback.dir(), 'empty.jsonl'), '');
    const r = await curate(['annotate', 'empty.jsonl', ...llm(), '--in-place']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /0 ok, 0 failed/);
    assert.deepEqual(readdirSync(loopback.dir()), ['empty.jsonl']);
  });

  test('the summary counts every request sent, retries included', async () => {
    const server = loopback.server();
    writeFileSync(join(loopback.dir(), 'd.jsonl'), records(3));
    server.addFault({ kind: 'status', status: 500 }, { times: 2 });
    const r = await curate([
      'annotate',
      'd.jsonl',
      ...llm(),
      '--out',
      'o.jsonl',
      '--no-cache',
      '--concurrency',
      '1',
      '--json',
    ]);
    assert.equal(r.code, 0, r.err);
    const s = JSON.parse(r.out) as { requests: number; ok: number };
    assert.equal(s.ok, 3);
    assert.equal(server.counts.chat, 5, 'the server saw 3 answers and 2 failures');
    assert.equal(s.requests, 5);
  });

  test('--json on a fatal 401: the error as JSON on stdout, exit 1', async () => {
    const server = loopback.server();
    server.requireKey = 'sk-the-right-one';
    writeFileSync(join(loopback.dir(), 'd.jsonl'), records(2));
    const r = await curate(['annotate', 'd.jsonl', ...llm(), '--out', 'o.jsonl', '--no-cache', '--json']);
    assert.equal(r.code, 1, r.err);
    const j = JSON.parse(r.out) as { error: { message: string; exitCode: number; kind?: string; status?: number } };
    assert.equal(j.error.exitCode, 1);
    assert.equal(j.error.kind, 'fatal');
    assert.equal(j.error.status, 401);
    assert.match(j.error.message, /HTTP 401/);
    assert.ok(!r.out.includes('sk-integrity-test'));
    // A usage error with --json too.
    const u = await curate(['annotate', 'd.jsonl', '--labels', 'one', '--json']);
    assert.equal(u.code, 2);
    assert.equal((JSON.parse(u.out) as { error: { exitCode: number } }).error.exitCode, 2);
  });

  test('annotate --in-place on a symlinked dataset (as DVC and git-annex keep them): the target gets the labels, the link stays a link', async () => {
    const dir = loopback.dir();
    mkdirSync(join(dir, 'store'));
    writeFileSync(join(dir, 'store', 'data.jsonl'), records(3));
    symlinkSync('store/data.jsonl', join(dir, 'd.jsonl'));
    const r = await curate(['annotate', 'd.jsonl', ...llm(), '--in-place']);
    assert.equal(r.code, 0, r.err);
    assert.ok(lstatSync(join(dir, 'd.jsonl')).isSymbolicLink());
    const recs = readJsonl(join(dir, 'store', 'data.jsonl'));
    assert.equal(recs.length, 3);
    for (const rec of recs) assert.ok(JSON.stringify(rec).includes('"m"'), 'annotated through the link');
    assert.deepEqual(readdirSync(join(dir, 'store')), ['data.jsonl']);
  });

  test("the editor's save during a CLI job on the same file: the person's edit is never lost (the job's save then conflicts, exit 3)", async () => {
    const server = loopback.server();
    server.latencyMs = 40;
    const dir = loopback.dir();
    const file = join(dir, 'd.jsonl');
    writeFileSync(file, records(40));
    const job = curate(['annotate', 'd.jsonl', ...llm(), '--in-place', '--no-cache', '--concurrency', '2']);
    while (server.counts.chat < 5) await new Promise((r) => setTimeout(r, 20));
    // What the curation editor does on Ctrl+S (DatasetDocument.save is JsonlDataset.save).
    const editor = await JsonlDataset.open(file);
    await editor.ready;
    editor.setField(39, ['label'], 'set-by-a-person');
    await editor.save();
    editor.close();
    const r = await job;
    const recs = readJsonl(file);
    assert.equal(recs[39]!.label, 'set-by-a-person', "the person's saved edit is in the file");
    if (r.code === 0)
      assert.ok(
        recs.every((x) => JSON.stringify(x).includes('"m"')),
        'a job that exits 0 has its results in the file',
      );
    else {
      assert.equal(r.code, 3, r.err);
      assert.match(r.err, /changed on disk since it was opened/);
    }
  });

  test('journals and caches never show in git status (a workspace cache and a job that failed keep their folders)', async () => {
    const dir = loopback.dir();
    const git = (...a: string[]) =>
      spawnSync('git', ['-c', 'user.email=t@t', '-c', 'user.name=t', ...a], { cwd: dir, encoding: 'utf8' });
    writeFileSync(join(dir, 'd.jsonl'), records(4));
    assert.equal(git('init', '-q').status, 0);
    git('add', 'd.jsonl');
    assert.equal(git('commit', '-qm', 'data').status, 0);
    // One record fails (the journal stays for a re-run), the cache is the workspace's.
    loopback.server().addFault({ kind: 'status', status: 400 }, { times: 1 });
    const r = await curate([
      'annotate',
      'd.jsonl',
      ...llm(),
      '--in-place',
      '--cache-dir',
      '.curator/cache/llm',
      '--concurrency',
      '1',
    ]);
    assert.equal(r.code, 1, r.err);
    assert.ok(existsSync(join(dir, 'd.jsonl.curator-journal')));
    assert.ok(existsSync(join(dir, '.curator', 'cache', 'llm')));
    assert.equal(git('status', '--porcelain', '--untracked-files=all').stdout, ' M d.jsonl\n');
  });
});
