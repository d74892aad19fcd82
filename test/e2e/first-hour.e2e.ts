// The first hour of a new user, in the real workbench (issue 18), from a fresh window:
//   - a .jsonl opened as text (Quick Open, never the Datasets view) gets its Problems entry and
//     CodeLens: the extension activates on the language (`onLanguage:jsonl`); the integration
//     suite calls activate() itself and cannot see this;
//   - the palette offers the dataset commands over a .jsonl, not over train.py;
//   - the Explorer's context menu has one "Dataset Curator" submenu, which works; the record's
//     12345678901234567890 shows as the file has it; the stats charts read their values out;
//   - the editor title's "…" menu has a "Dataset Curator" submenu, which starts a label job;
//   - the job's status bar item shows the job and cancels it;
//   - with the default settings, a job of 1,200 requests at a price the extension does not know asks
//     first (it never did: prices defaulted to 0, so every estimate cost $0);
//   - a label job over a large file: its cost estimate (seconds of tokenizing, before anything is
//     sent) shows as a job in the status bar with how far it is, and its Cancel stops it: no
//     question, no job, the file as it was (it could not be cancelled, and showed nothing).
import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Locator, Page } from 'playwright-core';
import {
  filesUnder,
  notification,
  openContextMenu,
  runCommand,
  sideBarTitle,
  until,
  webviewFrame,
} from '../harness/vscode';
import { openLlmWorkbench, type LlmWorkbench } from '../support/llm-workbench';

const lines = [
  // A count no double holds: JSON.parse makes it 12345678901234567000; the field view shows the file's.
  '{"id":1,"text":"Arrived broken and support never answered.","label":"negative","count":12345678901234567890}',
  '{"id": 2, "text": "this line is cut',
  JSON.stringify({ id: 3, text: 'Does what it says.', label: 'positive', judge: { score: 8 } }),
];

describe('the first hour, in a fresh window', () => {
  let w: LlmWorkbench | undefined;
  let page: Page;

  before(async () => {
    // A slow server and one request at a time: the label job runs long enough to be cancelled.
    w = await openLlmWorkbench(['--latency', '400'], {
      apiKey: 'sk-e2e-first-hour',
      settings: { 'datasetCurator.llm.concurrency': 1 },
    });
    page = w.page;
    writeFileSync(join(w.workspace, 'broken.jsonl'), `${lines.join('\n')}\n`);
    writeFileSync(join(w.workspace, 'train.py'), 'import json\nprint("train")\n');
    writeFileSync(
      join(w.workspace, 'big.jsonl'),
      Array.from(
        { length: 1200 },
        (_, i) => `${JSON.stringify({ id: i, text: `review ${i}`, label: i % 2 ? 'positive' : 'negative' })}\n`,
      ).join(''),
    );
  });

  after(async () => {
    await w?.close();
  });

  /** Quick Open (Ctrl+P) a file by name, as a person would; waits for its text editor. */
  async function quickOpen(name: string, firstLine: string): Promise<void> {
    await until(
      `${name} in a text editor`,
      async () => {
        await page.keyboard.press('Control+P');
        const input = page.locator('.quick-input-widget input');
        await input.waitFor({ state: 'visible', timeout: 10_000 });
        await input.fill(name);
        const row = page.locator('.quick-input-list .monaco-list-row', { hasText: name }).first();
        if (
          !(await row.waitFor({ state: 'visible', timeout: 5000 }).then(
            () => true,
            () => false,
          ))
        ) {
          await page.keyboard.press('Escape');
          return false;
        }
        // A click on the file's own row: Enter takes the list's focused row, which under load can still
        // be none while the list filters (the Enter then opens nothing).
        await row.click();
        // Monaco keeps its line elements in no particular DOM order once the editor has shown another
        // file: any rendered line of the visible editor that starts so.
        return until(
          'its first line',
          async () =>
            (await page.locator('.editor-instance .monaco-editor .view-line').allTextContents()).some((t) =>
              t.replace(/\u00a0/g, ' ').startsWith(firstLine),
            ),
          15_000,
        ).catch(async () => {
          const tab = await page
            .locator('.tabs-container .tab.active')
            .first()
            .textContent()
            .catch(() => '?');
          const shown = await page.locator('.editor-instance .monaco-editor .view-line').allTextContents();
          console.log(
            `# quickOpen ${name}: active tab ${JSON.stringify(tab)}, lines ${JSON.stringify(shown.slice(0, 4))}`,
          );
          return false;
        });
      },
      90_000,
    );
  }

  /** The item of the open menu titled `title` (top level or a submenu), once it takes a click (VS Code ignores mouse-ups in a menu's first 100 ms). */
  async function menuItem(title: string | RegExp): Promise<Locator> {
    const item = page.locator('.monaco-menu .action-menu-item', { hasText: title }).first();
    await item.waitFor({ state: 'visible', timeout: 15_000 });
    await page.waitForTimeout(250);
    return item;
  }
  /** A label job's two questions answered as proposed: the label set from the file, then zero-shot (Enter twice, as in jobs.e2e.ts). */
  async function labelZeroShot(): Promise<void> {
    const input = page.locator('.quick-input-widget input');
    // (the label set proposed from the file, not the palette's input, still closing)
    await until('the label set', async () => /negative.*positive/.test(await input.inputValue()), 60_000);
    await input.press('Enter');
    const first = page.locator('.quick-input-list .monaco-list-row').first();
    await until('the few-shot question', async () =>
      ((await first.textContent().catch(() => '')) ?? '').startsWith('Zero-shot'),
    );
    await input.press('Enter');
  }

  const menuTitles = async (): Promise<string[]> =>
    (await page.locator('.monaco-menu .action-label').allTextContents()).map((t) => t.trim()).filter(Boolean);

  test('a .jsonl opened as text, the Datasets view never opened: its Problems entry and its CodeLens', async () => {
    await quickOpen('broken.jsonl', '{"id":1');
    // The CodeLens above the first record: its label, and Relabel.
    await until(
      'the CodeLens',
      async () => {
        const lens = (
          await page.locator('.editor-instance .monaco-editor .codelens-decoration').allTextContents()
        ).join(' | ');
        return /negative/.test(lens) && /Relabel/.test(lens);
      },
      90_000,
    );
    // The Problems panel: the cut line, from Dataset Curator.
    await page.keyboard.press('Control+Shift+M');
    await until(
      'the Problems entry',
      async () => {
        const text =
          (await page
            .locator('.markers-panel')
            .textContent()
            .catch(() => '')) ?? '';
        return /Invalid record: invalid JSON/.test(text) && /Dataset Curator/.test(text);
      },
      60_000,
    );
    // Nobody opened the Datasets view: its container is not the side bar's.
    assert.notEqual(await sideBarTitle(page), 'datasets');
  });

  test('the palette offers the dataset commands over a .jsonl, not over train.py', async () => {
    const offered = async (): Promise<boolean> => {
      await page.keyboard.press('F1');
      const input = page.locator('.quick-input-widget input');
      await input.waitFor({ state: 'visible', timeout: 10_000 });
      await input.fill('>Dataset Curator: Label Records with LLM');
      await page.waitForTimeout(1500);
      const n = await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Label Records with LLM' }).count();
      await page.keyboard.press('Escape');
      return n > 0;
    };
    await quickOpen('train.py', 'import json');
    assert.equal(await offered(), false, 'not offered over train.py');
    await quickOpen('broken.jsonl', '{"id":1');
    assert.equal(await offered(), true, 'offered over a .jsonl');
  });

  test('the Explorer: one "Dataset Curator" entry, a submenu that opens the curation editor', async () => {
    await runCommand(page, 'View: Show Explorer');
    const row = page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'broken.jsonl' }).first();
    await row.waitFor({ state: 'visible', timeout: 30_000 });
    await openContextMenu(page, row);
    const top = await menuTitles();
    assert.ok(top.includes('Dataset Curator'), `the submenu is in ${top.join(' | ')}`);
    for (const t of [
      'Label Records with LLM…',
      'Judge Records with LLM…',
      'Open in Curation Editor',
      'Export for Fine-Tuning…',
    ])
      assert.ok(!top.includes(t), `${t} is not at the top level`);
    await (await menuItem('Dataset Curator')).hover();
    const open = await menuItem('Open in Curation Editor');
    const inside = await menuTitles();
    for (const t of [
      'Label Records with LLM…',
      'Judge Records with LLM…',
      'Filter Records…',
      'Export for Fine-Tuning…',
      'Reveal in Datasets View',
    ])
      assert.ok(inside.includes(t), `${t} is in the submenu: ${inside.join(' | ')}`);
    await open.click();
    const frame = await webviewFrame(page, '[data-testid="annotation-panel"]', 90_000);
    await until('the first record', async () =>
      ((await frame.locator('[data-testid="position"]').textContent()) ?? '').startsWith('Line 1 of 3'),
    );
    // The number as the file has it, not as a double rounds it.
    assert.equal(
      ((await frame.locator('[data-field="count"] .field-value').textContent()) ?? '').trim(),
      '12345678901234567890',
    );
    // The stats (s): the charts tell a screen reader their values (the SVG's label, and a table).
    await frame.locator('[data-testid="position"]').click();
    await page.keyboard.press('s');
    const chart = frame.locator('[data-testid="stats-labels"]');
    await chart.waitFor({ state: 'attached', timeout: 30_000 });
    assert.equal(await chart.getAttribute('aria-label'), 'Label distribution. negative: 1 (50%); positive: 1 (50%).');
    assert.match(
      (await frame.locator('[data-testid="stats-histogram"]').getAttribute('aria-label')) ?? '',
      /^Judge score histogram\. Score 8: 1\.$/,
    );
    const cells = (await frame.locator('[data-testid="stats-labels-table"] tr').allTextContents()).map((t) => t.trim());
    assert.deepEqual(cells, ['LabelRecords', 'negative1 (50%)', 'positive1 (50%)']);
  });

  test('the editor title\'s "…" menu: a "Dataset Curator" submenu; a label job from it; its status bar item shows the job and cancels it', async () => {
    await runCommand(page, 'View: Close All Editors');
    await runCommand(page, 'View: Show Explorer');
    // The sample, in the curation editor (a click in the Explorer opens it as text; the title's icon switches).
    await quickOpen('reviews.jsonl', '{"id":"rev-0001"');
    await runCommand(page, 'Dataset Curator: Open in Curation Editor');
    const frame = await webviewFrame(page, '[data-testid="annotation-panel"]', 90_000);
    const more = page.locator('.editor-actions .action-item a[aria-label^="More Actions"]').first();
    await until(
      'the "…" menu with the submenu',
      async () => {
        await more.click();
        const ok = await page
          .locator('.monaco-menu .action-menu-item', { hasText: 'Dataset Curator' })
          .first()
          .waitFor({ state: 'visible', timeout: 3000 })
          .then(
            () => true,
            () => false,
          );
        if (!ok) await page.keyboard.press('Escape');
        return ok;
      },
      60_000,
    );
    const top = await menuTitles();
    assert.ok(!top.includes('Label Records with LLM…'), `not at the top of the "…" menu: ${top.join(' | ')}`);
    await (await menuItem('Dataset Curator')).hover();
    await (await menuItem('Label Records with LLM…')).click();
    await labelZeroShot();
    // The status bar item: a click shows the job; Cancel cancels it.
    const item = page.locator('.statusbar-item', { hasText: /Labeling reviews\.jsonl/ }).first();
    await item.waitFor({ state: 'visible', timeout: 60_000 });
    // The job shows its file in the curation editor, which takes the focus (a quick pick opened
    // before that is closed by it): clicked once the editor has it, as a person would.
    await until('the editor focused', () => frame.evaluate<boolean>('document.hasFocus()'));
    await item.click();
    const cancel = page.locator('.quick-input-list .monaco-list-row', { hasText: 'Cancel the Job' }).first();
    await cancel.waitFor({ state: 'visible', timeout: 15_000 });
    const title = ((await page.locator('.quick-input-widget .quick-input-title').textContent()) ?? '').trim();
    assert.match(title, /^Labeling reviews\.jsonl · running for /);
    assert.ok((await page.locator('.quick-input-list .monaco-list-row', { hasText: 'Show the Output' }).count()) > 0);
    await cancel.click();
    await notification(page, /was cancelled\. Finished records are kept; run it again to resume\./);
    await until(
      'the status bar item gone',
      async () => (await page.locator('.statusbar-item', { hasText: /Labeling reviews\.jsonl/ }).count()) === 0,
      30_000,
    );
  });

  test('default settings: a label job of 1,200 requests at an unknown price asks first; Cancel runs nothing', async () => {
    const before = readFileSync(join(w!.workspace, 'big.jsonl'), 'utf8');
    await runCommand(page, 'View: Close All Editors');
    await quickOpen('big.jsonl', '{"id":0');
    await runCommand(page, 'Dataset Curator: Label Records with LLM');
    await labelZeroShot();
    const dialog = page.locator('.monaco-dialog-box');
    await dialog.waitFor({ state: 'visible', timeout: 60_000 });
    const text = (await dialog.textContent()) ?? '';
    assert.match(
      text,
      /takes about 1,200 requests, at a price this extension does not know\. Asked because the price of this model is unknown and the job makes about 1,200 requests, more than 1,000\./,
    );
    await dialog.locator('.monaco-button', { hasText: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden', timeout: 15_000 });
    await page.waitForTimeout(1500);
    assert.equal(
      await page.locator('.statusbar-item', { hasText: /Labeling big\.jsonl/ }).count(),
      0,
      'no job started',
    );
    assert.equal(readFileSync(join(w!.workspace, 'big.jsonl'), 'utf8'), before);
  });
  test('a label job over a large file: the cost estimate shows how far it is, and its Cancel stops it before anything is sent', async () => {
    // 20,000 records of ~12 KB of text that tokenizes slowly (long made-up words): an estimate that
    // reads every record (at the sampling threshold, src/core/estimate.ts) and takes seconds.
    const file = join(w!.workspace, 'large.jsonl');
    const letters = 'qwxzjkvbpmfgdlhtrcsyn';
    let seed = 12345;
    const next = (): number => (seed = (seed * 1103515245 + 12345) & 0x7fffffff);
    const chunks: string[] = [];
    for (let i = 0; i < 20_000; i++) {
      let text = '';
      while (text.length < 12_000) {
        const n = 8 + (next() % 10);
        for (let k = 0; k < n; k++) text += letters.charAt(next() % letters.length);
        text += ' ';
      }
      chunks.push(`${JSON.stringify({ id: i, text, label: i % 2 ? 'positive' : 'negative' })}\n`);
    }
    writeFileSync(file, chunks.join(''));
    const digest = (): string => createHash('sha256').update(readFileSync(file)).digest('hex');
    const before = digest();
    const filesBefore = filesUnder(w!.workspace).sort();
    await runCommand(page, 'View: Close All Editors');
    await runCommand(page, 'View: Show Explorer');
    const row = page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'large.jsonl' }).first();
    await row.waitFor({ state: 'visible', timeout: 30_000 });
    await openContextMenu(page, row);
    await (await menuItem('Dataset Curator')).hover();
    await (await menuItem('Label Records with LLM…')).click();
    await labelZeroShot();
    // The estimate, as a job in the status bar with how far it is; its click offers to cancel it.
    const item = page.locator('.statusbar-item', { hasText: /Labeling large\.jsonl: estimating the cost/ }).first();
    await item.waitFor({ state: 'visible', timeout: 60_000 });
    const cancel = page.locator('.quick-input-list .monaco-list-row', { hasText: 'Cancel the Job' }).first();
    // (the editor that the job opened can take the focus and close a quick pick opened before it)
    await until(
      'the estimate`s Cancel',
      async () => {
        await item.click();
        return cancel.waitFor({ state: 'visible', timeout: 1500 }).then(
          () => true,
          () => false,
        );
      },
      30_000,
    );
    assert.match((await cancel.textContent()) ?? '', /nothing was sent yet/);
    assert.match(
      (await page.locator('.quick-input-widget .quick-input-title').textContent()) ?? '',
      /^Labeling large\.jsonl: estimating the cost · running for /,
    );
    assert.match(
      (await page.locator('.quick-input-widget input').getAttribute('placeholder')) ?? '',
      /^record [\d,]+ of 20,000$/,
    );
    await cancel.click();
    await notification(
      page,
      /Labeling large\.jsonl was cancelled while its cost was estimated\. Nothing was sent and no file was changed\./,
    );
    // No cost question, no job, the file as it was, no file added (no journal, no copy).
    assert.equal(await page.locator('.monaco-dialog-box').count(), 0, 'no cost question');
    assert.equal(await page.locator('.statusbar-item', { hasText: /Labeling large\.jsonl/ }).count(), 0, 'no job');
    assert.equal(digest(), before);
    assert.deepEqual(filesUnder(w!.workspace).sort(), filesBefore);
  });
});
