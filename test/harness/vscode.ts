// The offline VS Code harness: a real VS Code (the code-server build of VS Code 1.139, run on Node
// 24) on 127.0.0.1, driven by Debian's Chromium through playwright-core. Used by the integration
// runner, the e2e tests, the demo and the benchmarks. See ../../CONTRIBUTING.md "Tests".
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { after, before } from 'node:test';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
  createWriteStream,
} from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Frame, type Locator, type Page } from 'playwright-core';

export const repoRoot = resolve(__dirname, '..', '..');

export interface Tools {
  node24: string;
  codeServer: string;
  browser: string;
}

let tools: Tools | undefined;

export function cacheDir(): string {
  return process.env.DC_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'dataset-curator');
}

/** Installs (once, cached outside the repo) and returns the harness's tools. */
export function ensureTools(): Tools {
  if (tools) return tools;
  const out = execFileSync('bash', [join(repoRoot, 'test/harness/setup.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const kv = Object.fromEntries(
    out
      .split('\n')
      .filter((l) => l.includes('='))
      .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
  );
  if (!kv.NODE24 || !kv.CODE_SERVER || !kv.BROWSER) throw new Error(`setup.sh printed no tool paths:\n${out}`);
  tools = { node24: kv.NODE24, codeServer: kv.CODE_SERVER, browser: kv.BROWSER };
  return tools;
}

export function codeServerVersion(): string {
  const t = ensureTools();
  const pkg = JSON.parse(readFileSync(join(t.codeServer, 'lib/vscode/package.json'), 'utf8')) as { version: string };
  return pkg.version;
}

export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => res(port));
    });
  });
}

/** A fresh workspace folder holding a copy of the given files (default: the bundled samples). */
export function makeWorkspace(files: Record<string, string | Buffer> | 'samples' = 'samples'): string {
  const dir = mkdtempSync(join(tmpdir(), 'dc-ws-'));
  if (files === 'samples') cpSync(join(repoRoot, 'samples'), join(dir, 'samples'), { recursive: true });
  else
    for (const [name, content] of Object.entries(files)) {
      mkdirSync(join(dir, name, '..'), { recursive: true });
      writeFileSync(join(dir, name), content);
    }
  return dir;
}

export type ExtensionTarget = 'dev' | 'vsix';

/** Where the e2e tests take the extension from: DC_E2E_TARGET=vsix for the packaged one. */
export function e2eTarget(): ExtensionTarget {
  const t = process.env.DC_E2E_TARGET ?? 'dev';
  if (t !== 'dev' && t !== 'vsix') throw new Error(`DC_E2E_TARGET must be dev or vsix, got ${JSON.stringify(t)}`);
  return t;
}

/** The .vsix the vsix target installs: DC_VSIX, else the one `npm run package` builds. */
export function vsixPath(): string {
  return resolve(process.env.DC_VSIX ?? join(repoRoot, 'dataset-curator.vsix'));
}

export interface CodeServer {
  port: number;
  origin: string;
  logFile: string;
  userDataDir: string;
  extensionsDir: string;
  /** Where the extension comes from: this repo as the extension under development, or the installed .vsix. */
  target: ExtensionTarget;
  /** The folder VS Code loads the extension from (the repo, or its folder in the extensions dir). */
  extensionDir: string;
  /**
   * The workbench URL opening `folder`. The dev target loads this repo as the extension under
   * development (with `extensionTestsPath`, the integration suite); the vsix target opens a plain
   * workbench, with the extension as a user has it, installed.
   */
  url(opts: { folder: string; extensionTestsPath?: string; extensionDevelopmentPath?: string }): string;
  stop(): Promise<void>;
}

export interface StartOptions {
  /** Keep Workspace Trust on (restricted mode tests). Default: trust disabled. */
  workspaceTrust?: boolean;
  env?: NodeJS.ProcessEnv;
  settings?: Record<string, unknown>;
  /** A fixed port (default: a free one). */
  port?: number;
  /** Keep the user data (settings, state) between runs, in the cache: for the demo. */
  persistent?: boolean;
  /** The extension under development (default) or the packaged .vsix; default: e2eTarget(). */
  target?: ExtensionTarget;
}

/** Installs a .vsix into an extensions dir with code-server's --install-extension; returns the extension's folder. */
export function installVsix(vsix: string, extensionsDir: string, userDataDir: string, configFile: string): string {
  if (!existsSync(vsix)) throw new Error(`${vsix} does not exist: run "npm run package" first (or set DC_VSIX)`);
  const t = ensureTools();
  const out = execFileSync(
    t.node24,
    [
      join(t.codeServer, 'out/node/entry.js'),
      '--config',
      configFile,
      '--user-data-dir',
      userDataDir,
      '--extensions-dir',
      extensionsDir,
      '--install-extension',
      vsix,
      '--force',
    ],
    { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  if (!/successfully installed/.test(out)) throw new Error(`installing ${vsix} failed:\n${out}`);
  const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
    publisher: string;
    name: string;
    version: string;
  };
  const dir = join(extensionsDir, `${pkg.publisher}.${pkg.name}-${pkg.version}`);
  if (!existsSync(join(dir, 'package.json')))
    throw new Error(`the extension is not in ${dir} after installing ${vsix}:\n${out}`);
  return dir;
}

export async function startCodeServer(opts: StartOptions = {}): Promise<CodeServer> {
  const t = ensureTools();
  const port = opts.port ?? (await freePort());
  const base = opts.persistent ? join(cacheDir(), 'demo-vscode') : mkdtempSync(join(tmpdir(), 'dc-cs-'));
  const userDataDir = join(base, 'user-data');
  const extensionsDir = join(base, 'extensions');
  mkdirSync(join(userDataDir, 'User'), { recursive: true });
  mkdirSync(extensionsDir, { recursive: true });
  const settingsFile = join(userDataDir, 'User', 'settings.json');
  if (!opts.persistent || !existsSync(settingsFile))
    writeFileSync(
      settingsFile,
      JSON.stringify(
        {
          'workbench.startupEditor': 'none',
          'workbench.tips.enabled': false,
          'workbench.enableExperiments': false,
          'telemetry.telemetryLevel': 'off',
          'extensions.autoCheckUpdates': false,
          'extensions.autoUpdate': false,
          'update.mode': 'none',
          'security.workspace.trust.startupPrompt': 'never',
          'chat.disableAIFeatures': true,
          'window.restoreWindows': 'none',
          'workbench.secondarySideBar.defaultVisibility': 'hidden',
          'chat.commandCenter.enabled': false,
          // VS Code in a browser saves after a delay by default (desktop VS Code does not): a test that
          // keeps edits unsaved for a second under load would find them on disk.
          'files.autoSave': 'off',
          // code-server's extension host is a remote one: every window's host scans /proc every few
          // seconds for listening ports (findCandidatePorts, with `exec`), CPU that the tests and
          // benches would share with what they measure. Desktop VS Code does not run it for a local
          // window. code-server registers a tunnel provider, and VS Code runs the finder then even
          // with auto-forwarding off, unless ports are found from the terminal's output instead
          // (processFindingEnabled in the workbench: autoForwardPorts or a tunnel provider, and a
          // source other than 'output').
          'remote.autoForwardPorts': false,
          'remote.autoForwardPortsSource': 'output',
          ...opts.settings,
        },
        null,
        2,
      ),
    );
  const configFile = join(base, 'config.yaml');
  writeFileSync(configFile, 'auth: none\n');
  const target = opts.target ?? e2eTarget();
  const extensionDir = target === 'vsix' ? installVsix(vsixPath(), extensionsDir, userDataDir, configFile) : repoRoot;
  const logFile = join(base, 'code-server.log');
  const serverTmp = opts.persistent || join(base, 'tmp').length > 48 ? undefined : join(base, 'tmp');
  if (serverTmp) mkdirSync(serverTmp);
  const args = [
    join(t.codeServer, 'out/node/entry.js'),
    '--config',
    configFile,
    '--auth',
    'none',
    '--bind-addr',
    `127.0.0.1:${port}`,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-getting-started-override',
    '--user-data-dir',
    userDataDir,
    '--extensions-dir',
    extensionsDir,
    '--vscode-option',
    'enable-smoke-test-driver',
    ...(opts.workspaceTrust ? [] : ['--disable-workspace-trust']),
  ];
  const log = createWriteStream(logFile);
  const child: ChildProcess = spawn(t.node24, args, {
    env: {
      ...process.env,
      // The extension's per-user folders (the LLM response cache and its secret) of a fresh user, as
      // in the unit phase: never the machine's, where an answer cached by an earlier run (for a
      // server that happened to get the same port) would stand in for a request a test waits for.
      ...(opts.persistent ? {} : { XDG_CACHE_HOME: join(base, 'cache'), XDG_CONFIG_HOME: join(base, 'config') }),
      // Its temporary files (VS Code's IPC and git sockets, the TypeScript server's folder) in its own
      // folder, removed with it; not when that path would make a socket's path too long (108 bytes).
      ...(serverTmp ? { TMPDIR: serverTmp } : {}),
      // No extension gallery for a test's or a bench's server: the workbench queried open-vsx.org's
      // (recommendations for the files a test opens), which no test may reach, and a query that
      // fell inside the XSS test's window was counted as a request leaving the workbench.
      ...(opts.persistent ? {} : { EXTENSIONS_GALLERY: '{}' }),
      ...opts.env,
      NODE_OPTIONS: '',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  let output = '';
  await new Promise<void>((res, rej) => {
    const timer = setTimeout(
      () => rej(new Error(`code-server did not start in 60 s; log: ${logFile}\n${output}`)),
      60_000,
    );
    const onData = (d: Buffer) => {
      output += d.toString();
      if (output.includes('HTTP server listening')) {
        clearTimeout(timer);
        res();
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`code-server exited with ${code}; log: ${logFile}\n${output}`));
    });
  });
  const origin = `http://127.0.0.1:${port}`;
  const remote = (p: string) => `vscode-remote://127.0.0.1:${port}${p}`;
  return {
    port,
    origin,
    logFile,
    userDataDir,
    extensionsDir,
    target,
    extensionDir,
    url({ folder, extensionTestsPath, extensionDevelopmentPath = repoRoot }) {
      if (target === 'vsix') {
        if (extensionTestsPath)
          throw new Error('the integration suite runs against the extension under development (target dev)');
        return `${origin}/?folder=${encodeURIComponent(folder)}`;
      }
      const payload: [string, string][] = [['extensionDevelopmentPath', remote(extensionDevelopmentPath)]];
      if (extensionTestsPath) payload.push(['extensionTestsPath', remote(extensionTestsPath)]);
      return `${origin}/?folder=${encodeURIComponent(folder)}&payload=${encodeURIComponent(JSON.stringify(payload))}`;
    },
    async stop() {
      // Read afresh each time: the child exits on its own schedule, between the awaits below.
      const running = () => child.exitCode === null;
      if (running() && child.pid) {
        const exited = new Promise((r) => child.once('exit', r));
        try {
          process.kill(-child.pid, 'SIGTERM');
        } catch {
          /* already gone */
        }
        await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
        if (running()) {
          try {
            process.kill(-child.pid, 'SIGKILL');
          } catch {
            /* already gone */
          }
        }
      }
      log.end();
    },
  };
}

/** `scrollbars`: show them (headless Chromium hides scrollbars unless told), for tests that drag one. */
export async function launchBrowser(opts: { scrollbars?: boolean } = {}): Promise<Browser> {
  const t = ensureTools();
  return chromium.launch({
    executablePath: t.browser,
    headless: true,
    ...(opts.scrollbars ? { ignoreDefaultArgs: ['--hide-scrollbars'] } : {}),
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
}

/** Opens the workbench and waits until it takes input. */
export async function openWorkbench(browser: Browser, url: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  // The page's `load` can take minutes on a loaded machine; the workbench element is what counts.
  await page.goto(url, { waitUntil: 'domcontentloaded', timeout: 120_000 });
  await page.waitForSelector('.monaco-workbench', { timeout: 120_000 });
  await page.waitForTimeout(1500);
  return { context, page };
}

/**
 * code-server (with `opts`) on `folder`, a browser (`scrollbars`: see launchBrowser) and the
 * workbench open in it; what started is stopped again when a later step fails. `dialogs`: the
 * page's dialogs are dismissed and their messages kept there.
 */
export async function startWorkbench(
  folder: string,
  opts: StartOptions & { scrollbars?: boolean; dialogs?: string[] } = {},
): Promise<{ server: CodeServer; browser: Browser; page: Page }> {
  const { scrollbars, dialogs, ...serverOpts } = opts;
  const server = await startCodeServer(serverOpts);
  let browser: Browser | undefined;
  try {
    browser = await launchBrowser(scrollbars ? { scrollbars } : {});
    const { page } = await openWorkbench(browser, server.url({ folder }));
    if (dialogs)
      page.on('dialog', (d) => {
        dialogs.push(d.message());
        void d.dismiss();
      });
    return { server, browser, page };
  } catch (err) {
    await browser?.close();
    await server.stop();
    throw err;
  }
}

/** Closes the browser, stops code-server and removes the workspace: each one that is there. */
export async function closeWorkbench(w: {
  browser: Browser | undefined;
  server: CodeServer | undefined;
  workspace: string | undefined;
}): Promise<void> {
  await w.browser?.close();
  await w.server?.stop();
  if (w.workspace) cleanup(w.workspace);
}

/**
 * Runs a command from the command palette by its title. Tried up to three times: a key press can
 * land while the palette is still closing, or before the extension's commands are known.
 */
export async function runCommand(page: Page, title: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await page.keyboard.press('F1');
      const input = page.locator('.quick-input-widget input');
      await input.waitFor({ state: 'visible', timeout: 10_000 });
      await input.fill(`>${title}`, { timeout: 10_000 });
      const row = page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
      await row.waitFor({ state: 'visible', timeout: 15_000 });
      await page.keyboard.press('Enter');
      return;
    } catch (err) {
      if (attempt >= 3) throw err;
      await page.keyboard.press('Escape').catch(() => undefined);
    }
  }
}

/** The frame of a webview whose document contains `selector` (webviews nest two iframes deep). */
export async function webviewFrame(page: Page, selector: string, timeoutMs = 30_000): Promise<Frame> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    for (const frame of page.frames()) {
      try {
        if (await frame.$(selector)) return frame;
      } catch {
        /* frame detached or navigating */
      }
    }
    await page.waitForTimeout(200);
  }
  throw new Error(`no webview frame contains ${selector} after ${timeoutMs} ms`);
}

export function cleanup(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** The title of the view container the side bar shows, in lower case ('' when none can be read). */
export async function sideBarTitle(page: Page): Promise<string> {
  return (
    (await page
      .locator('.part.sidebar .composite.title h2')
      .first()
      .textContent()
      .catch(() => '')) ?? ''
  )
    .trim()
    .toLowerCase();
}

/**
 * Right-clicks `target` until its context menu shows: a click can land while the palette is still
 * closing (Escape, and again, as a person would).
 */
export async function openContextMenu(page: Page, target: Locator): Promise<void> {
  await until('the context menu', async () => {
    await target.click({ button: 'right' });
    return page
      .locator('.monaco-menu .action-label')
      .first()
      .waitFor({ state: 'visible', timeout: 3000 })
      .then(
        () => true,
        async () => {
          await page.keyboard.press('Escape');
          return false;
        },
      );
  });
}

/** Shows the Datasets view in the side bar (a click on its activity bar icon, unless it shows). */
export async function showDatasets(page: Page): Promise<void> {
  const title = page.locator('.part.sidebar .composite.title h2').first();
  const showing = async () =>
    ((await title.textContent().catch(() => '')) ?? '').trim().toLowerCase() === 'datasets' &&
    (await title.isVisible().catch(() => false));
  // A loaded machine can take a while to lay out the activity bar of a fresh workbench.
  if (!(await showing()))
    await page.locator('.activitybar [aria-label^="Datasets"]').first().click({ timeout: 90_000 });
  for (let i = 0; i < 50 && !(await showing()); i++) await page.waitForTimeout(100);
}

/**
 * Opens a dataset in the curation editor with a click in the Datasets view, after closing every
 * editor (so the webview found is this file's), and waits for its first record.
 */
export async function openFromDatasets(page: Page, name: string): Promise<Frame> {
  const anyPanel = async () => {
    for (const f of page.frames()) if (await f.$('[data-testid="annotation-panel"]').catch(() => null)) return true;
    return false;
  };
  await runCommand(page, 'View: Close All Editors');
  await until('no webview', async () => !(await anyPanel()));
  await showDatasets(page);
  const item = page.locator('.monaco-list-row', { hasText: name }).first();
  // The first time, the extension activates and lists the workspace: slow on a loaded machine.
  await item.waitFor({ state: 'visible', timeout: 90_000 });
  await item.click();
  const frame = await webviewFrame(page, '[data-testid="annotation-panel"]', 60_000);
  await until('the first record', async () =>
    ((await frame.locator('[data-testid="position"]').textContent()) ?? '').startsWith('Line 1 '),
  );
  return frame;
}

/** Polls `fn` until it returns something (not undefined/false); errors count as "not yet". */
export async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = String(err);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${last}` : ''}`);
}

/**
 * Waits for a notification whose text matches: a toast, or in the notifications center, which is
 * opened when the toast is gone (opening it may fail while a job's editor takes focus: retried).
 */
export async function notification(page: Page, text: RegExp, timeoutMs = 60_000): Promise<void> {
  await until(
    `the notification ${text}`,
    async () => {
      if ((await page.locator('.notifications-toasts, .notifications-center', { hasText: text }).count()) > 0)
        return true;
      await runCommand(page, 'Notifications: Show Notifications').catch(() => undefined);
      return (await page.locator('.notifications-center', { hasText: text }).count()) > 0;
    },
    timeoutMs,
  );
}

/** Every file under `dir` (recursively); none when it does not exist. */
export function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) out.push(...filesUnder(p));
    else if (st.isFile()) out.push(p);
  }
  return out;
}

/** The log files of the "Dataset Curator" output channel, under the server's user data. */
export function outputChannelLogs(server: CodeServer): string[] {
  return filesUnder(join(server.userDataDir, 'logs')).filter((f) =>
    readFileSync(f, 'utf8').includes('Dataset Curator activated'),
  );
}

/**
 * One workbench for the tests of a describe(): a fresh workspace (the samples), code-server with
 * these options, a browser on it; opened before the first test and closed after the last.
 */
export function workbenchSession(opts: StartOptions = {}): {
  readonly page: Page;
  readonly server: CodeServer;
  readonly workspace: string;
} {
  let open: { page: Page; server: CodeServer; workspace: string; close(): Promise<void> } | undefined;
  before(async () => {
    const workspace = makeWorkspace('samples');
    const [server, browser] = await Promise.all([startCodeServer(opts), launchBrowser()]);
    const { page } = await openWorkbench(browser, server.url({ folder: workspace }));
    open = {
      page,
      server,
      workspace,
      close: () =>
        browser
          .close()
          .then(() => server.stop())
          .finally(() => cleanup(workspace)),
    };
  });
  after(() => open?.close());
  const get = () => {
    if (!open) throw new Error('the workbench is not open yet (use it inside a test)');
    return open;
  };
  return {
    get page() {
      return get().page;
    },
    get server() {
      return get().server;
    },
    get workspace() {
      return get().workspace;
    },
  };
}
