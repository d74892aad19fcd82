// Runs the mocha integration suite inside the extension host of a real VS Code (code-server build)
// and reports its results, read from the file the suite writes. Fails when no test ran.
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  cleanup,
  codeServerVersion,
  launchBrowser,
  makeWorkspace,
  openWorkbench,
  repoRoot,
  startCodeServer,
} from './vscode';

interface Results {
  vscodeVersion: string;
  passed: number;
  failed: number;
  done?: boolean;
  crashed?: string;
  tests: { title: string; state: string; error?: string; durationMs?: number; startedAt?: number; endedAt?: number }[];
  /** When a test failed or the suite crashed: the extension's "Dataset Curator" log around it. */
  extensionLog?: string;
  /** Errors from the extension's code that reached the extension host's log (see hostErrorsOf). */
  hostErrors?: string[];
}

/** The log files of code-server's log folder (under its user data) whose paths match `re`. */
function logFiles(userDataDir: string, re: RegExp): string[] {
  const logs = join(userDataDir, 'logs');
  if (!existsSync(logs)) return [];
  return (readdirSync(logs, { recursive: true }) as string[]).filter((f) => re.test(f)).map((f) => join(logs, f));
}

/** A log line's time ("2026-12-07 03:57:37.603", local time), or undefined for a continued line. */
function logTime(line: string): number | undefined {
  const m = /^(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d)\.(\d{3}) /.exec(line);
  return m ? new Date(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!, +m[7]!).getTime() : undefined;
}

/**
 * The extension's output channels' log lines (files under the server's user data) written while a
 * failed test ran, or the last lines when the suite crashed: what the extension did and said.
 */
function extensionLogOf(userDataDir: string, r: Results): string {
  const files = logFiles(userDataDir, /dataset-curator[/\\][^/\\]*\.log$/);
  const windows = r.tests
    .filter((t) => t.state === 'failed' && t.startedAt !== undefined)
    .map((t) => ({ title: t.title, from: (t.startedAt ?? 0) - 1000, to: (t.endedAt ?? Date.now()) + 1000 }));
  const out: string[] = [];
  for (const f of files) {
    const lines = readFileSync(f, 'utf8').trimEnd().split('\n');
    if (!windows.length) out.push(`# ${f}, its last lines`, ...lines.slice(-60));
    for (const w of windows) {
      let t: number | undefined;
      const picked = lines.filter((l) => {
        t = logTime(l) ?? t;
        return t !== undefined && t >= w.from && t <= w.to;
      });
      if (picked.length) out.push(`# ${f}, while "${w.title}" ran`, ...picked.slice(-200));
    }
  }
  return out.join('\n');
}

/**
 * Errors the extension host logged with the extension's own code in their stack (an exception or
 * rejection nobody handled): printed after the results, so that one no test asserts on is seen.
 */
function hostErrorsOf(userDataDir: string): string[] {
  const found: string[] = [];
  for (const f of logFiles(userDataDir, /exthost\.log$/)) {
    const blocks = readFileSync(f, 'utf8').split(/\n(?=\d{4}-\d\d-\d\d )/);
    for (const b of blocks)
      if (/ \[error\] /.test(b.split('\n')[0] ?? '') && /[/\\]dist[/\\]extension\.js/.test(b)) found.push(b.trimEnd());
  }
  return found;
}

export async function runIntegration(): Promise<Results> {
  const resultsDir = mkdtempSync(join(tmpdir(), 'dc-results-'));
  const resultsFile = join(resultsDir, 'integration.json');
  const workspace = makeWorkspace('samples');
  const server = await startCodeServer({ env: { DC_TEST_RESULTS: resultsFile }, target: 'dev' });
  const browser = await launchBrowser();
  try {
    const url = server.url({ folder: workspace, extensionTestsPath: join(repoRoot, 'out/test/integration/index.js') });
    await openWorkbench(browser, url);
    // The suite writes the file when it starts and again when it ends.
    const startBy = Date.now() + 120_000;
    const deadline = Date.now() + 10 * 60_000;
    while (Date.now() < deadline) {
      if (existsSync(resultsFile)) {
        try {
          const r = JSON.parse(readFileSync(resultsFile, 'utf8')) as Results;
          if (r.done) {
            if (r.failed > 0 || r.crashed) r.extensionLog = extensionLogOf(server.userDataDir, r);
            r.hostErrors = hostErrorsOf(server.userDataDir);
            return r;
          }
        } catch {
          /* being written */
        }
      } else if (Date.now() > startBy) {
        throw new Error(`the integration suite did not start within 2 minutes; code-server log: ${server.logFile}`);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`the integration suite did not finish in 10 minutes; code-server log: ${server.logFile}`);
  } finally {
    await browser.close();
    await server.stop();
    cleanup(workspace);
  }
}

async function main(): Promise<void> {
  console.log(`# integration: VS Code ${codeServerVersion()} (code-server build), extension host`);
  const r = await runIntegration();
  for (const t of r.tests) {
    const mark = t.state === 'passed' ? 'ok' : t.state === 'failed' ? 'FAIL' : 'skip';
    console.log(`  ${mark} ${t.title}${t.durationMs !== undefined ? ` (${t.durationMs} ms)` : ''}`);
    if (t.error) console.log(t.error.replace(/^/gm, '      '));
  }
  console.log(`# integration ran inside VS Code ${r.vscodeVersion}: ${r.passed} passed, ${r.failed} failed`);
  if (r.crashed) console.log(`# the suite crashed: ${r.crashed}`);
  if (r.extensionLog) console.log(`# the extension's log, to read with the failure:\n${r.extensionLog}`);
  console.log(`# errors from the extension's code in the extension host's log: ${r.hostErrors?.length ?? 0}`);
  for (const e of r.hostErrors ?? []) console.log(e.replace(/^/gm, '    '));
  const pending = r.tests.filter((t) => t.state === 'pending').length;
  if (r.passed + r.failed === 0) {
    console.log('# no integration test ran');
    process.exitCode = 1;
  } else if (r.failed > 0 || pending > 0 || r.crashed) process.exitCode = 1;
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
