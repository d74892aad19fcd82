// Acting as a person: "Generate Preferences…" from the Datasets view against the project's
// loopback OpenAI-compatible server (real HTTP, real SDK), answer its questions, watch the
// progress, see the pairs open in the Curation Editor side by side, swap one with the key `x`, save
// with Ctrl+S, and check the file on disk: the swapped line changed exactly as expected, every
// other line is byte-identical.
import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Frame, Page } from 'playwright-core';
import { openLlmWorkbench, type LlmWorkbench } from '../support/llm-workbench';
import { runCommand, showDatasets, until, webviewFrame } from '../harness/vscode';

interface Pair {
  chosen: { role: string; content: string }[];
  rejected: { role: string; content: string }[];
  chosen_rating: number;
  rejected_rating: number;
  chosen_model: string;
  rejected_model: string;
  ratings: number[];
  annotations: {
    origin: { type: string; task: string };
    human?: { preference: { value: string; status: string } };
    review?: { status: string };
  };
  [k: string]: unknown;
}

describe('generation, as a person', () => {
  let w: LlmWorkbench | undefined;
  let page: Page;
  let workspace: string;

  before(async () => {
    w = await openLlmWorkbench(['--latency', '100', '--synth'], { apiKey: 'sk-e2e-generate' });
    ({ page, workspace } = w);
  });

  after(async () => {
    await w?.close();
  });

  /** Answers the quick input that shows `prompt` with Enter, keeping the value it offers. */
  async function accept(prompt: string, value?: RegExp): Promise<void> {
    const widget = page.locator('.quick-input-widget');
    await until(
      `the question "${prompt}"`,
      async () => (await widget.isVisible()) && ((await widget.textContent()) ?? '').includes(prompt),
      30_000,
    );
    const input = widget.locator('input').first();
    if (value) assert.match(await input.inputValue(), value);
    await input.press('Enter');
  }

  const pairFrame = (): Promise<Frame> => webviewFrame(page, '[data-testid="preference"]:not([hidden])', 60_000);

  test('Generate Preferences… from the Datasets view; swap a pair with x; save; only that line changes on disk', async () => {
    const input = join(workspace, 'samples/reviews.jsonl');
    const output = join(workspace, 'samples/reviews.preferences.jsonl');
    const inputBefore = readFileSync(input);

    // (the extension host can take a while to come up on a loaded machine)
    await page.locator('.activitybar [aria-label^="Datasets"]').first().waitFor({ state: 'visible', timeout: 120_000 });
    await showDatasets(page);
    const item = page.locator('.monaco-list-row', { hasText: 'reviews.jsonl' }).first();
    await item.waitFor({ state: 'visible', timeout: 60_000 }).catch(async (e: unknown) => {
      await page.screenshot({ path: '/tmp/e2e-generate-tree.png' });
      throw e;
    });
    await item.click({ button: 'right' });
    const entry = page.locator('.monaco-menu .action-menu-item', { hasText: 'Generate Preferences' }).first();
    await entry.hover();
    await entry.press('Enter');

    await accept('The new file the generated records go to', /reviews\.preferences\.jsonl$/);
    await accept('Candidate responses per prompt', /^2$/);
    await accept('Candidate models', /^fake-model$/);
    await accept('The judge model', /^fake-model$/);

    // Progress in the status bar, then the records on disk, then the summary.
    await until(
      'the progress',
      async () =>
        (await page
          .locator('.statusbar-item', { hasText: /Generating preference pairs into reviews\.preferences\.jsonl/ })
          .count()) > 0,
      30_000,
    );
    await runCommand(page, 'Notifications: Show Notifications');
    const summary = await until(
      'the summary',
      async () => {
        const n = page.locator('.notifications-center .notification-list-item', {
          hasText:
            /Generating preference pairs into reviews\.preferences\.jsonl: \d+ record\(s\) written to \S*reviews\.preferences\.jsonl; 36 input record\(s\): \d+ ok, \d+ skipped, 0 failed/,
        });
        return (await n.count()) > 0 ? ((await n.first().textContent()) ?? '') : undefined;
      },
      90_000,
    );
    const written = Number(/: (\d+) record\(s\) written to/.exec(summary)?.[1]);
    assert.ok(written > 20 && written <= 36, summary);
    assert.ok(existsSync(output));
    const before = readFileSync(output);
    const beforeLines = before.toString('utf8').split('\n');
    assert.equal(beforeLines.length, written + 1, 'one pair a line, then the final newline');
    const first = JSON.parse(beforeLines[0] ?? '{}') as Pair;
    assert.equal(first.annotations.origin.type, 'model');
    assert.equal(first.annotations.origin.task, 'preferences');
    assert.ok(first.chosen_rating > first.rejected_rating);
    assert.deepEqual(readFileSync(input), inputBefore, 'the input is untouched');

    // The pairs are open in the Curation Editor, side by side.
    const frame = await pairFrame();
    await until(
      'line 1',
      async () =>
        ((await frame.locator('[data-testid="position"]').textContent()) ?? '').startsWith(`Line 1 of ${written}`),
      30_000,
    );
    const text = async (id: string) =>
      ((await frame.locator(`[data-testid="${id}"]`).first().textContent()) ?? '').trim();
    assert.equal(await text('chosen-rating'), String(first.chosen_rating));
    assert.equal(await text('rejected-rating'), String(first.rejected_rating));
    assert.equal(await text('chosen-text'), first.chosen.at(-1)?.content);
    assert.equal(await text('rejected-text'), first.rejected.at(-1)?.content);
    assert.equal(await text('pair-prompt'), first.prompt);

    // The help lists the key.
    await frame.locator('[data-testid="position"]').click();
    await page.keyboard.press('?');
    await until('the help', async () =>
      ((await frame.locator('[data-testid="help"]').textContent()) ?? '').includes('Swap chosen and rejected'),
    );
    await page.keyboard.press('Escape');
    await until('the help closed', async () => !(await frame.locator('[data-testid="help"]').isVisible()));

    // x swaps the pair: one undoable edit, the file dirty, nothing written yet.
    await until('the swap on screen', async () => {
      if (
        (await text('chosen-rating')) === String(first.rejected_rating) &&
        (await frame.locator('[data-testid="pair-human"]').count()) > 0
      )
        return true;
      if ((await text('chosen-rating')) === String(first.chosen_rating)) {
        await frame.locator('[data-testid="position"]').click();
        await page.keyboard.press('x');
      }
      await new Promise((r) => setTimeout(r, 300));
      return false;
    });
    assert.equal(await text('chosen-text'), first.rejected.at(-1)?.content);
    assert.equal(await text('rejected-text'), first.chosen.at(-1)?.content);
    assert.equal(await text('chosen-model'), first.rejected_model);
    assert.deepEqual(readFileSync(output), before, 'nothing is written before a save');
    await page
      .locator('.tabs-container .tab.dirty', { hasText: 'reviews.preferences.jsonl' })
      .waitFor({ state: 'visible', timeout: 15_000 });

    await frame.locator('[data-testid="position"]').click();
    await page.keyboard.press('Control+s');
    const after = await until('the save', async () => {
      const now = readFileSync(output);
      return now.equals(before) ? undefined : now;
    });
    const afterLines = after.toString('utf8').split('\n');
    assert.equal(afterLines.length, beforeLines.length);
    afterLines.forEach((line, i) => {
      if (i > 0) assert.equal(line, beforeLines[i], `line ${i + 1} is byte-identical`);
    });
    // Every other byte of the file is the same: the swapped line is the only difference.
    assert.deepEqual(
      after.subarray(Buffer.byteLength(afterLines[0] ?? '')),
      before.subarray(Buffer.byteLength(beforeLines[0] ?? '')),
    );
    const swapped = JSON.parse(afterLines[0] ?? '{}') as Pair;
    assert.deepEqual(Object.keys(swapped), Object.keys(first), 'the same fields, in the same order');
    assert.deepEqual(swapped.chosen, first.rejected);
    assert.deepEqual(swapped.rejected, first.chosen);
    assert.equal(swapped.chosen_rating, first.rejected_rating);
    assert.equal(swapped.rejected_rating, first.chosen_rating);
    assert.equal(swapped.chosen_model, first.rejected_model);
    assert.equal(swapped.rejected_model, first.chosen_model);
    assert.deepEqual(swapped.ratings, first.ratings, "the judge's ratings are kept");
    assert.equal(swapped.annotations.human?.preference.value, 'swapped');
    assert.equal(swapped.annotations.review?.status, 'reviewed');
    assert.deepEqual(swapped.annotations.origin, first.annotations.origin);
    for (const k of Object.keys(first)) {
      if (
        ![
          'chosen',
          'rejected',
          'chosen_rating',
          'rejected_rating',
          'chosen_model',
          'rejected_model',
          'annotations',
        ].includes(k)
      )
        assert.deepEqual(swapped[k], first[k], `${k} is unchanged`);
    }
  });
});
