// Secrets and Workspace Trust, as a person in the real workbench.
//
// 1. A known fake key, typed into "Set API Key" (SecretStorage), then a full label job against the
//    loopback server (which accepts only that key, and for one record answers with an error that
//    echoes it, as some servers do): afterwards the key is in no file of the workspace (data,
//    .curator caches, journals), in no log of code-server or VS Code (the extension host's, the
//    "Dataset Curator" output channel's), and nowhere in the webview's DOM.
// 2. Workspace Trust on (no --disable-workspace-trust) and the folder untrusted: its
//    .vscode/settings.json points datasetCurator.llm.baseUrl at a second loopback server (and
//    datasetCurator.llm.cacheDir into the repository). A label
//    job sends nothing there (the user-level endpoint gets the requests), and the notification
//    says why.
import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import {
  closeWorkbench,
  filesUnder,
  outputChannelLogs,
  makeWorkspace,
  runCommand,
  showDatasets,
  startWorkbench,
  until,
  webviewFrame,
  type CodeServer,
} from '../harness/vscode';
import { startOpenAIServer, type OpenAITestServer } from '../support/openai-server';

const FAKE_KEY = 'sk-e2e-secret-3f9a1c7d2b6e4058';

/** Label the file from the Datasets view's context menu, accepting the proposed label set. */
async function labelFromTree(page: Page, file: string): Promise<void> {
  await showDatasets(page);
  const item = page.locator('.monaco-list-row', { hasText: file }).first();
  await item.waitFor({ state: 'visible', timeout: 30_000 });
  const input = page.locator('.quick-input-widget input');
  // The context menu, again if a busy workbench dropped the first choice.
  await until(
    "the label job's first question",
    async () => {
      await page.keyboard.press('Escape');
      await item.click({ button: 'right' });
      const entry = page.locator('.monaco-menu .action-menu-item', { hasText: 'Label Records with LLM' }).first();
      await entry.hover();
      await entry.press('Enter');
      await input.waitFor({ state: 'visible', timeout: 15_000 });
      return true;
    },
    90_000,
  );
  await until('the proposed label set', async () => /positive/.test(await input.inputValue()));
  await input.press('Enter');
  // Zero- or few-shot: the first choice (zero-shot on a first run) is taken with Enter.
  const first = page.locator('.quick-input-list .monaco-list-row').first();
  await until('the few-shot question', async () =>
    ((await first.textContent().catch(() => '')) ?? '').startsWith('Zero-shot'),
  );
  await input.press('Enter');
}

/** The notifications' text: the toasts, and the notification center (opened when it is not showing). */
async function notificationText(page: Page): Promise<string> {
  const center = page.locator('.notifications-center');
  if (!(await center.isVisible().catch(() => false))) await runCommand(page, 'Notifications: Show Notifications');
  return (await page.locator('.notifications-toasts, .notifications-center').allTextContents()).join('\n');
}

describe('the API key stays secret', () => {
  let llm: OpenAITestServer | undefined;
  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let workspace: string;
  let userHome: string;

  before(async () => {
    llm = await startOpenAIServer({ requireKey: FAKE_KEY });
    // One record's answer is an error that quotes the key back.
    llm.addFault(
      {
        kind: 'status',
        status: 400,
        body: { error: { message: `Invalid request with key ${FAKE_KEY}`, type: 'invalid_request_error' } },
      },
      { times: Infinity, when: (r) => r.rawBody.includes('Stopped charging') },
    );
    workspace = makeWorkspace('samples');
    // The extension host's per-user folders (the response cache and its secret) in a fresh place, to be searched too.
    userHome = mkdtempSync(join(tmpdir(), 'dc-e2e-user-'));
    ({ server, browser, page } = await startWorkbench(workspace, {
      settings: {
        'datasetCurator.llm.baseUrl': llm.baseURL,
        'datasetCurator.llm.model': 'fake-model',
        'datasetCurator.llm.concurrency': 4,
      },
      env: { XDG_CACHE_HOME: join(userHome, 'cache'), XDG_CONFIG_HOME: join(userHome, 'config') },
    }));
  });

  after(async () => {
    await closeWorkbench({ browser, server, workspace });
    await llm?.close();
  });

  test('after a full job with a known key: not in the workspace, the cache, the journal, the logs, the output channel or the webview', async () => {
    // The key goes in the way a person puts it: Set API Key, a password box, SecretStorage.
    await showDatasets(page);
    await page
      .locator('.monaco-list-row', { hasText: 'reviews.jsonl' })
      .first()
      .waitFor({ state: 'visible', timeout: 60_000 });
    const box = page.locator('.quick-input-widget input');
    const setKey = async (): Promise<void> => {
      await runCommand(page, 'Dataset Curator: Set API Key');
      await box.waitFor({ state: 'visible' });
      await until('a password box', async () => (await box.getAttribute('type')) === 'password');
      // (the box may still be settling when it first shows: type until it holds the key)
      await until('the key typed', async () => {
        if ((await box.inputValue()) === FAKE_KEY) return true;
        await box.fill(FAKE_KEY);
        return undefined;
      });
      await box.press('Enter');
    };
    await setKey();
    let tries = 1;
    await until(
      'the key saved',
      async () => {
        if ((await notificationText(page)).includes('API key saved in SecretStorage')) return true;
        if (tries < 3) {
          tries++;
          await page.keyboard.press('Escape');
          await setKey();
        }
        return undefined;
      },
      60_000,
    ).catch(async (e: unknown) => {
      await page.screenshot({ path: '/tmp/secret-fail.png' });
      console.log(await notificationText(page));
      throw e;
    });

    const file = join(workspace, 'samples/reviews.jsonl');
    await labelFromTree(page, 'reviews.jsonl');
    await until(
      'the summary',
      async () => /Labeling reviews\.jsonl: 35 ok, 1 failed/.test(await notificationText(page)),
      120_000,
    );
    assert.equal(llm!.lastKey, FAKE_KEY, 'the requests carried the key');
    assert.ok(llm!.hadAuthOnAll);
    assert.ok(llm!.counts.chat >= 36);
    // Files: the workspace (data, .curator caches, journals), code-server's log, VS Code's logs.
    await until('the results on disk', async () => readFileSync(file, 'utf8').split('fake-model').length > 35, 30_000);
    const workspaceFiles = filesUnder(workspace);
    assert.ok(
      workspaceFiles.some((f) => f.includes('.curator')),
      `the job left its journal: ${workspaceFiles.join(', ')}`,
    );
    // The response cache is the user's, outside the workspace (issue 14): searched as well.
    const cacheFiles = filesUnder(join(userHome, 'cache', 'dataset-curator', 'llm'));
    assert.ok(
      cacheFiles.some((f) => /shard-/.test(f)),
      `the job used the per-user cache: ${cacheFiles.join(', ')}`,
    );
    assert.ok(!existsSync(join(workspace, '.curator', 'cache')), 'no cache in the workspace');
    const logs = filesUnder(join(server!.userDataDir, 'logs'));
    const channel = outputChannelLogs(server!);
    assert.ok(channel.length > 0, `the output channel's log file is among VS Code's logs: ${logs.join(', ')}`);
    // The failure is there, with the server's message, the key taken out of it.
    assert.ok(
      channel.some((f) => readFileSync(f, 'utf8').includes('Invalid request with key [redacted]')),
      'the channel logged the failure, redacted',
    );
    assert.ok(
      logs.some((f) => /exthost/i.test(f)),
      'the extension host logs are checked too',
    );
    for (const f of [...workspaceFiles, ...cacheFiles, server!.logFile, ...logs])
      assert.ok(!readFileSync(f).includes(FAKE_KEY), `${f} holds the API key`);

    // The webview's DOM, every frame of it.
    await webviewFrame(page, '[data-testid="annotation-panel"]');
    for (const frame of page.frames().filter((f) => f !== page.mainFrame())) {
      const html = (await frame.evaluate('document.documentElement.outerHTML').catch(() => '')) as string;
      assert.ok(!html.includes(FAKE_KEY), `the webview frame ${frame.url()} holds the key`);
    }
  });
});

describe('an untrusted workspace cannot redirect the endpoint', () => {
  let mine: OpenAITestServer | undefined;
  let theirs: OpenAITestServer | undefined;
  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let workspace: string;

  before(async () => {
    mine = await startOpenAIServer();
    theirs = await startOpenAIServer();
    workspace = makeWorkspace('samples');
    mkdirSync(join(workspace, '.vscode'), { recursive: true });
    // The workspace also asks for a response cache of its own, in the repository (issue 14).
    writeFileSync(
      join(workspace, '.vscode', 'settings.json'),
      JSON.stringify(
        {
          'datasetCurator.llm.baseUrl': theirs.baseURL,
          'datasetCurator.llm.model': 'their-model',
          'datasetCurator.llm.cacheDir': '.curator/cache/llm',
        },
        null,
        2,
      ),
    );
    const userHome = mkdtempSync(join(tmpdir(), 'dc-e2e-user-'));
    ({ server, browser, page } = await startWorkbench(workspace, {
      workspaceTrust: true,
      env: {
        OPENAI_API_KEY: FAKE_KEY,
        XDG_CACHE_HOME: join(userHome, 'cache'),
        XDG_CONFIG_HOME: join(userHome, 'config'),
      },
      settings: {
        'datasetCurator.llm.baseUrl': mine.baseURL,
        'datasetCurator.llm.model': 'my-model',
        'datasetCurator.llm.concurrency': 4,
      },
    }));
  });

  after(async () => {
    await closeWorkbench({ browser, server, workspace });
    await mine?.close();
    await theirs?.close();
  });

  test("a label job goes to the user's endpoint, none to the workspace's, and the user is told why", async () => {
    await until(
      'Restricted Mode',
      async () => (await page.locator('.statusbar-item', { hasText: 'Restricted Mode' }).count()) > 0,
      30_000,
    );
    const file = join(workspace, 'samples/reviews.jsonl');
    await labelFromTree(page, 'reviews.jsonl');
    const told = await until(
      'the notification',
      async () => {
        const t = await notificationText(page);
        return /not trusted/.test(t) ? t : undefined;
      },
      60_000,
    ).catch(async (e: unknown) => {
      await page.screenshot({ path: '/tmp/untrusted-fail.png' });
      console.log(await notificationText(page));
      throw e;
    });
    assert.match(
      told,
      /This workspace is not trusted, so its settings datasetCurator\.llm\.baseUrl, datasetCurator\.llm\.cacheDir, datasetCurator\.llm\.model were ignored/,
    );
    assert.ok(told.includes(`requests go to ${mine!.baseURL}`), `the notification names the endpoint used: ${told}`);
    await until(
      'the job on the user endpoint',
      async () => readFileSync(file, 'utf8').split('my-model').length > 36,
      120_000,
    );
    assert.equal(theirs!.counts.total, 0, 'the workspace endpoint got no request');
    assert.ok(mine!.counts.chat >= 36, `the user endpoint did the job (${mine!.counts.chat} requests)`);
    assert.ok(!readFileSync(file, 'utf8').includes('their-model'));
    assert.ok(!existsSync(join(workspace, '.curator', 'cache')), 'the workspace cache it asked for is not used');
  });
});
