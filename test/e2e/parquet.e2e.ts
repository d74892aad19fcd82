// A Parquet file as a person meets it in the workbench: listed in the Datasets view (read-only,
// its row count), a click opens the preview, whose rows carry XSS payloads that must show as text
// and run nothing, and "Convert to JSONL to edit" writes the JSONL and opens the curation editor.
import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Frame, Page } from 'playwright-core';
import {
  closeWorkbench,
  makeWorkspace,
  showDatasets,
  startWorkbench,
  until,
  webviewFrame,
  type CodeServer,
} from '../harness/vscode';
import { writeParquet } from '../../src/core/formats/parquet';

const payloads = [
  `<script data-pwn>window.__pwned='script'</script>`,
  `<img data-pwn src="x" onerror="window.__pwned='img'">`,
  `</pre><svg data-pwn onload="window.__pwned='svg'"></svg>`,
  `"><iframe data-pwn srcdoc="<script>parent.__pwned='srcdoc'</script>"></iframe>`,
];

describe('Parquet in the workbench', () => {
  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let workspace: string;
  const dialogs: string[] = [];

  before(async () => {
    workspace = makeWorkspace({ 'hub/README.md': '# a dataset\n' });
    await writeParquet(join(workspace, 'hub', 'hostile.parquet'), async function* () {
      for (const [i, p] of payloads.entries()) {
        yield {
          id: i + 1,
          messages: [
            { role: 'user', content: p },
            { role: 'assistant', content: `answer ${i + 1}` },
          ],
          [`key ${i}`]: p,
          big: 9007199254740993n,
        };
      }
    });
    ({ server, browser, page } = await startWorkbench(workspace, { dialogs }));
  });

  after(async () => {
    await closeWorkbench({ browser, server, workspace });
  });

  const injected = (f: Frame) =>
    f.evaluate<{ pwned: string | null; marked: number; handlers: number; frames: number }>(`(() => ({
      pwned: window.__pwned ?? null,
      marked: document.querySelectorAll('[data-pwn]').length,
      handlers: [...document.querySelectorAll('*')].filter((e) => [...e.attributes].some((a) => /^on/i.test(a.name))).length,
      frames: document.querySelectorAll('iframe, frame, object, embed').length,
    }))()`);

  test('listed read-only; the preview shows the rows as text; Convert to JSONL opens the curation editor', async () => {
    await showDatasets(page);
    const row = page.locator('.monaco-list-row', { hasText: 'hostile.parquet' }).first();
    await row.waitFor({ state: 'visible', timeout: 60_000 });
    await until(
      'its row count',
      async () => ((await row.textContent()) ?? '').includes('4 rows · Parquet, read-only'),
      60_000,
    );
    await row.click();
    const frame = await webviewFrame(page, '#rows', 60_000);
    await until('the rows', async () => (await frame.locator('.row').count()) === 4, 30_000);
    assert.match(
      (await frame.locator('#summary').textContent()) ?? '',
      /^4 rows · 1 row group\(s\) · 7 column\(s\): id, messages, key 0, big, key 1, key 2, key 3 · written by dataset-curator/,
    );
    const text = (await frame.locator('#rows').textContent()) ?? '';
    for (const p of payloads) assert.ok(text.includes(JSON.stringify(p).slice(1, -1)), `shown as text: ${p}`);
    assert.ok(text.includes('"big": 9007199254740993'), 'a 64-bit integer with every digit');
    assert.deepEqual(await injected(frame), { pwned: null, marked: 0, handlers: 0, frames: 0 });
    assert.deepEqual(dialogs, []);
    // DC_E2E_SHOTS=DIR keeps a picture of the preview to look at
    if (process.env.DC_E2E_SHOTS)
      await page.screenshot({ path: join(process.env.DC_E2E_SHOTS, 'parquet-preview.png') });

    await frame.locator('#convert').click();
    const editor = await webviewFrame(page, '[data-testid="annotation-panel"]', 60_000);
    await until(
      'the first record in the curation editor',
      async () => ((await editor.locator('[data-testid="position"]').textContent()) ?? '').startsWith('Line 1 '),
      60_000,
    );
    const jsonl = join(workspace, 'hub', 'hostile.jsonl');
    assert.ok(existsSync(jsonl));
    const lines = readFileSync(jsonl, 'utf8').trim().split('\n');
    assert.equal(lines.length, 4);
    assert.deepEqual(JSON.parse(lines[1]!).messages[0], { role: 'user', content: payloads[1] });
    assert.deepEqual(await injected(editor), { pwned: null, marked: 0, handlers: 0, frames: 0 });
  });
});
