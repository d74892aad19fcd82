// The rest of the editor and the Datasets view, as a person: welcome content in an empty
// workspace; the context menus of the Datasets view and the Explorer (Open as Text, Reveal in
// Explorer, Reveal in Datasets View); go to line, next invalid, next unreviewed; revert; the
// question when the file changes on disk while there are unsaved edits, and the save conflict;
// list columns remembered after the editor is closed; the high-contrast look; clicks and menu
// picks in the Datasets view on a dataset that keeps changing.
import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Frame, Page } from 'playwright-core';
import {
  cleanup,
  closeWorkbench,
  makeWorkspace,
  openContextMenu,
  openWorkbench,
  runCommand,
  showDatasets,
  sideBarTitle,
  startWorkbench,
  until,
  webviewFrame,
  type CodeServer,
} from '../harness/vscode';

/** Replaces a file as editors and git do: a new file renamed over it. */
function replace(file: string, text: string): void {
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}

const mixed = [
  JSON.stringify({ text: 'one', label: 'a', annotations: { review: { status: 'reviewed' } } }),
  'not json',
  JSON.stringify({ text: 'three', label: 'b' }),
  JSON.stringify({ text: 'four', label: 'a', annotations: { review: { status: 'reviewed' } } }),
  '{broken',
  JSON.stringify({ text: 'six', label: 'b', annotations: { review: { status: 'reviewed' } } }),
];

describe('editor and Datasets view details, as a person', () => {
  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let workspace: string;
  let empty: string;

  before(async () => {
    workspace = makeWorkspace('samples');
    mkdirSync(join(workspace, 'mixed'), { recursive: true });
    writeFileSync(join(workspace, 'mixed', 'mixed.jsonl'), `${mixed.join('\n')}\n`);
    // Records taller than the editor: each a transcript of 150 turns.
    const transcript = (n: number) =>
      Array.from({ length: 150 }, (_, i) => `${i % 2 ? 'assistant' : 'user'} ${n}.${i}: turn ${i} of the talk`).join(
        '\n',
      );
    mkdirSync(join(workspace, 'long'), { recursive: true });
    writeFileSync(
      join(workspace, 'long', 'transcripts.jsonl'),
      `${[1, 2, 3].map((n) => JSON.stringify({ id: n, text: transcript(n), label: 'ok' })).join('\n')}\n`,
    );
    empty = mkdtempSync(join(tmpdir(), 'dc-empty-'));
    // VS Code for the web saves after a delay by default; these tests need unsaved edits to stay unsaved.
    ({ server, browser, page } = await startWorkbench(workspace, { settings: { 'files.autoSave': 'off' } }));
  });

  after(async () => {
    await closeWorkbench({ browser, server, workspace });
    if (empty) cleanup(empty);
  });

  const anyPanel = async () => {
    for (const f of page.frames()) if (await f.$('[data-testid="annotation-panel"]').catch(() => null)) return true;
    return false;
  };

  async function open(name: string): Promise<Frame> {
    await runCommand(page, 'View: Close All Editors');
    await until('no webview', async () => !(await anyPanel()));
    const item = page.locator('.part.sidebar .monaco-list-row', { hasText: name }).first();
    await until(
      `${name} in the Datasets view`,
      async () => {
        await showDatasets(page);
        return item.isVisible();
      },
      60_000,
    );
    await item.click();
    const frame = await webviewFrame(page, '[data-testid="annotation-panel"]');
    await until('the first record', async () =>
      ((await frame.locator('[data-testid="position"]').textContent()) ?? '').startsWith('Line 1 '),
    );
    return frame;
  }

  const position = async (f: Frame) => (await f.locator('[data-testid="position"]').textContent()) ?? '';
  const status = async (f: Frame) => (await f.locator('[data-testid="status"]').textContent()) ?? '';
  const label = async (f: Frame) =>
    ((await f.locator('[data-testid="annotation-panel"] [data-testid="label"]').first().textContent()) ?? '').trim();
  const focusRecord = async (f: Frame) => f.locator('[data-testid="position"]').click();
  async function press(f: Frame, key: string): Promise<void> {
    await focusRecord(f);
    await page.keyboard.press(key);
  }
  /** A notification with this text: its toast, or (when no toast shows, as in a headless window) its entry in the notification center. */
  async function notification(text: string) {
    const toast = page.locator('.notification-toast', { hasText: text });
    const entry = page.locator('.notifications-center .notification-list-item', { hasText: text });
    return until(
      `the notification "${text}"`,
      async () => {
        if (await toast.isVisible()) return toast;
        if (await entry.isVisible()) return entry;
        await runCommand(page, 'Notifications: Show Notifications');
        return (await entry.isVisible()) ? entry : undefined;
      },
      60_000,
    );
  }

  /**
   * The item of the open context menu, once a person could click it: VS Code's menu items take a
   * mouse-up only 100 ms after they are drawn (so the release of the right-click that opened the
   * menu picks nothing), and a click sooner does nothing.
   */
  async function menuItem(title: string) {
    const item = page.locator('.monaco-menu .action-label', { hasText: title }).first();
    await item.waitFor({ state: 'visible', timeout: 15_000 });
    await page.waitForTimeout(250);
    return item;
  }
  async function menuTitles(): Promise<string[]> {
    await page.locator('.monaco-menu .action-label').first().waitFor({ state: 'visible', timeout: 15_000 });
    return (await page.locator('.monaco-menu .action-label').allTextContents()).map((t) => t.trim()).filter(Boolean);
  }

  test('an empty workspace shows welcome content; a new dataset file then shows up', async () => {
    const { page: other, context } = await openWorkbench(browser!, server!.url({ folder: empty }));
    try {
      await showDatasets(other);
      const welcome = other.locator('.part.sidebar .welcome-view-content');
      await welcome.waitFor({ state: 'visible', timeout: 30_000 });
      assert.match(
        (await welcome.textContent()) ?? '',
        /No dataset files \(\*\.jsonl\) were found in this workspace\./,
      );
      assert.ok(
        await other.locator('.part.sidebar .welcome-view-content .monaco-button', { hasText: 'Refresh' }).isVisible(),
      );
      // A newcomer's way in: the sample and the walkthrough.
      for (const b of ['Open the Sample', 'Get Started'])
        assert.ok(
          await other.locator('.part.sidebar .welcome-view-content .monaco-button', { hasText: b }).isVisible(),
          b,
        );
      writeFileSync(join(empty, 'first.jsonl'), `${JSON.stringify({ text: 'hello', label: 'a' })}\n`);
      const row = other.locator('.part.sidebar .monaco-list-row', { hasText: 'first.jsonl' });
      await until('the new file with its figures', async () =>
        /1 records · 100% annotated/.test((await row.textContent().catch(() => '')) ?? ''),
      );
    } finally {
      await context.close();
    }
  });

  test('the Datasets view menu opens as text and reveals in the Explorer; the Explorer menu reveals in the Datasets view', async () => {
    await runCommand(page, 'View: Close All Editors');
    await showDatasets(page);
    const row = page.locator('.part.sidebar .monaco-list-row', { hasText: 'reviews.jsonl' }).first();
    await openContextMenu(page, row);
    const titles = await menuTitles();
    for (const t of [
      'Open in Curation Editor',
      'Open as Text',
      'Reveal in Explorer',
      'Filter Records…',
      'Label Records with LLM…',
      'Judge Records with LLM…',
    ])
      assert.ok(titles.includes(t), `${t} is in ${titles.join(' | ')}`);
    await (await menuItem('Open as Text')).click();
    // A text editor, not the curation editor: its first line is the file's first line.
    const first = readFileSync(join(workspace, 'samples/reviews.jsonl'), 'utf8').split('\n')[0]!;
    await until(
      'the text editor',
      async () =>
        ((await page.locator('.monaco-editor .view-line').first().textContent({ timeout: 2000 })) ?? '')
          .replace(/\u00a0/g, ' ')
          .startsWith(first.slice(0, 40)),
      60_000,
    );
    assert.equal(await anyPanel(), false, 'no curation editor opened');

    await openContextMenu(page, row);
    await (await menuItem('Reveal in Explorer')).click();
    const explorerRow = page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'reviews.jsonl' }).first();
    await until('selected in the Explorer', async () => (await explorerRow.getAttribute('aria-selected')) === 'true');

    // The Explorer's menu has one "Dataset Curator" submenu holding them.
    await openContextMenu(page, explorerRow);
    await (await menuItem('Dataset Curator')).hover();
    const reveal = await menuItem('Reveal in Datasets View');
    const explorerTitles = await menuTitles();
    for (const t of ['Open in Curation Editor', 'Open as Text', 'Reveal in Datasets View'])
      assert.ok(explorerTitles.includes(t), `${t} is in ${explorerTitles.join(' | ')}`);
    await reveal.click();
    await until('the Datasets view, the file selected', async () => {
      const title = await sideBarTitle(page);
      const selected = await page
        .locator('.part.sidebar .monaco-list-row[aria-selected="true"]', { hasText: 'reviews.jsonl' })
        .count();
      return title === 'datasets' && selected === 1;
    });
  });

  // A job writing a dataset keeps changing its figures in the Datasets view. Each change used to
  // refresh the whole view, and VS Code forgets the rows' handles until it has fetched them again:
  // a menu command picked in that moment got no row and did nothing. And a row's click, when it ran
  // a command of ours with arguments, did nothing in the moment after its row was refreshed.
  test('on a dataset that keeps changing, every click and every menu pick in the Datasets view does what it says', async () => {
    const busy = join(workspace, 'busy.jsonl');
    writeFileSync(busy, `${JSON.stringify({ text: 'line 0', label: 'a' })}\n`);
    const busyRow = page.locator('.part.sidebar .monaco-list-row', { hasText: 'busy.jsonl' }).first();
    await showDatasets(page);
    await until('busy.jsonl in the Datasets view', async () => busyRow.isVisible(), 60_000);
    let n = 1;
    const timer = setInterval(() => {
      writeFileSync(busy, `${JSON.stringify({ text: `line ${n++}`, label: 'a' })}\n`, { flag: 'a' });
    }, 300);
    try {
      const textEditor = page.locator('.editor-instance .monaco-editor .view-line').first();
      for (let i = 0; i < 8; i++) {
        await runCommand(page, 'View: Close All Editors');
        await until(
          'no editor',
          async () => (await page.locator('.editor-instance .monaco-editor').count()) === 0 && !(await anyPanel()),
        );
        await showDatasets(page);
        if (i % 2 === 0) {
          await openContextMenu(page, busyRow);
          await (await menuItem('Open as Text')).click();
          await until(
            `the text editor, pick ${i / 2 + 1} of 4`,
            async () =>
              ((await textEditor.textContent({ timeout: 1000 })) ?? '')
                .replace(/\u00a0/g, ' ')
                .startsWith('{"text":"line 0"'),
            10_000,
          );
        } else {
          await busyRow.click();
          await webviewFrame(page, '[data-testid="annotation-panel"]', 15_000).catch(() => {
            throw new Error(`click ${(i + 1) / 2} of 4 on busy.jsonl opened no curation editor`);
          });
        }
      }
      clearInterval(timer);
      // The view kept up with the changes meanwhile.
      assert.ok(n > 8, `the file changed meanwhile (${n} lines)`);
      await until(
        'busy.jsonl with its latest count',
        async () => ((await busyRow.textContent()) ?? '').includes(`${n} records`),
        30_000,
      );
    } finally {
      clearInterval(timer);
    }
  });

  test('go to line, in record and list mode; a line past the end says so', async () => {
    const frame = await open('reviews.jsonl');
    await press(frame, 'g');
    await frame.locator('[data-testid="goto-input"]').waitFor({ state: 'visible' });
    await page.keyboard.type('20');
    await page.keyboard.press('Enter');
    await until('line 20', async () => (await position(frame)) === 'Line 20 of 36');
    await press(frame, 'g');
    await page.keyboard.type('99');
    await page.keyboard.press('Enter');
    await until(
      'the last line, and why',
      async () =>
        (await position(frame)) === 'Line 36 of 36' &&
        (await status(frame)) === 'There is no line 99: the file has 36; this is the last',
    );
    await press(frame, 'l');
    await page.keyboard.press('g');
    await page.keyboard.type('10');
    await page.keyboard.press('Enter');
    await until(
      'row 10 selected',
      async () => ((await frame.locator('[data-testid="list-row"].selected .col-line').textContent()) ?? '') === '10',
    );
    await page.keyboard.press('l');
  });

  test('a record scrolled to its end: the next one (j) and the one before (k) start at their top', async () => {
    const frame = await open('transcripts.jsonl');
    const scroller = frame.locator('.record-scroll');
    const top = () => scroller.evaluate((e) => e.scrollTop);
    // A person's wheel over the record (the key presses below click the toolbar first).
    const scrollDown = async () => {
      const box = await scroller.boundingBox();
      assert.ok(box, 'the record on screen');
      await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      for (let k = 0; k < 40; k++) await page.mouse.wheel(0, 400);
    };
    await scrollDown();
    await until('the record scrolled down', async () => (await top()) > 1000);
    assert.match((await frame.locator('[data-field="text"]').textContent()) ?? '', /assistant 1\.149: turn 149/);
    await press(frame, 'j');
    await until('line 2', async () => (await position(frame)).startsWith('Line 2 '));
    assert.equal(await top(), 0, 'the next record from its top');
    await scrollDown();
    await until('line 2 scrolled down', async () => (await top()) > 1000);
    await press(frame, 'k');
    await until('line 1', async () => (await position(frame)).startsWith('Line 1 '));
    assert.equal(await top(), 0, 'the record before from its top');
  });

  test('next invalid (i) and next unreviewed (n), wrapping around', async () => {
    const frame = await open('mixed.jsonl');
    await press(frame, 'i');
    await until('the first invalid line', async () => (await position(frame)) === 'Line 2 of 6');
    assert.match((await frame.locator('[data-testid="invalid"]').textContent()) ?? '', /Invalid line: invalid JSON/);
    await press(frame, 'i');
    await until('the second', async () => (await position(frame)) === 'Line 5 of 6');
    await press(frame, 'i');
    await until(
      'wrapped, and said so',
      async () =>
        (await position(frame)) === 'Line 2 of 6' && (await status(frame)) === 'Wrapped to the first invalid line',
    );
    await press(frame, 'n');
    await until('the unreviewed record', async () => (await position(frame)) === 'Line 3 of 6');
    assert.equal(((await frame.locator('[data-field="text"] .field-value').textContent()) ?? '').trim(), 'three');
    await press(frame, 'n');
    await until('the only one', async () => (await status(frame)) === 'This is the only unreviewed record');
  });

  test('File: Revert drops the unsaved edit; the file on disk never changed', async () => {
    const file = join(workspace, 'samples/reviews.jsonl');
    const disk = readFileSync(file, 'utf8');
    const frame = await open('reviews.jsonl');
    const was = await label(frame);
    await press(frame, '2');
    await until('relabeled', async () => (await label(frame)) === 'neutral');
    await until('the dirty marker', async () => !(await frame.locator('[data-testid="dirty"]').isHidden()));
    await runCommand(page, 'File: Revert File');
    await until('reverted', async () => (await label(frame)) === was);
    await until('clean again', async () => frame.locator('[data-testid="dirty"]').isHidden());
    assert.equal(readFileSync(file, 'utf8'), disk);
  });

  test('a change on disk while there are unsaved edits asks; keeping them, the save then asks before overwriting', async () => {
    const file = join(workspace, 'mixed/mixed.jsonl');
    const frame = await open('mixed.jsonl');
    await press(frame, '2'); // line 1: relabel as the second label (b)
    await until('relabeled', async () => (await label(frame)) === 'b');
    const lines = readFileSync(file, 'utf8').split('\n');
    lines[5] = JSON.stringify({ text: 'six, changed by another program', label: 'a' });
    replace(file, lines.join('\n'));
    const toast = await notification('mixed.jsonl changed on disk, and you have unsaved edits in the Curation Editor.');
    assert.ok(await toast.locator('.monaco-button', { hasText: 'Reload from Disk (discard my edits)' }).isVisible());
    await toast.locator('.monaco-button', { hasText: 'Keep My Edits' }).click();
    assert.equal(await label(frame), 'b', 'the unsaved edit is still there');

    await press(frame, 'Control+s');
    const dialog = page.locator('.monaco-dialog-box', {
      hasText: 'mixed.jsonl changed on disk since it was opened. Your edits were not saved.',
    });
    await dialog.waitFor({ state: 'visible', timeout: 30_000 });
    assert.match(readFileSync(file, 'utf8'), /changed by another program/, 'nothing was written before the answer');
    await dialog.locator('.monaco-button', { hasText: 'Overwrite' }).click();
    await until(
      'saved over',
      async () => (JSON.parse(readFileSync(file, 'utf8').split('\n')[0]!) as { label: string }).label === 'b',
    );
    const saved = readFileSync(file, 'utf8').split('\n');
    assert.equal(saved[5], mixed[5], 'the user chose to overwrite the other change: the editor’s version is on disk');
    await until('clean', async () => frame.locator('[data-testid="dirty"]').isHidden());
  });

  test('a change on disk while there are unsaved edits: reload from disk shows the new content', async () => {
    const file = join(workspace, 'mixed/mixed.jsonl');
    const frame = await open('mixed.jsonl');
    await press(frame, '1');
    await until('relabeled', async () => (await label(frame)) === 'a');
    const lines = readFileSync(file, 'utf8').split('\n');
    lines[0] = JSON.stringify({ text: 'one, rewritten elsewhere', label: 'b' });
    replace(file, lines.join('\n'));
    const toast = await notification('mixed.jsonl changed on disk');
    await toast.locator('.monaco-button', { hasText: 'Reload from Disk (discard my edits)' }).click();
    await until(
      'the new content',
      async () =>
        ((await frame.locator('[data-field="text"] .field-value').textContent()) ?? '').trim() ===
        'one, rewritten elsewhere',
    );
    assert.equal(await label(frame), 'b');
    await until('clean', async () => frame.locator('[data-testid="dirty"]').isHidden());
  });

  test('a rewrite in place while there are unsaved edits: the edits are saved aside, and can be opened', async () => {
    const file = join(workspace, 'mixed/mixed.jsonl');
    const frame = await open('mixed.jsonl');
    await press(frame, 'j');
    await until('line 2', async () => (await position(frame)).startsWith('Line 2 '));
    await press(frame, 'j');
    await until('line 3', async () => (await position(frame)).startsWith('Line 3 '));
    await press(frame, '1');
    await until('relabeled', async () => (await label(frame)) === 'a');
    writeFileSync(file, `${JSON.stringify({ text: 'all new, written in place', label: 'b' })}\n`); // same file, truncated
    const note = await notification(
      'mixed.jsonl was rewritten in place by another program while you had unsaved edits',
    );
    assert.match(
      (await note.textContent()) ?? '',
      /Your 1 edited line\(s\) were saved to mixed\.unsaved-edits-[\dT-]+Z\.jsonl/,
    );
    await until(
      'the new content',
      async () =>
        (
          (await frame
            .locator('[data-field="text"] .field-value')
            .textContent()
            .catch(() => '')) ?? ''
        ).trim() === 'all new, written in place',
    );
    assert.equal(await position(frame), 'Line 1 of 1');
    await note.locator('.monaco-button', { hasText: 'Open Saved Edits' }).click();
    await until(
      'the saved edits in a text editor',
      async () =>
        /"line":3,"text":".*three/.test(
          ((await page.locator('.monaco-editor .view-line').first().textContent({ timeout: 2000 })) ?? '').replace(
            /\u00a0/g,
            ' ',
          ),
        ),
      60_000,
    );
  });

  test('list columns chosen for a file are there again after the editor is closed and reopened', async () => {
    let frame = await open('reviews.jsonl');
    await press(frame, 'l');
    await frame.locator('[data-testid="column-picker"]').click();
    await frame.locator('[data-testid="column-picker-menu"] vscode-checkbox[data-column="id"]').click();
    const headers = async (f: Frame) =>
      (await f.locator('.list-header .list-cell').allTextContents()).map((t) => t.trim());
    await until('the id column', async () => (await headers(frame)).includes('id'));
    await until(
      'an id cell',
      async () =>
        ((await frame.locator('[data-testid="list-row"] .col-field').first().textContent()) ?? '') === 'rev-0001',
    );
    frame = await open('reviews.jsonl');
    await press(frame, 'l');
    await until('the id column again', async () => (await headers(frame)).join('|') === 'Line|Label|Score|id|text');
  });

  // Last: it leaves the workbench in the high-contrast theme.
  test('high contrast: outlines for the selected row and the current view, borders on chips', async () => {
    // The theme, as a person picks it: the color theme picker (Ctrl+K Ctrl+T), Dark High Contrast.
    await until(
      'the workbench in high contrast',
      async () => {
        if (((await page.locator('.monaco-workbench').getAttribute('class')) ?? '').includes('hc-black')) return true;
        await page.keyboard.press('Escape');
        await page
          .locator('.monaco-workbench')
          .click({ position: { x: 700, y: 5 } })
          .catch(() => undefined);
        await page.keyboard.press('Control+K');
        await page.keyboard.press('Control+T');
        const input = page.locator('.quick-input-widget input');
        await input.waitFor({ state: 'visible', timeout: 10_000 });
        await input.fill('Dark High Contrast');
        const row = page.locator('.quick-input-list .monaco-list-row', { hasText: 'Dark High Contrast' }).first();
        await row.waitFor({ state: 'visible', timeout: 10_000 });
        await row.click();
        await until(
          'the theme applied',
          async () =>
            ((await page.locator('.monaco-workbench').getAttribute('class')) ?? '').includes('hc-black') || undefined,
          10_000,
        ).catch(() => undefined);
        return undefined;
      },
      120_000,
    );
    {
      const frame = await open('reviews.jsonl');
      await until(
        'the high-contrast classes',
        async () => (await frame.evaluate('document.body.classList.contains("vscode-high-contrast")')) === true,
      );
      const style = async (selector: string) =>
        await frame.evaluate<{ outline: string; border: string }>(
          `(() => { const s = getComputedStyle(document.querySelector(${JSON.stringify(selector)})); return { outline: s.outlineStyle + ' ' + s.outlineColor, border: s.borderTopStyle + ' ' + s.borderTopWidth + ' ' + s.borderTopColor }; })()`,
        );
      const visible = (c: string) => !/transparent|rgba\(0, 0, 0, 0\)/.test(c) && !/^none/.test(c);
      assert.ok(
        visible((await style('[data-testid="annotation-panel"] .chip-label')).border),
        'the label chip has a border',
      );
      assert.ok(visible((await style('.tab[aria-selected="true"]')).border), 'the current view tab has a border');
      await press(frame, 'l');
      await until(
        'a selected row',
        async () => (await frame.locator('[data-testid="list-row"].selected').count()) === 1,
      );
      assert.ok(visible((await style('[data-testid="list-row"].selected')).outline), 'the selected row has an outline');
      await page.keyboard.press('l');
    }
  });
});
