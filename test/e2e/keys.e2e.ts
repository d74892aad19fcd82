// The curation editor's keys as a person sets them (datasetCurator.editor.keys, WCAG 2.1.4): a
// rebound key runs its action and the old one does nothing, a key turned off does nothing, the
// help overlay shows the keys in effect, and a change of the setting applies to the open editor.
// Also: the page's own relabel is not echoed back for a refetch (its `changed` says `edited`).
import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Frame, Locator } from 'playwright-core';
import { openFromDatasets, runCommand, until, workbenchSession } from '../harness/vscode';

describe('curation editor keys, rebound', () => {
  // No auto save: a save is a change of its own (the page's `changed` events are counted).
  const session = workbenchSession({
    settings: { 'datasetCurator.editor.keys': { accept: 'y', relabel2: '' }, 'files.autoSave': 'off' },
  });

  const position = async (f: Frame) => (await f.locator('[data-testid="position"]').textContent()) ?? '';
  const label = async (f: Frame) =>
    ((await f.locator('[data-testid="annotation-panel"] [data-testid="label"]').first().textContent()) ?? '').trim();
  const focusRecord = async (f: Frame) => f.locator('[data-testid="position"]').click();
  const settle = () => new Promise((r) => setTimeout(r, 800));
  /** The keys the help overlay shows for an action (its first cell's text). */
  const keysOf = async (help: Locator, what: string) =>
    ((await help.locator('tr', { hasText: what }).first().locator('.keys-cell').textContent()) ?? '')
      .replace(/\s+/g, ' ')
      .trim();

  test('on opening, the record has the focus without a click: the keys move through the file', async () => {
    const { page } = session;
    const frame = await openFromDatasets(page, 'reviews.jsonl');
    // The focus is given at the page's first frame, not in its first script (docs/performance.md);
    // the keys reach it once VS Code has given the editor the focus (before that, they go to the
    // Datasets view that was clicked), which is when a person would see it focused.
    await until('the record focused', () =>
      frame.evaluate<boolean>(
        `document.hasFocus() && document.activeElement?.classList.contains('record-scroll') === true`,
      ),
    );
    assert.match(await position(frame), /^Line 1 /);
    await page.keyboard.press('j');
    await until('line 2 by the key alone', async () => /^Line 2 /.test(await position(frame)));
    await page.keyboard.press('k');
    await until('line 1 again', async () => /^Line 1 /.test(await position(frame)));
  });

  test('a rebound key accepts, the old key and a key turned off do nothing; the help shows the keys in effect', async () => {
    const { page } = session;
    const frame = await openFromDatasets(page, 'reviews.jsonl');
    // The page's own view of the host's messages: its events, and one response per request it made.
    await frame.evaluate(`(() => {
      window.changes = [];
      window.responses = 0;
      window.addEventListener('message', (e) => {
        if (e.data && e.data.kind === 'event' && e.data.type === 'changed') window.changes.push(e.data);
        if (e.data && e.data.kind === 'response') window.responses++;
      });
    })()`);
    // Line 1: the human said positive, the model suggested negative.
    const first = await label(frame);
    await focusRecord(frame);
    await page.keyboard.press('a');
    await settle();
    assert.equal(await label(frame), first, '"a" is no longer accept');
    await frame.evaluate('window.responses = 0');
    await page.keyboard.press('y');
    await until('accepted with y', async () => (await label(frame)) === 'negative');
    await settle();
    assert.equal(
      await frame.evaluate('window.responses'),
      1,
      'one request for the key press: the edit (the record is not fetched again)',
    );
    // The page had the record (the edit's answer): the host said so instead of making it fetch again.
    const changes = await until('the change', async () => {
      const c = await frame.evaluate<{ edited?: number; focus?: number }[]>('window.changes');
      return c.length > 0 ? c : undefined;
    });
    assert.deepEqual(
      changes.map((c) => c.edited),
      [0],
      JSON.stringify(changes),
    );

    await page.keyboard.press('j');
    await until('line 2', async () => (await position(frame)).startsWith('Line 2 '));
    const second = await label(frame);
    await page.keyboard.press('2');
    await settle();
    assert.equal(await label(frame), second, '"2" is turned off');

    await page.keyboard.press('?');
    const help = frame.locator('[data-testid="help"]');
    await help.waitFor({ state: 'visible' });
    assert.equal(await keysOf(help, "Accept the model's suggestion"), 'y');
    assert.equal(await keysOf(help, 'Relabel with the n-th label'), '1 / 3 … 9');
    await page.keyboard.press('Escape');
    await help.waitFor({ state: 'hidden' });
  });

  test('a change of the setting, made in the settings editor, applies to the open editor', async () => {
    const { page, server } = session;
    const settings = JSON.parse(readFileSync(join(server.userDataDir, 'User', 'settings.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    // As a person would: the user settings (JSON) beside the editor, its text replaced, saved.
    await runCommand(page, 'Preferences: Open User Settings (JSON)');
    await page
      .locator('.tab.active', { hasText: 'settings.json' })
      .first()
      .waitFor({ state: 'visible', timeout: 30_000 });
    const right = page.locator('.editor-group-container').last();
    await until(
      'the settings in a group of their own',
      async () => {
        if (
          (await page.locator('.editor-group-container').count()) >= 2 &&
          (await right.locator('.tab', { hasText: 'settings.json' }).count()) > 0
        )
          return true;
        await runCommand(page, 'View: Move Editor into Right Group');
        await new Promise((r) => setTimeout(r, 1000));
        return false;
      },
      60_000,
    );
    const wanted = { ...settings, 'datasetCurator.editor.keys': { accept: '', reject: 'y' } };
    const saved = () =>
      (
        JSON.parse(readFileSync(join(server.userDataDir, 'User', 'settings.json'), 'utf8')) as Record<
          string,
          { reject?: string }
        >
      )['datasetCurator.editor.keys']?.reject === 'y';
    // (Keys can land while the editor is still taking focus: tried again until it is saved.)
    await until(
      'the settings saved',
      async () => {
        // Focused, not clicked: the webview's frame lies over the editor area for the pointer.
        await right
          .locator('.monaco-editor textarea, .monaco-editor .native-edit-context')
          .first()
          .focus({ timeout: 10_000 });
        await page.keyboard.press('Control+a');
        await page.keyboard.insertText(JSON.stringify(wanted));
        // What the editor closed by itself after the cursor goes.
        await page.keyboard.press('Shift+Control+End');
        await page.keyboard.press('Delete');
        await page.keyboard.press('Control+s');
        await new Promise((r) => setTimeout(r, 1000));
        return saved();
      },
      90_000,
    );
    const editor = await until('the page', async () => {
      for (const f of page.frames()) if (await f.$('[data-testid="help"]').catch(() => null)) return f;
      return undefined;
    });
    const help = editor.locator('[data-testid="help"]');
    await until(
      'the help shows the new keys',
      async () => (await keysOf(help, "Reject the model's suggestion")) === 'y',
      60_000,
    );
    assert.equal(await keysOf(help, "Accept the model's suggestion"), 'off');
  });
});
