// Acting as a person in a real VS Code: open the Datasets view, open a dataset from the tree, see
// the first record in the curation editor's webview, press `j`, see the second.
import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { cleanup, launchBrowser, outputChannelLogs, makeWorkspace, openWorkbench, showDatasets, startCodeServer, until, webviewFrame, type CodeServer } from '../harness/vscode';

describe('curation editor in the workbench', () => {
  let server: CodeServer;
  let browser: Browser;
  let page: Page;
  let workspace: string;

  before(async () => {
    workspace = makeWorkspace('samples');
    // Over 16 MiB: indexed by the store's scan worker (a bundle of its own in the package).
    mkdirSync(join(workspace, 'big'), { recursive: true });
    writeFileSync(join(workspace, 'big', 'big.jsonl'), Array.from({ length: 100_000 }, (_, i) => `${JSON.stringify({ id: i, text: `record ${i} `.repeat(16), label: i % 2 ? 'a' : 'b' })}\n`).join(''));
    server = await startCodeServer();
    browser = await launchBrowser();
    ({ page } = await openWorkbench(browser, server.url({ folder: workspace })));
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    if (workspace) cleanup(workspace);
  });

  test('open a dataset from the Datasets view, see its first record, press j to see the second', async () => {
    const lines = readFileSync(join(workspace, 'samples/reviews.jsonl'), 'utf8').trim().split('\n');
    const first = JSON.parse(lines[0] ?? '') as { text: string };
    const second = JSON.parse(lines[1] ?? '') as { text: string };

    await page.locator('.activitybar [aria-label^="Datasets"]').first().click();
    const item = page.locator('.monaco-list-row', { hasText: 'reviews.jsonl' }).first();
    await item.waitFor({ state: 'visible', timeout: 30_000 });
    await item.click();

    const frame = await webviewFrame(page, '[data-field="text"]');
    const text = frame.locator('[data-field="text"] .field-value');
    await assertText(() => text.textContent(), first.text);
    assert.match((await frame.locator('[data-testid="position"]').textContent()) ?? '', /^Line 1 of 36/);

    await frame.locator('body').click({ position: { x: 5, y: 200 } });
    await page.keyboard.press('j');
    await assertText(() => text.textContent(), second.text);
    assert.match((await frame.locator('[data-testid="position"]').textContent()) ?? '', /^Line 2 of 36/);

    await page.keyboard.press('k');
    await assertText(() => text.textContent(), first.text);
    await frame.locator('[data-testid="next"]').click();
    await assertText(() => text.textContent(), second.text);
  });

  test(`the extension runs from ${process.env.DC_E2E_TARGET === 'vsix' ? 'the installed .vsix' : 'the development folder'}: its webview script, styles and codicons load from there`, async () => {
    const frame = await webviewFrame(page, '[data-field="text"]');
    // Evaluated in the webview (a string: this file is type-checked without the DOM library).
    const loaded = (await frame.evaluate(`({
      script: document.querySelector('script[src]')?.getAttribute('src') ?? '',
      styles: [...document.querySelectorAll('link[rel="stylesheet"]')].map((l) => l.href),
      loadedSheets: [...document.styleSheets].filter((s) => { try { return !!s.href && s.cssRules.length > 0; } catch { return false; } }).map((s) => s.href),
    })`)) as { script: string; styles: string[]; loadedSheets: string[] };
    const from = (u: string) => decodeURIComponent(u).includes(`${server.extensionDir}/dist/webview/`);
    assert.ok(from(loaded.script), `editor.js from ${server.extensionDir}: ${loaded.script}`);
    assert.equal(loaded.styles.length, 2);
    for (const href of loaded.styles) assert.ok(from(href), `stylesheet from ${server.extensionDir}: ${href}`);
    assert.deepEqual(loaded.loadedSheets.sort(), [...loaded.styles].sort(), 'both stylesheets loaded, with rules');
    if (server.target === 'vsix') assert.ok(server.extensionDir.startsWith(server.extensionsDir), 'installed in the extensions dir');
    // A file over 16 MiB is indexed by the scan worker (the output channel says how it was indexed).
    await showDatasets(page);
    await page.locator('.monaco-list-row', { hasText: 'big.jsonl' }).first().click();
    // Its editor (the sample's webview may still be around: look in every frame).
    await until('the big file indexed', async () => {
      for (const f of page.frames()) {
        const t = (await f.locator('[data-testid="position"]').textContent({ timeout: 500 }).catch(() => '')) ?? '';
        if (/ of 100,?000\b/.test(t)) return true;
      }
      return undefined;
    }, 90_000);
    const channel = await until('the output channel log', async () => outputChannelLogs(server).find((f) => readFileSync(f, 'utf8').includes('big.jsonl: 100000 lines indexed')), 30_000);
    assert.match(readFileSync(channel, 'utf8'), /big\.jsonl: 100000 lines indexed by the scan worker/);
    // The codicon font is loaded where an icon is on screen.
    const icons = await frame.locator('.codicon').count();
    assert.ok(icons > 0, 'the editor shows codicons');
    await until('the codicon font', async () => ((await frame.evaluate(`[...document.fonts].some((f) => f.family.replace(/"/g, '') === 'codicon' && f.status === 'loaded')`)) as boolean) || undefined, 15_000);
  });
});

async function assertText(get: () => Promise<string | null>, expected: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: string | null = null;
  while (Date.now() < deadline) {
    last = await get();
    if (last === expected) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(last, expected);
}
