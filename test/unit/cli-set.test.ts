// `curate set` and `curate get` (issue 19: single-record CLI work independent of file size). What
// each loads at start: its bundle (dist/cli-set.js, dist/cli-get.js; scripts/build.mjs) holds the
// line scan (and for set the line edit and the atomic replace), not the store's index, the
// annotation schema or zod: loading those cost about 55 ms of CPU per run, as much again as
// Node's own start.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { build } from 'esbuild';
import { join } from 'node:path';
import { root } from './helpers/store';

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

// `curate stats` (bench/stats.ts counts its start against DuckDB): the store's file reader and the
// stats scanners, not zod, the annotation schema, the formats' readers or the operation registry.
test("curate stats's bundle holds the scanners and nothing of zod, the annotation schema or the store's index", async () => {
  const { inputs, bytes } = await bundled('src/cli/commands/stats.ts');
  for (const needs of ['src/core/store/stats-core.ts', 'src/core/store/stats-wasm.ts', 'src/core/store/dataset.ts'])
    assert.ok(inputs.includes(needs), `${needs} is in it`);
  const heavyForStats = (p: string) =>
    p.includes('node_modules/') ||
    (p.startsWith('src/core/schema/') && p !== 'src/core/schema/field-names.ts') ||
    p === 'src/core/formats/index.ts' ||
    p === 'src/core/store/index.ts' ||
    p === 'src/core/store/stats-operation.ts' ||
    p === 'src/core/registry.ts';
  assert.deepEqual(inputs.filter(heavyForStats), []);
  assert.ok(bytes < 200_000, `the bundle is ${bytes} bytes`);
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
