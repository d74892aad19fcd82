// The entry point of the integration suite, loaded by VS Code's extension host. Both runners use it:
// `@vscode/test-electron` (desktop VS Code, `npm run test:electron`) and the offline code-server
// harness (`npm test`). VS Code calls `run()`; the host exits when it settles. Since the host's exit
// code is not visible from outside under code-server, the results are also written to a JSON file
// (DC_TEST_RESULTS, else <repo>/.test-results/integration.json) that the harness reads.
import Mocha from 'mocha';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

interface TestResult {
  title: string;
  state: 'passed' | 'failed' | 'pending';
  durationMs?: number;
  error?: string;
  /** A failed test's start and end (ms since the epoch): the harness prints the extension's log between them. */
  startedAt?: number;
  endedAt?: number;
}

export async function run(): Promise<void> {
  const resultsFile =
    process.env.DC_TEST_RESULTS ?? join(resolve(__dirname, '..', '..', '..'), '.test-results', 'integration.json');
  const mocha = new Mocha({ ui: 'bdd', timeout: 60_000, color: false, reporter: 'spec' });
  if (process.env.DC_TEST_GREP) mocha.grep(process.env.DC_TEST_GREP);
  // The suites are bundled into this file: expose mocha's globals, then load them.
  mocha.suite.emit('pre-require', globalThis, 'bundle', mocha);
  await import('./datasets.test');
  await import('./editor.test');
  await import('./editing.test');
  await import('./assessment.test');
  await import('./preferences.test');
  await import('./text-features.test');
  await import('./walkthrough.test');
  await import('./hostile.test');
  await import('./save-failures.test');
  await import('./jobs.test');
  await import('./endpoint.test');
  await import('./interop.test');
  await import('./git.test');
  await import('./questions.test');
  await import('./batch.test');
  await import('./cascade.test');
  await import('./confidence.test');

  const results: TestResult[] = [];
  let vscodeVersion = 'unknown';
  try {
    vscodeVersion = (await import('vscode')).version;
  } catch {
    /* not in VS Code */
  }
  const write = (extra: Record<string, unknown>) => {
    mkdirSync(dirname(resultsFile), { recursive: true });
    const passed = results.filter((r) => r.state === 'passed').length;
    const failed = results.filter((r) => r.state === 'failed').length;
    writeFileSync(resultsFile, JSON.stringify({ vscodeVersion, passed, failed, tests: results, ...extra }, null, 2));
  };

  write({ done: false }); // tells the harness the suite started
  await new Promise<void>((res, rej) => {
    try {
      const runner = mocha.run((failures) => {
        write({ done: true });
        if (failures > 0) rej(new Error(`${failures} integration test(s) failed`));
        else res();
      });
      let startedAt = Date.now();
      runner.on('test', () => (startedAt = Date.now()));
      runner.on('pass', (t) => results.push({ title: t.fullTitle(), state: 'passed', durationMs: t.duration }));
      runner.on('fail', (t, err: Error) =>
        results.push({
          title: t.fullTitle(),
          state: 'failed',
          error: err.stack ?? err.message,
          startedAt,
          endedAt: Date.now(),
        }),
      );
      runner.on('pending', (t) => results.push({ title: t.fullTitle(), state: 'pending' }));
    } catch (err) {
      write({ done: true, crashed: String(err) });
      rej(err instanceof Error ? err : new Error(String(err)));
    }
  });
}
