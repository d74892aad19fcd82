// `curate set` (issue 19: single-record CLI work independent of file size). What the command loads
// at start: its bundle (dist/cli-set.js, scripts/build.mjs) holds the line edit and the atomic
// replace, not the store's index, the annotation schema or zod: loading those cost about 55 ms of
// CPU per run, as much again as Node's own start.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { build } from 'esbuild';
import { join } from 'node:path';
import { root } from './helpers/store';

test("curate set's bundle holds the line edit and nothing of zod, the formats' readers or the store's index", async () => {
  const r = await build({
    entryPoints: [join(root, 'src/cli/commands/set.ts')],
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    write: false,
    metafile: true,
    outfile: join(root, 'out/cli-set-probe.js'),
    logLevel: 'silent',
    absWorkingDir: root,
  });
  // The modules with bytes in the bundle (imports tree-shaken to nothing do not count).
  const inputs = Object.entries(Object.values(r.metafile.outputs)[0]!.inputs)
    .filter(([, v]) => v.bytesInOutput > 0)
    .map(([p]) => p);
  assert.ok(inputs.includes('src/core/store/line-edit.ts'), 'the line edit is in it');
  const heavy = inputs.filter(
    (p) =>
      p.includes('node_modules/') ||
      p.startsWith('src/core/schema/') ||
      p === 'src/core/formats/index.ts' ||
      p === 'src/core/store/index.ts' ||
      /^src\/core\/store\/(stats|pieces|worker-file|remap)/.test(p),
  );
  assert.deepEqual(heavy, []);
  const bytes = r.outputFiles[0]!.contents.length;
  assert.ok(bytes < 100_000, `the bundle is ${bytes} bytes`);
});
