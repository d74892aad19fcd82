// The response cache cannot be planted, and the API key never reaches anything stored. Issue 14,
// points 7 and 8, through the real `curate annotate` (a child process, its per-user folders in a
// temp HOME) against the loopback server, which for point 8 echoes the key inside its answers.
import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheKey, cacheSecret, ResponseCache, userCacheRoot, userConfigRoot } from '../../src/core/llm/cache';
import { redactSecret } from '../../src/core/llm/client';
import type { ChatBody } from '../support/openai-server';
import { readJsonl, useLoopbackServer } from './helpers/llm';
import { curateAsync, tempDir } from './helpers/store';

const loopback = useLoopbackServer('dc-cache-auth-');
const KEY = 'sk-echo-Zq8/secret+key=0123456789';

/** The CLI in a child process, with its own HOME and XDG folders (the per-user cache and secret live there). */
function curate(args: string[], home: string, cwd: string) {
  return curateAsync(args, {
    cwd,
    env: {
      HOME: home,
      XDG_CACHE_HOME: join(home, '.cache'),
      XDG_CONFIG_HOME: join(home, '.config'),
      OPENAI_API_KEY: KEY,
      OPENAI_BASE_URL: '',
      CURATE_MODEL: '',
    },
  });
}

function allFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...allFiles(p));
    else out.push(p);
  }
  return out;
}

const records = (n: number) =>
  Array.from({ length: n }, (_, i) =>
    JSON.stringify({ text: `review number ${i}: ${i % 2 ? 'great' : 'awful'} product` }),
  ).join('\n') + '\n';

describe('the response cache', () => {
  test('entries are authenticated: a planted, edited or foreign entry is a miss; the secret is a 0600 file made on first use', () => {
    const dir = tempDir();
    const secretFile = join(dir, 'config', 'cache-secret');
    const mine = cacheSecret(secretFile);
    assert.equal(mine.length, 32);
    assert.equal(statSync(secretFile).mode & 0o777, 0o600);
    assert.ok(cacheSecret(secretFile).equals(mine), 'read back, not made again');
    const key = cacheKey({
      baseURL: 'http://x/v1',
      model: 'm',
      messages: [{ role: 'user', content: 'hi' }],
      params: {},
    });
    const c = new ResponseCache(join(dir, 'cache'), { secret: mine });
    c.put(key, { content: '{"label":"pos"}', usage: { input_tokens: 1, output_tokens: 1 } });
    assert.equal(c.get(key)?.content, '{"label":"pos"}');
    c.close();
    const shard = join(dir, 'cache', `shard-${key[0]}.jsonl`);
    // Another user's secret: a miss.
    const other = new ResponseCache(join(dir, 'cache'), { secret: Buffer.alloc(32, 7) });
    assert.equal(other.get(key), undefined);
    assert.equal(other.rejected, 1);
    other.close();
    // The answer edited in the file, the MAC kept: a miss.
    writeFileSync(shard, readFileSync(shard, 'utf8').replace('pos', 'NEG'));
    const edited = new ResponseCache(join(dir, 'cache'), { secret: mine });
    assert.equal(edited.get(key), undefined);
    edited.close();
    // A planted entry as the old format wrote it (a plain hash as key, no MAC): a miss.
    writeFileSync(
      shard,
      `${JSON.stringify({ k: key, t: new Date().toISOString(), v: { content: '{"label":"planted"}', usage: { input_tokens: 0, output_tokens: 0 } } })}\n`,
    );
    const planted = new ResponseCache(join(dir, 'cache'), { secret: mine });
    assert.equal(planted.get(key), undefined);
    planted.close();
    assert.equal(
      readFileSync(join(dir, 'cache', '.gitignore'), 'utf8')
        .split('\n')
        .includes('*'),
      true,
      'the cache carries a .gitignore',
    );
  });

  test('per-user folders: XDG on Linux, Library on macOS, AppData on Windows', () => {
    assert.equal(userCacheRoot({ XDG_CACHE_HOME: '/x/cache' }, 'linux', '/home/u'), '/x/cache/dataset-curator');
    assert.equal(userCacheRoot({}, 'linux', '/home/u'), '/home/u/.cache/dataset-curator');
    assert.equal(userConfigRoot({}, 'linux', '/home/u'), '/home/u/.config/dataset-curator');
    assert.equal(userCacheRoot({}, 'darwin', '/Users/u'), '/Users/u/Library/Caches/dataset-curator');
    assert.match(
      userCacheRoot({ LOCALAPPDATA: 'C:\\Users\\u\\AppData\\Local' }, 'win32', 'C:\\Users\\u'),
      /dataset-curator/,
    );
  });

  test('curate annotate: the default cache is per user, outside the workspace; answers planted in the workspace cache of a cloned repo are never used', async () => {
    const server = loopback.server();
    const home = tempDir('dc-home-');
    const ws = loopback.dir();
    writeFileSync(join(ws, 'd.jsonl'), records(6));
    const base = [
      'annotate',
      'd.jsonl',
      '--labels',
      'positive,negative',
      '--base-url',
      server.baseURL,
      '--model',
      'm',
      '--yes',
    ];
    // First run with the defaults: nothing of the cache in the workspace.
    const first = await curate([...base, '--out', 'a.jsonl'], home, ws);
    assert.equal(first.code, 0, first.err);
    assert.ok(!existsSync(join(ws, '.curator')), 'no cache in the workspace');
    const userCache = join(home, '.cache', 'dataset-curator', 'llm');
    assert.ok(
      readdirSync(userCache).some((n) => n.startsWith('shard-')),
      'the cache is in the per-user folder',
    );
    assert.equal(statSync(join(home, '.config', 'dataset-curator', 'cache-secret')).mode & 0o777, 0o600);
    // A re-run is served from the user's cache.
    const again = await curate([...base, '--out', 'b.jsonl'], home, ws);
    assert.match(again.out, /6 from cache/);

    // The attack: a repository ships `.curator/cache/llm` with entries rewritten to chosen labels
    // (here the genuine entries of a workspace cache, edited: the keys are right, the answers are not).
    const wsCache = join(ws, '.curator', 'cache', 'llm');
    const seeded = await curate([...base, '--out', 'c.jsonl', '--cache-dir', wsCache], home, ws);
    assert.equal(seeded.code, 0, seeded.err);
    for (const f of readdirSync(wsCache).filter((n) => n.startsWith('shard-'))) {
      const p = join(wsCache, f);
      writeFileSync(
        p,
        readFileSync(p, 'utf8')
          .replace(/\\"label\\":\\"(positive|negative)\\"/g, '\\"label\\":\\"negative\\"')
          .replace(/\\"rationale\\":\\"[^\\\\]*\\"/g, '\\"rationale\\":\\"PLANTED\\"'),
      );
    }
    assert.match(
      readFileSync(
        join(
          wsCache,
          readdirSync(wsCache).find((n) => n.startsWith('shard-'))!,
        ),
        'utf8',
      ),
      /PLANTED/,
    );
    server.reset();
    // Someone else clones it (another HOME: another secret), or the same user runs it again: the planted answers are misses.
    for (const [n, who] of [tempDir('dc-home-'), home].entries()) {
      const victim = await curate([...base, '--out', `victim-${n}.jsonl`, '--cache-dir', wsCache], who, ws);
      assert.equal(victim.code, 0, victim.err);
      assert.match(victim.out, /0 from cache/);
      assert.ok(
        !readFileSync(join(ws, `victim-${n}.jsonl`), 'utf8').includes('PLANTED'),
        'no planted rationale in the output',
      );
    }
    assert.ok(server.counts.chat >= 6, 'the model was asked again');
  });

  test('an endpoint that echoes the API key: the key is in no file (dataset, output, cache, journal), redacted where it was', async () => {
    const server = loopback.server();
    server.respond = (rec) => {
      const reply = server.defaultReply(rec.body as ChatBody);
      if (!('content' in reply)) return reply;
      const v = JSON.parse(reply.content) as Record<string, unknown>;
      for (const k of Object.keys(v))
        if (typeof v[k] === 'string' && k !== 'label')
          v[k] = `${v[k]} (your key is ${server.lastKey}; "${server.lastKey}")`;
      return { content: JSON.stringify(v) };
    };
    const home = tempDir('dc-home-');
    const ws = loopback.dir();
    writeFileSync(join(ws, 'd.jsonl'), records(4));
    const common = ['--labels', 'positive,negative', '--base-url', server.baseURL, '--model', 'm', '--yes'];
    const r1 = await curate(['annotate', 'd.jsonl', ...common, '--in-place'], home, ws);
    assert.equal(r1.code, 0, r1.err);
    const r2 = await curate(['annotate', 'd.jsonl', ...common, '--out', 'o.jsonl', '--no-cache'], home, ws);
    assert.equal(r2.code, 0, r2.err);
    assert.equal(server.lastKey, KEY, 'the server saw the key (and echoed it)');
    const files = [...allFiles(ws), ...allFiles(join(home, '.cache'))];
    for (const f of files) assert.ok(!readFileSync(f).includes(KEY), `the key is in ${f}`);
    assert.ok(
      readJsonl(join(ws, 'd.jsonl')).every((r) => JSON.stringify(r).includes('[redacted]')),
      'redacted where the model echoed it',
    );
    assert.ok(
      allFiles(join(home, '.cache')).some((f) => readFileSync(f, 'utf8').includes('[redacted]')),
      'the cache holds the redacted answer',
    );
  });

  test('redactSecret: plain, and as escaped inside a JSON string', () => {
    assert.equal(redactSecret(`a ${KEY} b`, KEY), 'a [redacted] b');
    assert.equal(redactSecret(JSON.stringify({ x: `k=${KEY}` }), KEY), '{"x":"k=[redacted]"}');
    assert.equal(redactSecret('{"x":"sk-echo-Zq8\\/secret+key=0123456789"}', KEY), '{"x":"[redacted]"}');
    assert.equal(redactSecret('no key here', ''), 'no key here');
  });
});
