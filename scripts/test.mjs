// `npm test`: every test, from a clean clone. Phases: typecheck, lint (typescript-eslint and prettier,
// `npm run lint`), build, unit (node's test runner),
// integration (mocha inside a real VS Code's extension host), e2e (Playwright acting as a person
// in the real workbench). `npm test -- unit e2e` runs only the named phases.
// Ends with one line "total: N passed, N failed".
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { build, ensureDependencies, root } from './bootstrap.mjs';

const all = ['typecheck', 'lint', 'build', 'unit', 'integration', 'e2e'];
const asked = process.argv.slice(2).filter((a) => all.includes(a));
const phases = asked.length ? asked : all;
const totals = { passed: 0, failed: 0 };
const failedPhases = [];

// Every temporary folder of the run (the tests', code-server's and Chromium's, this script's) is
// made under one folder, through TMPDIR, which the run removes at its end: a run leaves nothing in
// the machine's temporary folder (before: some 80 folders and 90 MB a run, which piled up on a
// machine that runs the tests again and again). Kept, and named, when a phase failed.
const runTmp = mkdtempSync(join(tmpdir(), 'dc-test-'));
process.env.TMPDIR = runTmp;

function files(dir, suffix) {
  const out = [];
  const walk = (d) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name.endsWith(suffix)) out.push(relative(root, p));
    }
  };
  walk(join(root, dir));
  return out.sort();
}

function exec(cmd, args, env = {}) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  return r.status ?? 1;
}

/** Runs test files under node's test runner; counts come from a TAP copy of the results. */
function nodeTests(phase, list, extra = [], env = {}) {
  if (list.length === 0) {
    console.log(`# ${phase}: no test files`);
    failedPhases.push(phase);
    return;
  }
  const tap = join(mkdtempSync(join(tmpdir(), 'dc-tap-')), `${phase}.tap`);
  const code = exec(
    process.execPath,
    [
      '--import',
      'tsx',
      '--test',
      ...extra,
      '--test-reporter=spec',
      '--test-reporter-destination=stdout',
      '--test-reporter=tap',
      `--test-reporter-destination=${tap}`,
      ...list,
    ],
    env,
  );
  const text = readFileSync(tap, 'utf8');
  const count = (k) => Number(new RegExp(`^# ${k} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
  const passed = count('pass');
  const failed = count('fail') + count('cancelled');
  totals.passed += passed;
  totals.failed += failed;
  console.log(`# ${phase}: ${passed} passed, ${failed} failed`);
  if (code !== 0 || failed > 0 || passed === 0) failedPhases.push(phase);
}

ensureDependencies();
for (const phase of phases) {
  console.log(`\n# ---- ${phase} ----`);
  if (phase === 'typecheck') {
    const tsc = join(root, 'node_modules/typescript/bin/tsc');
    if (exec(process.execPath, [tsc, '-p', 'tsconfig.json', '--noEmit']) !== 0) failedPhases.push('typecheck (node)');
    if (exec(process.execPath, [tsc, '-p', 'webview/tsconfig.json', '--noEmit']) !== 0)
      failedPhases.push('typecheck (webview)');
  } else if (phase === 'lint') {
    if (exec('npm', ['run', '--silent', 'lint']) !== 0) failedPhases.push(phase);
  } else if (phase === 'build') {
    build();
  } else if (phase === 'unit') {
    // The per-user folders (the LLM response cache and its secret) of a fresh user, not the machine's.
    const home = mkdtempSync(join(tmpdir(), 'dc-user-'));
    nodeTests('unit', files('test/unit', '.test.ts'), [], {
      XDG_CACHE_HOME: join(home, 'cache'),
      XDG_CONFIG_HOME: join(home, 'config'),
    });
  } else if (phase === 'integration') {
    const code = spawnSync(process.execPath, ['--import', 'tsx', 'test/harness/integration.ts'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
      encoding: 'utf8',
    });
    process.stdout.write(code.stdout ?? '');
    const m = /: (\d+) passed, (\d+) failed$/m.exec(code.stdout ?? '');
    if (m) {
      totals.passed += Number(m[1]);
      totals.failed += Number(m[2]);
    }
    if (code.status !== 0 || !m) failedPhases.push('integration');
  } else if (phase === 'e2e') {
    // Against what users install: the .vsix, built by `npm run package` and installed into the
    // harness's VS Code with --install-extension (the integration phase covers the development
    // folder). DC_E2E_TARGET=dev runs the e2e tests against the development folder instead.
    const target = process.env.DC_E2E_TARGET ?? 'vsix';
    const env = { DC_E2E_TARGET: target };
    if (target === 'vsix') {
      const vsix = join(mkdtempSync(join(tmpdir(), 'dc-vsix-')), 'dataset-curator.vsix');
      if (exec(process.execPath, [join(root, 'scripts/package.mjs'), '--out', vsix]) !== 0) {
        failedPhases.push('e2e (package)');
        continue;
      }
      env.DC_VSIX = vsix;
    }
    console.log(`# e2e against ${target === 'vsix' ? `the installed ${env.DC_VSIX}` : 'the development folder'}`);
    nodeTests('e2e', files('test/e2e', '.e2e.ts'), ['--test-concurrency=1'], env);
  }
}

console.log('');
if (failedPhases.length) {
  console.log(`# failed phases: ${failedPhases.join(', ')}`);
  console.log(`# the run's temporary files, kept: ${runTmp}`);
} else {
  try {
    rmSync(runTmp, { recursive: true, force: true, maxRetries: 3 });
  } catch (err) {
    console.log(`# the run's temporary folder ${runTmp} could not be removed: ${err.message}`);
  }
}
// A phase that failed without a failing test (typecheck, build, no tests) still counts as a failure.
console.log(`total: ${totals.passed} passed, ${Math.max(totals.failed, failedPhases.length ? 1 : 0)} failed`);
process.exit(failedPhases.length ? 1 : 0);
