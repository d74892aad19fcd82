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
    // The page fetches nothing before VS Code shows it: the host inlines the script and editor.css
    // under the nonce; the codicons' stylesheet is linked once the first record is on screen (its
    // font fetched by the stylesheet's own relative url); protocol.js and views.js come after load.
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
    // The codicons draw: their font loaded (from the extension's codicon.ttf), and an icon on
    // screen is a glyph of it that puts ink on a canvas.
    const icon = await until(
      'the codicon font loaded',
      async () => {
        const r = await frame.evaluate<
          { loaded: boolean; family: string; glyph: string; ink: number } | undefined
        >(`(() => {
          const loaded = [...document.fonts].some((f) => f.family.replace(/"/g, '') === 'codicon' && f.status === 'loaded');
          const el = [...document.querySelectorAll('.codicon')].find((e) => e.getBoundingClientRect().width > 0);
          if (!el) return undefined;
          const before = getComputedStyle(el, '::before');
          const glyph = before.content.replace(/^["']|["']$/g, '');
          const c = document.createElement('canvas');
          c.width = c.height = 32;
          const ctx = c.getContext('2d');
          ctx.font = '16px codicon';
          ctx.fillText(glyph, 8, 24);
          const px = ctx.getImageData(0, 0, 32, 32).data;
          let ink = 0;
          for (let i = 3; i < px.length; i += 4) if (px[i] > 0) ink++;
          return { loaded, family: before.fontFamily, glyph, ink };
        })()`);
        return r?.loaded ? r : undefined;
      },
      15_000,
    );
    assert.match(icon.family, /codicon/, 'an icon is drawn in the codicon font');
    assert.ok(icon.glyph.length > 0 && icon.ink > 0, `the icon's glyph draws (${JSON.stringify(icon)})`);
    // The views the first record does not need (the list, the reports, the raw-JSON dialog) come
    // from views.js, fetched once the first record was on screen, and are in the page then.
    const views = await until('the late views loaded', async () => {
      const r = await frame.evaluate<{ first?: number; fetched?: number; list: boolean }>(
        `({ first: performance.getEntriesByName('dc:first-record')[0]?.startTime, fetched: performance.getEntriesByType('resource').find((e) => e.name.includes('/views.js'))?.startTime, list: typeof window.__dcViews?.ListView === 'function' && !!document.querySelector('.list-viewport') })`,
      );
      return r.list && r.fetched !== undefined ? r : undefined;
    });
    assert.ok(
      views.first !== undefined && views.first < views.fetched!,
      `views.js fetched (${views.fetched}) after the first record was drawn (${views.first})`,
    );
    const page_ = await frame.evaluate<{
      inline: { nonce: boolean; head: string }[];
      protocol: { nonce: boolean; src: string }[];
      schemas: string;
      links: string[];
      styles: { nonce: boolean; rules: number; head: string }[];
      font: string;
      fetched: string[];
      csp: string;
    }>(`({
      inline: [...document.scripts].filter((s) => s.type === 'module' && !s.src).map((s) => ({ nonce: !!s.nonce, head: s.textContent.slice(0, 400) })),
      protocol: [...document.scripts].filter((s) => s.src).map((s) => ({ nonce: !!s.nonce, src: s.src })),
      schemas: typeof window.__dcProtocol?.ToWebview?.safeParse,
      links: [...document.querySelectorAll('link[rel="stylesheet"]')].map((l) => l.href),
      // VS Code adds its default styles (#_defaultStyles) to every webview page.
      styles: [...document.querySelectorAll('style:not(#_defaultStyles)')].map((s) => ({ nonce: !!s.nonce, rules: s.sheet?.cssRules.length ?? 0, head: s.textContent.slice(0, 200) })),
      font: [...document.styleSheets].flatMap((s) => [...s.cssRules]).filter((r) => r instanceof CSSFontFaceRule && r.style.getPropertyValue('font-family').replace(/["']/g, '') === 'codicon').map((r) => r.style.getPropertyValue('src'))[0] ?? '',
      fetched: performance.getEntriesByType('resource').map((e) => e.name),
      csp: document.querySelector('meta[http-equiv="Content-Security-Policy"]')?.getAttribute('content') ?? '',
    })`);
    const from = (u: string) => decodeURIComponent(u).includes(`${server!.extensionDir}/dist/webview/`);
    assert.equal(page_.inline.length, 1, 'one inline module script');
    assert.ok(page_.inline[0]!.nonce, 'the inline script has the nonce');
    assert.equal(
      page_.inline[0]!.head,
      readFileSync(join(dist, 'editor.js'), 'utf8').slice(0, 400),
      `the inline script is ${dist}/editor.js`,
    );
    assert.deepEqual(
      page_.styles.map((s) => s.nonce),
      [true],
      'one inline stylesheet, with the nonce',
    );
    assert.ok(page_.styles[0]!.rules > 10, `the inline stylesheet applied its rules (${page_.styles[0]!.rules})`);
    assert.equal(
      page_.styles[0]!.head,
      readFileSync(join(dist, 'editor.css'), 'utf8').slice(0, 200),
      'it is editor.css',
    );
    assert.equal(page_.links.length, 1, `one linked stylesheet: ${page_.links.join(', ')}`);
    assert.ok(
      from(page_.links[0]!) && page_.links[0]!.includes('codicon.css'),
      `codicon.css from ${server!.extensionDir}: ${page_.links[0]}`,
    );
    assert.match(
      page_.font,
      /url\(["']?\.\/codicon\.ttf/,
      `the codicon font is the stylesheet's own file: ${page_.font}`,
    );
    assert.ok(
      page_.fetched.some((u) => from(u) && /\/codicon\.ttf(\?|$)/.test(u)),
      `the page fetched codicon.ttf from ${server!.extensionDir}: ${page_.fetched.join(', ')}`,
    );
    // The Content-Security-Policy still allows nothing but the nonce's scripts and the extension's files.
    const csp = new Map(
      page_.csp.split(';').map((d): [string, string] => {
        const [name = '', ...sources] = d.trim().split(/\s+/);
        return [name, sources.join(' ')];
      }),
    );
    assert.equal(csp.get('default-src'), "'none'", page_.csp);
    assert.match(csp.get('script-src') ?? '', /^'nonce-[A-Za-z0-9+/=]{16,}'$/, page_.csp);
    for (const d of ['script-src', 'style-src', 'font-src'])
      assert.doesNotMatch(csp.get(d) ?? '', /unsafe-inline|unsafe-eval|data:/, page_.csp);
    // Loaded by address, with the nonce, from the extension: the components and the late views once
    // the first record is on screen, the schemas after the load event.
    assert.deepEqual(
      page_.protocol.map((s) => s.src.replace(/^.*\/dist\/webview\/([\w.]+)(\?.*)?$/, '$1')).sort(),
      ['components.js', 'protocol.js', 'views.js'],
      `three scripts loaded by address: ${page_.protocol.map((s) => s.src).join(', ')}`,
    );
    for (const script of page_.protocol)
      assert.ok(script.nonce && from(script.src), `${script.src}, with the nonce, from ${server!.extensionDir}`);
    assert.equal(page_.schemas, 'function', 'the protocol schemas loaded');
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
