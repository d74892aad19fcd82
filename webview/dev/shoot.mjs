// Drives the dev page (node webview/dev/serve.mjs must be running) with playwright-core and the
// system chromium: checks keys and clicks, reports console errors / CSP violations, saves
// screenshots to /tmp/dc-dev/*.png.
import { chromium } from 'playwright-core';

const base = process.env.DC_DEV_URL ?? 'http://127.0.0.1:5175/';
const out = process.env.DC_DEV_OUT ?? '/tmp/dc-dev';
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: [
    '--no-sandbox',
    '--disable-gpu',
    '--disable-background-networking',
    '--disable-component-update',
    '--no-first-run',
    '--disable-sync',
  ],
});
const problems = [];
const results = [];
const check = (name, ok, detail = '') => results.push(`${ok ? 'PASS' : 'FAIL'} ${name}${detail ? ` — ${detail}` : ''}`);

async function open(query = '', viewport = { width: 1280, height: 800 }) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`[${query}] console.${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`[${query}] pageerror: ${e.message}`));
  await page.goto(`${base}?${query}`);
  await page.locator('[data-testid="position"]', { hasText: 'Line 1 of' }).waitFor({ timeout: 10000 });
  await page.evaluate(() =>
    document.addEventListener('securitypolicyviolation', (e) =>
      console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`),
    ),
  );
  return { page, context };
}
const pos = (page) => page.locator('[data-testid="position"]').textContent();
const shot = (page, name) => page.screenshot({ path: `${out}/${name}.png` });

// Record view, dark.
try {
  const { page, context } = await open('theme=dark');
  await page.waitForTimeout(300);
  const text = await page.locator('[data-field="text"] .field-value').textContent();
  check('first record text shown', !!text && text.startsWith('The battery'), text?.slice(0, 40));
  check('annotation fields not repeated', (await page.locator('[data-field="judge"]').count()) === 0);
  await shot(page, 'record-dark');
  await page.locator('body').click({ position: { x: 5, y: 300 } });
  await page.keyboard.press('j');
  await page.waitForTimeout(50);
  check('j goes to line 2', /^Line 2 of 38/.test(await pos(page)), await pos(page));
  await page.keyboard.press('k');
  await page.waitForTimeout(50);
  check('k goes back', /^Line 1 of 38/.test(await pos(page)));
  await page.locator('[data-testid="next"]').click();
  await page.waitForTimeout(50);
  check('next button', /^Line 2 of/.test(await pos(page)));
  await page.keyboard.press('End');
  await page.waitForTimeout(50);
  check('End', /^Line 38 of/.test(await pos(page)), await pos(page));
  await page.keyboard.press('Home');
  await page.waitForTimeout(50);

  // Navigation latency: keydown to position text updated.
  const times = await page.evaluate(async () => {
    const p = document.querySelector('[data-testid="position"]');
    const out = [];
    for (let i = 0; i < 30; i++) {
      const before = p.textContent;
      const t0 = performance.now();
      const done = new Promise((r) => {
        const mo = new MutationObserver(() => {
          if (p.textContent !== before) {
            mo.disconnect();
            r();
          }
        });
        mo.observe(p, { childList: true, characterData: true, subtree: true });
      });
      window.dispatchEvent(new KeyboardEvent('keydown', { key: i < 25 ? 'j' : 'k', bubbles: true }));
      await done;
      await new Promise((r) => requestAnimationFrame(() => r()));
      out.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 30));
    }
    return out.sort((a, b) => a - b);
  });
  check(
    'navigation p95 < 50ms',
    times[Math.floor(times.length * 0.95)] < 50,
    `p50 ${times[15].toFixed(1)}ms p95 ${times[Math.floor(times.length * 0.95)].toFixed(1)}ms`,
  );
  await page.keyboard.press('Home');

  // Relabel by number key and button; accept; reject.
  await page.keyboard.press('2');
  await page.waitForTimeout(100);
  check(
    'key 2 relabels',
    (await page.locator('[data-testid="label"]').textContent()) === 'neutral',
    await page.locator('[data-testid="label"]').textContent(),
  );
  check('edited marker', (await page.locator('[data-testid="edited"]').count()) === 1);
  check('dirty marker', await page.locator('[data-testid="dirty"]').isVisible());
  check('stays on the record after the changed echo', /^Line 1 of/.test(await pos(page)), await pos(page));
  await page.locator('[data-testid="relabel-positive"]').click();
  await page.waitForTimeout(100);
  check('relabel button', (await page.locator('[data-testid="label"]').textContent()) === 'positive');
  await page.keyboard.press('a');
  await page.waitForTimeout(100);
  check('a accepts the suggestion', (await page.locator('[data-testid="label"]').textContent()) === 'negative');
  await page.keyboard.press('r');
  await page.waitForTimeout(100);
  check('r rejects', (await page.locator('[data-testid="review-status"]').textContent()) === 'rejected');

  // Inline field edit: string field.
  await page.locator('[data-field="id"] .field-value').click();
  await page.locator('[data-testid="field-editor"]').fill('rev-0001-edited');
  await page.keyboard.press('Enter');
  await page.waitForTimeout(150);
  check(
    'inline edit commits',
    (await page.locator('[data-field="id"] .field-value').textContent()) === 'rev-0001-edited',
  );
  // j while typing does nothing
  await page.locator('[data-field="text"] .field-value').click();
  await page.keyboard.type('jjk');
  check('keys ignored while typing', /^Line 1 of/.test(await pos(page)));
  await page.keyboard.press('Escape');

  // Chat record and nested object; a JSON field edit with invalid JSON.
  await page.keyboard.press('g');
  await page.keyboard.type('4');
  await page.keyboard.press('Enter');
  await page.waitForTimeout(100);
  check('g goes to line 4', /^Line 4 of/.test(await pos(page)), await pos(page));
  check('conversation rendered', (await page.locator('.message').count()) === 3);
  check('script text stays text', (await page.locator('script').count()) === 1);
  await shot(page, 'chat-dark');
  await page.locator('[data-field="meta"] .field-edit').click();
  await page.locator('[data-testid="field-editor"]').fill('{"split": "train",');
  await page.keyboard.press('Enter');
  await page.waitForTimeout(50);
  const err = await page.locator('[data-testid="field-error"]').textContent();
  check('invalid JSON field edit shows error', /Invalid JSON/.test(err ?? ''), err);
  await shot(page, 'field-edit-error');
  await page.keyboard.press('Escape');

  // i: next invalid; n: next unreviewed.
  await page.keyboard.press('Home');
  await page.waitForTimeout(50);
  await page.keyboard.press('i');
  await page.waitForTimeout(100);
  check('i goes to the invalid line', /^Line 5 of/.test(await pos(page)), await pos(page));
  await shot(page, 'invalid-dark');
  await page.keyboard.press('n');
  await page.waitForTimeout(100);
  check('n goes to the next pending', /^Line (6|7|8) of/.test(await pos(page)), await pos(page));

  // Raw editor.
  await page.keyboard.press('e');
  await page.locator('[data-testid="raw-editor"]').fill('{"id": "x", "text": "broken" "label": 1}');
  await page.waitForTimeout(50);
  const rawErr = await page.locator('[data-testid="raw-error"]').textContent();
  check('raw editor validates', /line 1, column/.test(rawErr ?? ''), rawErr);
  await shot(page, 'raw-editor');
  await page.keyboard.press('Escape');
  check('raw editor closes', !(await page.locator('[data-testid="raw-editor-dialog"]').isVisible()));

  // Search.
  await page.keyboard.press('Home');
  await page.keyboard.press('/');
  const focused = await page.evaluate(
    () => `${document.activeElement?.tagName} ${document.activeElement?.shadowRoot?.activeElement?.tagName ?? ''}`,
  );
  await page.keyboard.type('battery');
  await page.waitForTimeout(400);
  check('/ focuses the search box', focused.startsWith('VSCODE-TEXTFIELD'), focused);
  const count = await page.locator('[data-testid="search-count"]').textContent();
  check('search count', /match/.test(count ?? '') || /of/.test(count ?? ''), count);
  await page.keyboard.press('Enter');
  await page.waitForTimeout(150);
  const count2 = await page.locator('[data-testid="search-count"]').textContent();
  check('Enter goes to the next match', /^\d+ of \d+/.test(count2 ?? ''), `${count2} ${await pos(page)}`);
  await shot(page, 'search');
  await page.keyboard.press('Escape');

  // Help overlay.
  await page.keyboard.press('?');
  check('help opens', await page.locator('[data-testid="help"]').isVisible());
  await shot(page, 'help');
  await page.keyboard.press('Escape');
  check('help closes with Escape', !(await page.locator('[data-testid="help"]').isVisible()));

  // Stats.
  await page.keyboard.press('s');
  await page.locator('[data-testid="stats-labels"]').waitFor();
  await page.waitForTimeout(100);
  await shot(page, 'stats-dark');
  await page.keyboard.press('s');

  // List mode.
  await page.keyboard.press('l');
  await page.locator('[data-testid="list-row"]').first().waitFor();
  await page.waitForTimeout(200);
  await shot(page, 'list-dark');
  await page.locator('[data-testid="list-row"][data-index="9"]').click();
  await page.waitForTimeout(100);
  check('row click opens record', /^Line 10 of/.test(await pos(page)), await pos(page));
  await context.close();
} catch (e) {
  check('dark walkthrough', false, String(e).split('\n')[0]);
}

// Light and high-contrast themes, narrow width.
for (const theme of ['light', 'hc']) {
  const { page, context } = await open(`theme=${theme}`);
  await page.waitForTimeout(300);
  await shot(page, `record-${theme}`);
  if (theme === 'light') {
    await page.keyboard.press('s');
    await page.locator('[data-testid="stats-labels"]').waitFor();
    await page.waitForTimeout(100);
    await shot(page, 'stats-light');
  }
  await context.close();
}
{
  const { page, context } = await open('theme=dark', { width: 600, height: 900 });
  await page.waitForTimeout(300);
  await shot(page, 'record-narrow');
  await context.close();
}

// 1M rows list.
{
  const { page, context } = await open('theme=dark&rows=1000000');
  await page.keyboard.press('l');
  await page.locator('[data-testid="list-row"]').first().waitFor();
  const frames = await page.evaluate(async () => {
    const vp = document.querySelector('[data-testid="list-viewport"]');
    const times = [];
    let last = performance.now();
    for (let i = 0; i < 120; i++) {
      vp.scrollTop += 3000 + i * 997;
      await new Promise((r) => requestAnimationFrame(() => r()));
      const now = performance.now();
      times.push(now - last);
      last = now;
    }
    return times.sort((a, b) => a - b);
  });
  check(
    '1M rows: scroll frames p95 < 50ms',
    frames[Math.floor(frames.length * 0.95)] < 50,
    `p50 ${frames[60].toFixed(1)}ms p95 ${frames[Math.floor(frames.length * 0.95)].toFixed(1)}ms`,
  );
  const rowsInDom = await page.locator('[data-testid="list-row"]').count();
  check('1M rows: only visible rows in the DOM', rowsInDom < 100, `${rowsInDom} rows`);
  await page.keyboard.press('End');
  await page.waitForTimeout(300);
  const last = await page.locator('[data-testid="list-row"].selected').getAttribute('data-index');
  check('1M rows: End selects the last row', last === '999999', last);
  await page.waitForTimeout(300);
  await shot(page, 'list-1m');
  await page.keyboard.press('Enter');
  await page.waitForTimeout(200);
  check('1M rows: Enter opens the last record', /^Line 1000000 of 1000000/.test(await pos(page)), await pos(page));
  await context.close();
}

await browser.close();
console.log(results.join('\n'));
console.log(problems.length ? `\nProblems:\n${problems.join('\n')}` : '\nNo console errors or CSP violations.');
