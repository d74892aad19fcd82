// Acting as a person in a real VS Code: open the Datasets view, open a dataset from the tree, see
// the first record in the curation editor's webview, press `j`, see the second.
import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import {
  closeWorkbench,
  outputChannelLogs,
  makeWorkspace,
  showDatasets,
  startWorkbench,
  until,
  webviewFrame,
  type CodeServer,
} from '../harness/vscode';

describe('curation editor in the workbench', () => {
  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let workspace: string;

  before(async () => {
    workspace = makeWorkspace('samples');
    // Over 16 MiB: indexed by the store's scan worker (a bundle of its own in the package).
    mkdirSync(join(workspace, 'big'), { recursive: true });
    writeFileSync(
      join(workspace, 'big', 'big.jsonl'),
      Array.from(
        { length: 100_000 },
        (_, i) => `${JSON.stringify({ id: i, text: `record ${i} `.repeat(16), label: i % 2 ? 'a' : 'b' })}\n`,
      ).join(''),
    );
    ({ server, browser, page } = await startWorkbench(workspace));
  });

  after(async () => {
    await closeWorkbench({ browser, server, workspace });
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

  test(`the extension runs from ${process.env.DC_E2E_TARGET === 'vsix' ? 'the installed .vsix' : 'the development folder'}: its webview script, styles, codicons and schemas come from there`, async () => {
    const frame = await webviewFrame(page, '[data-field="text"]');
    const dist = join(server!.extensionDir, 'dist/webview');
    // Evaluated in the webview (a string: this file is type-checked without the DOM library).
    // The page fetches nothing before VS Code shows it: the host inlines the script and the
    // styles under the nonce, the codicon font as a data: URI; protocol.js comes after load.
    // The first record is drawn before the page defines its components and applies the codicons.
    const order = await until('the components defined', async () => {
      const marks = await frame.evaluate<{ first?: number; components?: number; button: boolean }>(
        `({ first: performance.getEntriesByName('dc:first-record')[0]?.startTime, components: performance.getEntriesByName('dc:components')[0]?.startTime, button: !!customElements.get('vscode-button') })`,
      );
      return marks.components !== undefined && marks.button ? marks : undefined;
    });
    assert.ok(
      order.first !== undefined && order.first < order.components!,
      `the first record (${order.first}) before the components (${order.components})`,
    );
    const page_ = await frame.evaluate<{
      inline: { nonce: boolean; head: string }[];
      protocol: { nonce: boolean; src: string }[];
      schemas: string;
      links: number;
      styles: { nonce: boolean; rules: number; head: string }[];
      font: string;
    }>(`({
      inline: [...document.scripts].filter((s) => s.type === 'module' && !s.src).map((s) => ({ nonce: !!s.nonce, head: s.textContent.slice(0, 400) })),
      protocol: [...document.scripts].filter((s) => s.src).map((s) => ({ nonce: !!s.nonce, src: s.src })),
      schemas: typeof window.__dcProtocol?.ToWebview?.safeParse,
      links: document.querySelectorAll('link[rel="stylesheet"]').length,
      // VS Code adds its default styles (#_defaultStyles) to every webview page.
      styles: [...document.querySelectorAll('style:not(#_defaultStyles)')].map((s) => ({ nonce: !!s.nonce, rules: s.sheet?.cssRules.length ?? 0, head: s.textContent.slice(0, 200) })),
      font: [...document.styleSheets].flatMap((s) => [...s.cssRules]).filter((r) => r instanceof CSSFontFaceRule && r.style.getPropertyValue('font-family').replace(/["']/g, '') === 'codicon').map((r) => r.style.getPropertyValue('src'))[0] ?? '',
    })`);
    const from = (u: string) => decodeURIComponent(u).includes(`${server!.extensionDir}/dist/webview/`);
    assert.equal(page_.inline.length, 1, 'one inline module script');
    assert.ok(page_.inline[0]!.nonce, 'the inline script has the nonce');
    assert.equal(
      page_.inline[0]!.head,
      readFileSync(join(dist, 'editor.js'), 'utf8').slice(0, 400),
      `the inline script is ${dist}/editor.js`,
    );
    assert.equal(page_.links, 0, 'no stylesheet is fetched');
    assert.deepEqual(
      page_.styles.map((s) => s.nonce),
      [true, true],
      'two inline stylesheets, with the nonce',
    );
    for (const st of page_.styles) assert.ok(st.rules > 10, `an inline stylesheet applied its rules (${st.rules})`);
    assert.equal(
      page_.styles[1]!.head,
      readFileSync(join(dist, 'editor.css'), 'utf8').slice(0, 200),
      'the second is editor.css',
    );
    assert.equal(page_.protocol.length, 1, 'one script loaded by address: protocol.js');
    assert.ok(
      page_.protocol[0]!.nonce && from(page_.protocol[0]!.src) && page_.protocol[0]!.src.includes('protocol.js'),
      `protocol.js, with the nonce, from ${server!.extensionDir}: ${page_.protocol[0]!.src}`,
    );
    assert.equal(page_.schemas, 'function', 'the protocol schemas loaded');
    const font = /data:font\/ttf;base64,([A-Za-z0-9+/=]+)/.exec(page_.font)?.[1];
    assert.ok(font, `the codicon font is a data: URI: ${page_.font.slice(0, 80)}`);
    assert.ok(
      Buffer.from(font, 'base64').equals(readFileSync(join(dist, 'codicon.ttf'))),
      `the page's codicon font is ${dist}/codicon.ttf, byte for byte`,
    );
    if (server!.target === 'vsix')
      assert.ok(server!.extensionDir.startsWith(server!.extensionsDir), 'installed in the extensions dir');
    // A file over 16 MiB is indexed by the scan worker (the output channel says how it was indexed).
    await showDatasets(page);
    await page.locator('.monaco-list-row', { hasText: 'big.jsonl' }).first().click();
    // Its editor (the sample's webview may still be around: look in every frame).
    const big = await until(
      'the big file indexed',
      async () => {
        for (const f of page.frames()) {
          const t =
            (await f
              .locator('[data-testid="position"]')
              .textContent({ timeout: 500 })
              .catch(() => '')) ?? '';
          if (/ of 100,?000\b/.test(t)) return f;
        }
        return undefined;
      },
      90_000,
    );
    const channel = await until(
      'the output channel log',
      async () =>
        outputChannelLogs(server!).find((f) => readFileSync(f, 'utf8').includes('big.jsonl: 100000 lines indexed')),
      30_000,
    );
    assert.match(readFileSync(channel, 'utf8'), /big\.jsonl: 100000 lines indexed by the scan worker/);
    // The codicon font is loaded where an icon is on screen (the big file's editor: the sample's
    // preview editor may have given it its place).
    const icons = await big.locator('.codicon').count();
    assert.ok(icons > 0, 'the editor shows codicons');
    await until(
      'the codicon font',
      async () =>
        (await big.evaluate<boolean>(
          `[...document.fonts].some((f) => f.family.replace(/"/g, '') === 'codicon' && f.status === 'loaded')`,
        )) || undefined,
      15_000,
    );
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
