// Lint: typescript-eslint's strict, type-aware rules over every TypeScript source (src, webview,
// test, bench). Where a rule is tuned, the comment says why.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  // wasm/: AssemblyScript (its own types: i32, usize, v128), compiled by scripts/build-wasm.ts, not tsc.
  { ignores: ['node_modules/', 'out/', 'dist/', '**/*.mjs', '**/*.js', 'bench/results/', 'wasm/'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Numbers and booleans read naturally in messages; objects and undefined stay errors.
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true, allowBoolean: true }],
      // With noUncheckedIndexedAccess, `a[i]!` after a bounds check is the idiom in the store's hot loops.
      '@typescript-eslint/no-non-null-assertion': 'off',
      // `() => void f()` style is noise in callbacks; a returned void from a statement is still flagged.
      '@typescript-eslint/no-confusing-void-expression': [
        'error',
        { ignoreArrowShorthand: true, ignoreVoidOperator: true },
      ],
      // node:test's test/describe/it and mocha's return promises the runner awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            {
              from: 'package',
              package: 'node:test',
              name: ['test', 'it', 'describe', 'suite', 'before', 'after', 'beforeEach', 'afterEach'],
            },
          ],
        },
      ],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' },
      ],
    },
  },
  {
    // Tests and benchmarks read what the program printed (JSON.parse, the webview's DOM) and assert on
    // it: the assertion is the check, so reading untyped values is allowed there, never in src/.
    // Their callbacks are async for the harness's polling helpers (until, waitFor) even when they do
    // not await.
    files: ['test/**/*.ts', 'bench/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/require-await': 'off',
    },
  },
);
