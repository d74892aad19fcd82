// `curate set` and `curate get` (issue 19: single-record CLI work independent of file size). What
// each loads at start: its bundle (dist/cli-set.js, dist/cli-get.js; scripts/build.mjs) holds the
// line scan (and for set the line edit and the atomic replace), not the store's index, the
// annotation schema or zod: loading those cost about 55 ms of CPU per run, as much again as
// Node's own start.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { build } from 'esbuild';
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { curate, fileWith, root } from './helpers/store';

/** The modules with bytes in the bundle of `entry` (imports tree-shaken to nothing do not count), and its size. */
async function bundled(entry: string): Promise<{ inputs: string[]; bytes: number }> {
  const r = await build({
    entryPoints: [join(root, entry)],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    write: false,
    metafile: true,
    outfile: join(root, 'out/cli-probe.js'),
    logLevel: 'silent',
    absWorkingDir: root,
  });
  const inputs = Object.entries(Object.values(r.metafile.outputs)[0]!.inputs)
    .filter(([, v]) => v.bytesInOutput > 0)
    .map(([p]) => p);
  return { inputs, bytes: r.outputFiles[0]!.contents.length };
}

/** What a single-record command must not load. */
const heavy = (p: string) =>
  p.includes('node_modules/') ||
  p.startsWith('src/core/schema/') ||
  p === 'src/core/formats/index.ts' ||
  p === 'src/core/store/index.ts' ||
  /^src\/core\/store\/(stats|pieces|worker-file|remap)/.test(p);

for (const [name, needs] of [
  ['set', 'src/core/store/line-edit.ts'],
  ['get', 'src/core/store/scan.ts'],
] as const) {
  test(`curate ${name}'s bundle holds what it runs and nothing of zod, the formats' readers or the store's index`, async () => {
    const { inputs, bytes } = await bundled(`src/cli/commands/${name}.ts`);
    assert.ok(inputs.includes(needs), `${needs} is in it`);
    assert.deepEqual(inputs.filter(heavy), []);
    assert.ok(bytes < 100_000, `the bundle is ${bytes} bytes`);
  });
}

// `curate stats` (bench/stats.ts counts its start against DuckDB): the stats scanners over the file
// as it is on disk, not zod, the annotation schema, the formats' readers, the operation registry
// or the store's dataset (its index, edits and saves).
test("curate stats's bundle holds the scanners and nothing of zod, the annotation schema or the store's dataset", async () => {
  const { inputs, bytes } = await bundled('src/cli/commands/stats.ts');
  for (const needs of ['src/core/store/stats-core.ts', 'src/core/store/stats-wasm.ts', 'src/core/store/stats.ts'])
    assert.ok(inputs.includes(needs), `${needs} is in it`);
  const heavyForStats = (p: string) =>
    p.includes('node_modules/') ||
    (p.startsWith('src/core/schema/') && p !== 'src/core/schema/field-names.ts') ||
    p === 'src/core/formats/index.ts' ||
    p === 'src/core/store/index.ts' ||
    p === 'src/core/store/stats-operation.ts' ||
    p === 'src/core/registry.ts' ||
    // the dataset (index, edits, saves): stats of a file on disk open none (statsOfPath)
    /^src\/core\/store\/(dataset|lock|replace|pieces|save-copy)\.ts$/.test(p);
  assert.deepEqual(inputs.filter(heavyForStats), []);
  assert.ok(bytes < 100_000, `the bundle is ${bytes} bytes`);
});

test('the zod-free default field names are the ones FieldMap gives, and the flags give what FieldMap.parse gives', async () => {
  const { FieldMap, defaultFields } = await import('../../src/core/schema/annotation');
  const { DEFAULT_FIELD_NAMES, fieldNamesOf } = await import('../../src/core/schema/field-names');
  assert.deepEqual({ ...DEFAULT_FIELD_NAMES }, defaultFields);
  const given = { label: 'final_label', judge: 'verdict', annotations: 'meta' };
  assert.deepEqual(fieldNamesOf(given), FieldMap.parse(given));
  assert.equal(fieldNamesOf({ label: '' }), undefined);
  assert.equal(FieldMap.safeParse({ label: '' }).success, false);
});

// The store's worker: every open and every stats count starts one, so its bundle's load is part of
// both (with the live aggregates' zod and filters it was 500 KB and took 22-30 ms to load; they have
// their own worker now, aggregate-worker.ts).
test("the store's scan and stats worker holds no zod, no filters and no accumulators", async () => {
  const { inputs, bytes } = await bundled('src/core/store/scan-worker.ts');
  for (const needs of ['src/core/store/scan.ts', 'src/core/store/stats-core.ts'])
    assert.ok(inputs.includes(needs), needs);
  assert.deepEqual(
    inputs.filter(
      (p) => p.includes('node_modules/') || p.startsWith('src/core/metrics/') || p.startsWith('src/core/filter/'),
    ),
    [],
  );
  assert.ok(bytes < 100_000, `the bundle is ${bytes} bytes`);
  const agg = await bundled('src/core/store/aggregate-worker.ts');
  assert.ok(agg.inputs.includes('src/core/metrics/accumulators.ts'), 'the aggregates have their worker');
});

/** Pids of the processes (other than this one) with a descriptor open on the deleted file whose inode is `ino`. */
function holdersOf(ino: number): number[] {
  const out: number[] = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    if (Number(pid) === process.pid) continue;
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // gone, or not ours to read
    }
    for (const fd of fds) {
      try {
        if (statSync(`/proc/${pid}/fd/${fd}`).ino === ino) out.push(Number(pid));
      } catch {
        // closed meanwhile
      }
    }
  }
  return out;
}

async function until(what: string, ok: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) assert.fail(`${what}: not after ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A file of two records, and its inode (the version a set replaces). */
function twoRecords(): { f: string; old: number } {
  const f = fileWith('{"label":"a"}\n{"label":"b"}\n');
  return { f, old: statSync(f).ino };
}

// The replaced version's release (the kernel drops its cached pages and frees its blocks, about
// 0.2 s a GB) happens after `curate set` has returned: a detached `sh` holds it until the command
// exits. What a user sees: the new file at once, and the old one's space back right after.
test(
  'curate set: the replaced version is held by a helper while the command runs, and let go when it exits',
  { skip: process.platform !== 'linux' && '/proc is Linux only' },
  async () => {
    const { f, old } = twoRecords();
    // The store's function as the CLI calls it, in a process that stays 1.5 s after the edit.
    const script = [
      `const { setFieldsOfLine } = require(${JSON.stringify(join(root, 'src/core/store/line-edit.ts'))});`,
      `setFieldsOfLine(${JSON.stringify(f)}, 2, [{ path: ['label'], value: 'c' }], { releaseAfterExit: true })`,
      `  .then(() => { process.stdout.write('saved\\n'); setTimeout(() => undefined, 1500); });`,
    ].join('\n');
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let said = '';
    child.stdout.on('data', (d: Buffer) => (said += d.toString('utf8')));
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    await until('the edit is saved', () => said.includes('saved'));
    assert.equal(readFileSync(f, 'utf8'), '{"label":"a"}\n{"label":"c"}\n');
    assert.notEqual(statSync(f).ino, old, 'the file was replaced, not written in place');
    const holders = holdersOf(old);
    assert.equal(holders.length, 1, `one process holds the old version: ${holders.join(', ')}`);
    assert.notEqual(holders[0], child.pid, 'and it is not the command itself');
    assert.equal(await exited, 0);
    await until('the old version is let go', () => holdersOf(old).length === 0);
  },
);

test(
  'curate set through the CLI: nothing holds the replaced version once it has returned',
  { skip: process.platform !== 'linux' && '/proc is Linux only' },
  async () => {
    const { f, old } = twoRecords();
    const r = curate(['set', f, '--line', '1', '--field', 'label', '--value', '"z"']);
    assert.equal(r.code, 0, r.err);
    assert.equal(readFileSync(f, 'utf8'), '{"label":"z"}\n{"label":"b"}\n');
    await until('the old version is let go', () => holdersOf(old).length === 0);
  },
);
