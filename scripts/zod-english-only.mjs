// An esbuild plugin for every bundle (scripts/build.mjs, scripts/pack-cli.mjs): zod re-exports every
// locale's error messages (`z.locales`, about 250 KB minified) that this project never uses; English,
// the default, is imported by zod itself. The bundles get English only.
import { join } from 'node:path';

export const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.c?js$/ }, (args) =>
      /[\\/]zod[\\/]/.test(args.importer)
        ? { path: join(args.resolveDir, '../locales'), namespace: 'zod-locales' }
        : undefined,
    );
    b.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({
      contents: "export { default as en } from './en.js';",
      resolveDir: args.path,
      loader: 'js',
    }));
  },
};
