// `curate` installable on its own (issue 18): `npm run package:cli` packs an npm tarball with the
// `curate` bin (scripts/pack-cli.mjs); it is installed offline into a temporary prefix, as a user
// would install it globally, and run from another folder: --help, --version and a stats of the
// sample. The tarball holds only what runs (no dependencies to fetch: they are bundled).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { root, tempDir } from './helpers/store';

const version = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;

test(
  'the curate tarball installs into a fresh prefix with npm, offline, and runs: --help, --version, stats',
  { timeout: 300_000 },
  () => {
    const out = tempDir('dc-cli-pack-');
    const pack = spawnSync(process.execPath, [join(root, 'scripts/pack-cli.mjs'), '--out', out], {
      cwd: root,
      encoding: 'utf8',
    });
    assert.equal(pack.status, 0, pack.stderr + pack.stdout);
    const tarball = pack.stdout.trim().split('\n').pop() ?? '';
    assert.equal(tarball, join(out, `dataset-curator-cli-${version}.tgz`));
    assert.ok(existsSync(tarball));
    // What is in it: the bundle, its worker, the manifest, a README and the licence; nothing else.
    const listed = pack.stdout
      .trim()
      .split('\n')
      .slice(0, -1)
      .map((l) => l.trim().split(' ')[0])
      .sort();
    assert.deepEqual(listed, [
      'LICENSE',
      'README.md',
      'aggregate-worker.js',
      'cli.js',
      'package.json',
      'parquet.js',
      'scan-worker.js',
      'tokenizer.js',
    ]);

    const prefix = join(out, 'prefix');
    const env = { ...process.env, npm_config_update_notifier: 'false', NODE_OPTIONS: '' };
    const install = spawnSync(
      'npm',
      ['install', '-g', '--prefix', prefix, tarball, '--offline', '--no-audit', '--no-fund'],
      { cwd: out, encoding: 'utf8', env },
    );
    assert.equal(install.status, 0, install.stderr + install.stdout);
    const bin = join(prefix, 'bin', 'curate');
    assert.ok(existsSync(bin), `${bin} after npm install -g`);

    // Run from an unrelated folder, with the prefix's bin on the PATH as a shell would have it.
    const work = tempDir('dc-cli-user-');
    copyFileSync(join(root, 'samples/reviews.jsonl'), join(work, 'reviews.jsonl'));
    const run = (args: string[]) =>
      spawnSync('curate', args, {
        cwd: work,
        encoding: 'utf8',
        env: { ...env, PATH: `${join(prefix, 'bin')}:${process.env.PATH ?? ''}` },
      });
    const help = run(['--help']);
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, new RegExp(`^curate ${version.replace(/\./g, '\\.')}: curate LLM training data`));
    for (const c of ['stats', 'validate', 'annotate', 'judge', 'filter', 'split', 'generate'])
      assert.match(help.stdout, new RegExp(`\\n  ${c} `));
    assert.equal(run(['--version']).stdout, `${version}\n`);
    const stats = run(['stats', 'reviews.jsonl']);
    assert.equal(stats.status, 0, stats.stderr);
    assert.match(stats.stdout, /^reviews\.jsonl\n {2}lines +36\n {2}records +36\n {2}invalid lines +0\n/);
    const json = run(['stats', 'reviews.jsonl', '--json']);
    assert.equal((JSON.parse(json.stdout) as { records: number }).records, 36);
    // The lazily loaded pieces ship beside cli.js: Parquet out and back, and token counts.
    assert.equal(run(['convert', 'reviews.jsonl', '--out', 'reviews.parquet']).status, 0);
    const back = run(['convert', 'reviews.parquet', '--out', 'back.jsonl']);
    assert.equal(back.status, 0, back.stderr);
    assert.equal(run(['stats', 'back.jsonl', '--json']).stdout.includes('"records": 36'), true);
    const tokens = run(['filter', 'reviews.jsonl', '--where', 'tokens(text) >= 1', '--dry-run']);
    assert.equal(tokens.status, 0, tokens.stderr);
    assert.match(tokens.stdout, /keep 36, drop 0/);
  },
);
