// Acting as a person in the curation editor: relabel with a click and with a number key, accept a
// suggestion with `a`, undo, redo, save, edit a field inline, filter by label; then check the file
// on disk changed in exactly the edited lines. (The XSS corpus is in xss.e2e.ts.)
import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Frame, Page } from 'playwright-core';
import { acquireLock } from '../../src/core/store/lock';
import {
  closeWorkbench,
  makeWorkspace,
  runCommand,
  showDatasets,
  startWorkbench,
  until,
  webviewFrame,
  type CodeServer,
} from '../harness/vscode';

describe('curation editor, as a person', () => {
  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let workspace: string;
  const dialogs: string[] = [];

  before(async () => {
    workspace = makeWorkspace('samples');
    ({ server, browser, page } = await startWorkbench(workspace, { dialogs }));
  });

  after(async () => {
    await closeWorkbench({ browser, server, workspace });
  });

  async function open(name: string): Promise<Frame> {
    // One curation editor at a time, so that the webview found is this file's.
    await runCommand(page, 'View: Close All Editors');
    await until('no webview', async () => !(await anyPanel()));
    await showDatasets(page);
    const item = page.locator('.monaco-list-row', { hasText: name }).first();
    await item.waitFor({ state: 'visible', timeout: 30_000 });
    await item.click();
    const frame = await webviewFrame(page, '[data-testid="annotation-panel"]');
    await until('the first record', async () =>
      ((await frame.locator('[data-testid="position"]').textContent()) ?? '').startsWith('Line 1 '),
    );
    return frame;
  }

  const anyPanel = async () => {
    for (const f of page.frames()) if (await f.$('[data-testid="annotation-panel"]').catch(() => null)) return true;
    return false;
  };
  const position = async (f: Frame) => (await f.locator('[data-testid="position"]').textContent()) ?? '';
  const label = async (f: Frame) =>
    ((await f.locator('[data-testid="annotation-panel"] [data-testid="label"]').first().textContent()) ?? '').trim();
  // Focus the webview without landing on anything editable: the position text in the toolbar.
  const focusRecord = async (f: Frame) => f.locator('[data-testid="position"]').click();
  /** Presses a key in the webview until the record it leads to is showing (keys can race focus). */
  async function keyTo(f: Frame, key: string, line: number): Promise<void> {
    await until(`line ${line}`, async () => {
      if ((await position(f)).startsWith(`Line ${line} `)) return true;
      await focusRecord(f);
      await page.keyboard.press(key);
      await new Promise((r) => setTimeout(r, 300));
      return (await position(f)).startsWith(`Line ${line} `);
    });
  }

  test('relabel by click and by number key, accept with a, undo, redo, save: only those lines change', async () => {
    const file = join(workspace, 'samples/reviews.jsonl');
    const before = readFileSync(file, 'utf8').split('\n');
    const frame = await open('reviews.jsonl');
    await focusRecord(frame);

    // Line 1: the human said positive, the model suggested negative. Accept the suggestion: `a`.
    await page.keyboard.press('a');
    await until('accepted label', async () => (await label(frame)) === 'negative');

    // Line 2: number key 2 is the second label of the set (negative, neutral, positive).
    await page.keyboard.press('j');
    await until('line 2', async () => (await position(frame)).startsWith('Line 2 '));
    await page.keyboard.press('2');
    await until('relabel by key', async () => (await label(frame)) === 'neutral');

    // Line 3: a click on a label button.
    await page.keyboard.press('j');
    await until('line 3', async () => (await position(frame)).startsWith('Line 3 '));
    await frame.locator('[data-testid="relabel-positive"]').click();
    await until('relabel by click', async () => (await label(frame)) === 'positive');

    // Undo the click, then redo it, with VS Code's keys.
    await focusRecord(frame);
    await page.keyboard.press('Control+z');
    await until('undo', async () => (await label(frame)) !== 'positive');
    await page.keyboard.press('Control+Shift+z');
    await until('redo', async () => (await label(frame)) === 'positive');

    await page.keyboard.press('Control+s');
    const after = await until('the save', async () => {
      const now = readFileSync(file, 'utf8').split('\n');
      return now.slice(0, 3).join() !== before.slice(0, 3).join() &&
        (JSON.parse(now[2] ?? '{}') as { label?: string }).label === 'positive'
        ? now
        : undefined;
    });
    assert.equal(after.length, before.length);
    after.forEach((line, i) => {
      if (i > 2) assert.equal(line, before[i], `line ${i + 1} is byte-identical`);
    });
    const rec = (i: number) =>
      JSON.parse(after[i] ?? '{}') as {
        label: string;
        annotations: { suggestions: unknown; human: { label: { value: string } } };
      };
    const was = (i: number) => JSON.parse(before[i] ?? '{}') as ReturnType<typeof rec>;
    assert.deepEqual([rec(0).label, rec(1).label, rec(2).label], ['negative', 'neutral', 'positive']);
    for (const i of [0, 1, 2]) {
      assert.deepEqual(
        rec(i).annotations.suggestions,
        was(i).annotations.suggestions,
        `line ${i + 1}: the model's suggestion is kept`,
      );
      assert.equal(rec(i).annotations.human.label.value, rec(i).label, `line ${i + 1}: the human decision is stored`);
    }
  });

  test('edit a field inline, save, and see it on disk', async () => {
    const file = join(workspace, 'samples/reviews.jsonl');
    const before = readFileSync(file, 'utf8').split('\n');
    const frame = await webviewFrame(page, '[data-testid="annotation-panel"]');
    await keyTo(frame, 'Home', 1);
    await frame.locator('[data-field="text"] .field-value').click();
    const editor = frame.locator('[data-testid="field-editor"]');
    await editor.waitFor({ state: 'visible' });
    await editor.fill('Battery lasts two days. Edited by a person.');
    await editor.press('Enter');
    await until(
      'the edited text',
      async () =>
        (await frame.locator('[data-field="text"] .field-value').textContent()) ===
        'Battery lasts two days. Edited by a person.',
    );
    await focusRecord(frame);
    await page.keyboard.press('Control+s');
    const after = await until('the save', async () => {
      const now = readFileSync(file, 'utf8').split('\n');
      return now[0] !== before[0] ? now : undefined;
    });
    assert.equal(
      (JSON.parse(after[0] ?? '{}') as { text: string }).text,
      'Battery lasts two days. Edited by a person.',
    );
    after.forEach((line, i) => {
      if (i > 0) assert.equal(line, before[i], `line ${i + 1} is byte-identical`);
    });
  });

  test('filter by label and step through the matches', async () => {
    const file = join(workspace, 'samples/reviews.jsonl');
    const neutral = readFileSync(file, 'utf8')
      .split('\n')
      .map((l, i) => ({ i, l }))
      .filter(({ l }) => l && (JSON.parse(l) as { label: string }).label === 'neutral')
      .map(({ i }) => i + 1);
    const frame = await webviewFrame(page, '[data-testid="search-bar"]');
    await frame.locator('[data-testid="search-label"]').click();
    await frame.getByRole('option', { name: 'neutral' }).click();
    await until('the match count', async () =>
      ((await frame.locator('[data-testid="search-count"]').textContent()) ?? '').includes(String(neutral.length)),
    );
    const seen: number[] = [];
    for (let k = 0; k < neutral.length; k++) {
      await frame.locator('[data-testid="search-next"]').click();
      const line = await until('a match', async () => {
        const m = /^Line (\d+) /.exec(await position(frame));
        const n = m ? Number(m[1]) : undefined;
        return n !== undefined && !seen.includes(n) ? n : undefined;
      });
      seen.push(line);
      assert.equal(await label(frame), 'neutral');
    }
    assert.deepEqual(
      [...seen].sort((a, b) => a - b),
      neutral,
    );
  });

  test('a relabel made while the file is being saved (another writer holds its lock) waits for the save, then is applied', async () => {
    const file = join(workspace, 'samples/reviews.jsonl');
    const onDisk = (line: number) =>
      (JSON.parse(readFileSync(file, 'utf8').split('\n')[line - 1] ?? '{}') as { label?: string }).label;
    // The number key of a label other than the record's (the set: negative, neutral, positive).
    const other = (l: string): [string, string] => (l === 'positive' ? ['1', 'negative'] : ['3', 'positive']);
    const status = async (f: Frame) => (await f.locator('[data-testid="status"]').textContent()) ?? '';
    const frame = await open('reviews.jsonl');
    await keyTo(frame, 'j', 6);
    const [key6, label6] = other(await label(frame));
    await page.keyboard.press(key6);
    await until('line 6 relabeled', async () => (await label(frame)) === label6);

    // Another writer (a CLI run, say) is replacing the file: VS Code's save waits for its lock.
    const lock = await acquireLock(file);
    let held = true;
    try {
      await page.keyboard.press('Control+s');
      await new Promise((r) => setTimeout(r, 500));
      assert.notEqual(onDisk(6), label6, 'the save waits for the lock');
      await keyTo(frame, 'j', 7);
      const [key7, label7] = other(await label(frame));
      await page.keyboard.press(key7); // during the save: the store takes no edit until it ends
      await new Promise((r) => setTimeout(r, 500));
      lock.release();
      held = false;
      await until('line 7 relabeled', async () => (await label(frame)) === label7);
      assert.doesNotMatch(await status(frame), /failed/i, 'the relabel was not refused');
      await until('line 6 saved', async () => onDisk(6) === label6);
      assert.notEqual(onDisk(7), label7, 'the relabel came after the save began: it is unsaved');
      await focusRecord(frame);
      await page.keyboard.press('Control+s');
      await until('line 7 saved', async () => onDisk(7) === label7);
    } finally {
      if (held) lock.release();
    }
  });
});
