// Acting as a person: run "Label Records with LLM…" on a file from the Datasets view against the
// project's loopback OpenAI-compatible server (real HTTP, real SDK), watch the progress, see the
// labels in the Curation Editor and on disk; then filter a file with a dry run, tag, and undo.
import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Frame, Page } from 'playwright-core';
import {
  filesUnder,
  notification,
  openFromDatasets,
  repoRoot,
  runCommand,
  showDatasets,
  until,
  webviewFrame,
} from '../harness/vscode';
import { openLlmWorkbench, type LlmWorkbench } from '../support/llm-workbench';

const FAKE_KEY = 'sk-e2e-fake-key-4242';

describe('LLM jobs and filters, as a person', () => {
  let w: LlmWorkbench | undefined;
  let page: Page;
  let workspace: string;

  before(async () => {
    w = await openLlmWorkbench(['--latency', '250'], { apiKey: FAKE_KEY });
    ({ page, workspace } = w);
  });

  after(async () => {
    await w?.close();
  });

  async function treeAction(file: string, action: string): Promise<void> {
    await showDatasets(page);
    const item = page.locator('.monaco-list-row', { hasText: file }).first();
    await item.waitFor({ state: 'visible', timeout: 30_000 });
    const entry = page.locator('.monaco-menu .action-menu-item', { hasText: action }).first();
    // Right after the window opens, the menu can close as the workbench moves the focus (its
    // views settling): right-clicked again, as a person would.
    await until(
      `the context menu with ${action}`,
      async () => {
        await item.click({ button: 'right' });
        const shown = await entry.waitFor({ state: 'visible', timeout: 3000 }).then(
          () => true,
          () => false,
        );
        if (!shown) await page.keyboard.press('Escape');
        return shown;
      },
      60_000,
    );
    await entry.hover();
    await entry.press('Enter');
  }

  // (a busy machine can take long to start a webview)
  const panel = (): Promise<Frame> => webviewFrame(page, '[data-testid="annotation-panel"]', 90_000);

  test('Label Records with LLM from the Datasets view: progress, labels in the editor and on disk', async () => {
    const file = join(workspace, 'samples/reviews.jsonl');
    const before = readFileSync(file, 'utf8').trim().split('\n');
    await treeAction('reviews.jsonl', 'Label Records with LLM');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible' }).catch(async (e: unknown) => {
      await page.screenshot({ path: '/tmp/e2e-fail.png' });
      throw e;
    });
    assert.match(await input.inputValue(), /negative, neutral, positive/);
    await input.press('Enter');
    // Zero- or few-shot: the first choice (zero-shot on a first run) is taken with Enter.
    const first = page.locator('.quick-input-list .monaco-list-row').first();
    await until('the few-shot question', async () =>
      ((await first.textContent().catch(() => '')) ?? '').startsWith('Zero-shot'),
    );
    assert.match((await page.locator('.quick-input-list').textContent()) ?? '', /Few-shot: 8 examples/);
    await input.press('Enter');
    // The progress notification, then the results on disk, then the summary.
    await until(
      'the progress',
      async () => (await page.locator('.statusbar-item', { hasText: /Labeling reviews\.jsonl: \d+%/ }).count()) > 0,
      30_000,
    );
    await until(
      'the results on disk',
      async () => readFileSync(file, 'utf8').split('fake-model').length - 1 >= before.length * 2,
      60_000,
    );
    await notification(page, /Labeling reviews\.jsonl: 36 ok, 0 failed/).catch(async (e: unknown) => {
      await page.screenshot({ path: '/tmp/e2e-fail2.png' });
      throw e;
    });
    // In the editor: the model's suggestion with its agent.
    const frame = await panel();
    await until('the suggestion in the editor', async () =>
      ((await frame.locator('[data-testid="annotation-panel"]').textContent()) ?? '').includes('fake-model'),
    );
    // On disk: every record has the model's suggestion, the earlier ones are kept, other fields untouched.
    const after = readFileSync(file, 'utf8').trim().split('\n');
    assert.equal(after.length, before.length);
    after.forEach((line, i) => {
      const now = JSON.parse(line) as {
        text: string;
        annotations: { suggestions: { label: { agent: string; value: string }[] } };
      };
      const was = JSON.parse(before[i] ?? '{}') as typeof now;
      assert.equal(now.text, was.text);
      const agents = now.annotations.suggestions.label.map((s) => s.agent);
      assert.ok(agents.includes('fake-model'), `line ${i + 1} has the new suggestion`);
      for (const s of was.annotations.suggestions.label)
        assert.ok(agents.includes(s.agent), `line ${i + 1} keeps ${s.agent}'s suggestion`);
      const fresh = now.annotations.suggestions.label.find((s) => s.agent === 'fake-model');
      assert.ok(['negative', 'neutral', 'positive'].includes(fresh?.value ?? ''), 'the label is one of the set');
    });
    // The key is in no file of the workspace (data, journal, cache).
    for (const f of filesUnder(workspace))
      assert.ok(!readFileSync(f).includes(FAKE_KEY), `${f} does not hold the API key`);
  });

  test('Filter Records: dry run, tag the dropped records, undo', async () => {
    const file = join(workspace, 'samples/reviews.jsonl');
    const before = readFileSync(file, 'utf8');
    const scores = before
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { judge: { score: number } }).judge.score);
    const dropped = scores.filter((s) => s < 8).length;
    await treeAction('reviews.jsonl', 'Filter Records');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible' });
    await input.fill('judge.score >= 8');
    await input.press('Enter');
    const tag = page.locator('.quick-input-list .monaco-list-row', { hasText: `Tag the ${dropped} dropped record(s)` });
    await tag.waitFor({ state: 'visible', timeout: 30_000 });
    assert.ok(
      (await page
        .locator('.quick-input-list', { hasText: `Keep ${scores.length - dropped} of ${scores.length}` })
        .count()) > 0,
      'the dry run shows the counts',
    );
    await tag.click();
    const dirtyTab = page.locator('.tabs-container .tab.dirty', { hasText: 'reviews.jsonl' });
    await dirtyTab.waitFor({ state: 'visible', timeout: 15_000 });
    assert.equal(readFileSync(file, 'utf8'), before, 'nothing is written before a save');
    const frame = await panel();
    await frame.locator('[data-testid="record"]').click({ position: { x: 5, y: 5 } });
    await page.keyboard.press('Control+z');
    await until('the undo', async () => (await dirtyTab.count()) === 0);
    await runCommand(page, 'File: Save');
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(readFileSync(file, 'utf8'), before, 'after undo the file is as it was');
  });

  // A job's results arrive record by record; each refresh of the page drops its caches and fetches
  // again, so the host sends them at most every 200 ms (the last always).
  test('Label Records on a file open in the editor: the page refreshes a few times a second, not once per record, and ends showing the results', async () => {
    copyFileSync(join(repoRoot, 'samples/reviews.jsonl'), join(workspace, 'samples/open.jsonl'));
    const frame = await openFromDatasets(page, 'open.jsonl');
    // The page's own view of the host's messages: the time of each refresh (a `changed` event).
    await frame.evaluate(`(() => {
      window.refreshes = [];
      window.addEventListener('message', (e) => {
        if (e.data && e.data.kind === 'event' && e.data.type === 'changed') window.refreshes.push(performance.now());
      });
    })()`);
    await treeAction('open.jsonl', 'Label Records with LLM');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible' });
    await input.press('Enter');
    const first = page.locator('.quick-input-list .monaco-list-row').first();
    await until('the few-shot question', async () =>
      ((await first.textContent().catch(() => '')) ?? '').startsWith('Zero-shot'),
    );
    await input.press('Enter');
    await notification(page, /Labeling open\.jsonl: 36 ok, 0 failed/, 90_000);
    await until('the suggestion in the editor', async () =>
      ((await frame.locator('[data-testid="annotation-panel"]').textContent()) ?? '').includes('fake-model'),
    );
    await new Promise((r) => setTimeout(r, 500)); // the last refresh, if one was pending
    const times = await frame.evaluate<number[]>('window.refreshes');
    assert.ok(times.length >= 2, `the page was refreshed during the job (${times.length} times)`);
    const span = (times.at(-1) ?? 0) - (times[0] ?? 0);
    // 36 results, each applied on its own: at most one refresh per 200 ms, plus the save's own.
    assert.ok(times.length < 36, `${times.length} refreshes for 36 results`);
    assert.ok(times.length <= Math.ceil(span / 200) + 3, `${times.length} refreshes in ${Math.round(span)} ms`);
  });

  test('Judge This Record from the curation editor: one record judged, the others untouched', async () => {
    const file = join(workspace, 'samples/reviews.jsonl');
    const before = readFileSync(file, 'utf8').trim().split('\n');
    await showDatasets(page);
    await page.locator('.monaco-list-row', { hasText: 'reviews.jsonl' }).first().click();
    const frame = await panel();
    await frame.locator('[data-testid="position"]').click();
    await until('line 1', async () => {
      if (((await frame.locator('[data-testid="position"]').textContent()) ?? '').startsWith('Line 1 ')) return true;
      await page.keyboard.press('Home');
      return false;
    });
    await page.keyboard.press('j');
    await until('line 2', async () =>
      ((await frame.locator('[data-testid="position"]').textContent()) ?? '').startsWith('Line 2 '),
    );
    await runCommand(page, 'Dataset Curator: Judge This Record with LLM');
    const after = await until(
      'the judged record on disk',
      async () => {
        const now = readFileSync(file, 'utf8').trim().split('\n');
        return (JSON.parse(now[1] ?? '{}') as { judge?: { model?: string } }).judge?.model === 'fake-model'
          ? now
          : undefined;
      },
      60_000,
    );
    after.forEach((line, i) => {
      if (i !== 1) assert.equal(line, before[i], `line ${i + 1} is untouched`);
    });
    const judged = JSON.parse(after[1] ?? '{}') as { judge: { score: number; scale: [number, number] } };
    assert.ok(
      judged.judge.score >= judged.judge.scale[0] && judged.judge.score <= judged.judge.scale[1],
      'the score is on the scale',
    );
    await until('the judge in the editor', async () =>
      ((await frame.locator('[data-testid="judge"]').textContent()) ?? '').includes('fake-model'),
    );
  });
});
