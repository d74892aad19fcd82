// Acting as a person: the agreement report changes as records are relabeled with a number key; the
// review queue is filled from the command palette and stepped through with q / Shift+Q, reviewing
// a record moves on to the next; duplicates planted in a file are found from the Datasets view,
// one record of each cluster kept, the others tagged; then the file on disk is checked.
import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Frame, Page } from 'playwright-core';
import {
  closeWorkbench,
  makeWorkspace,
  openFromDatasets,
  runCommand,
  showDatasets,
  startWorkbench,
  until,
  webviewFrame,
  type CodeServer,
} from '../harness/vscode';

type Rec = {
  label?: string;
  annotations: {
    human?: { label?: { value: string } };
    suggestions?: { label?: { value: string; score: number }[] };
    review?: { status?: string; queue?: string };
    tags?: string[];
  };
};

/** Accuracy and Cohen's kappa of human decisions vs model suggestions, computed here from the records. */
function expectedAgreement(recs: Rec[]): { n: number; accuracy: string; kappa: string } {
  const pairs = recs.flatMap((r) => {
    const h = r.annotations.human?.label?.value;
    const s = r.annotations.suggestions?.label?.[0]?.value;
    return h !== undefined && s !== undefined ? [[h, s] as const] : [];
  });
  const n = pairs.length;
  const po = pairs.filter(([a, b]) => a === b).length / n;
  const labels = [...new Set(pairs.flat())];
  const pe = labels.reduce(
    (s, l) => s + (pairs.filter(([a]) => a === l).length / n) * (pairs.filter(([, b]) => b === l).length / n),
    0,
  );
  return { n, accuracy: `${(po * 100).toFixed(1)}%`, kappa: ((po - pe) / (1 - pe)).toFixed(3) };
}

const zipper =
  'The zipper on this backpack broke on the second day of the trip and the seller refused to replace it or refund me';
const arrived = 'Arrived quickly and works exactly as described, very happy with this purchase overall';
const planted = [
  'A sturdy kettle that boils a full litre of water in about three minutes without any noise',
  zipper,
  'The headphones sound muddy in the bass and the ear cups get uncomfortably warm within an hour',
  arrived,
  `${zipper} at all`,
  'Lovely soft fabric, the colour matches the photos and it survived many washes without fading',
  'The app keeps logging me out every few minutes, which makes the smart lamp almost useless',
  `  ARRIVED quickly and works exactly as described,   very happy with this purchase overall `,
  zipper.replace(/me$/, 'us'),
  'Battery of the scooter lasts for a week of commuting to work and back across the whole city',
].map((text, i) => ({ id: `p${i}`, text, label: 'neutral' }));

describe('assessment in the curation editor, as a person', () => {
  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let workspace: string;

  before(async () => {
    workspace = makeWorkspace('samples');
    mkdirSync(join(workspace, 'planted'), { recursive: true });
    writeFileSync(join(workspace, 'planted', 'dups.jsonl'), `${planted.map((r) => JSON.stringify(r)).join('\n')}\n`);
    // VS Code for the web saves after a delay by default: the file on disk must change only on Ctrl+S.
    ({ server, browser, page } = await startWorkbench(workspace, { settings: { 'files.autoSave': 'off' } }));
  });

  after(async () => {
    await closeWorkbench({ browser, server, workspace });
  });

  const text = async (f: Frame, testid: string) =>
    ((await f.locator(`[data-testid="${testid}"]`).first().textContent()) ?? '').trim();
  const position = (f: Frame) => text(f, 'position');
  const focus = (f: Frame) => f.locator('[data-testid="position"]').click();
  const visible = (f: Frame, testid: string) => f.locator(`[data-testid="${testid}"]`).first().isVisible();

  const open = (name: string) => openFromDatasets(page, name);

  /** Presses a key in the webview (focused by a click on the toolbar's position text) and waits until `done` holds. */
  async function press(f: Frame, key: string, what: string, done: () => Promise<boolean>): Promise<void> {
    await focus(f);
    await page.keyboard.press(key);
    await until(what, async () => await done(), 60_000).catch(async (err: unknown) => {
      await page.screenshot({ path: `/tmp/e2e-assess-${key}.png` });
      throw err;
    });
  }

  test('the agreement report changes as a record is relabeled with a number key, and back on undo', async () => {
    const file = join(workspace, 'samples/reviews.jsonl');
    const recs = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Rec);
    const was = expectedAgreement(recs);
    const frame = await open('reviews.jsonl');
    // The Agreement tab, next to Record / List / Stats.
    await frame.locator('[data-testid="mode-agreement"]').click();
    await until('the report', async () => (await text(frame, 'agreement-accuracy-0')) === was.accuracy);
    assert.equal(await text(frame, 'agreement-n-0'), String(was.n));
    assert.equal(await text(frame, 'agreement-kappa-0'), was.kappa);
    // Line 1: the person said positive, the model negative: the one off-diagonal count.
    const labels = ['negative', 'neutral', 'positive'];
    assert.equal(
      await text(frame, `agreement-cell-0-${labels.indexOf('positive')}-${labels.indexOf('negative')}`),
      '1',
    );

    // Back to the record (Escape), relabel line 1 with key 1 (negative: the first of the label set).
    await press(frame, 'Escape', 'the record view', async () => await visible(frame, 'record-layout'));
    await press(frame, '1', 'the relabel', async () => (await text(frame, 'label')) === 'negative');
    const now = expectedAgreement(
      recs.map((r, i) =>
        i === 0 ? { ...r, annotations: { ...r.annotations, human: { label: { value: 'negative' } } } } : r,
      ),
    );
    assert.notEqual(now.accuracy, was.accuracy);
    // m: the report again, with the new figures.
    await press(frame, 'c', 'the agreement view', async () => await visible(frame, 'agreement'));
    await until('the new figures', async () => (await text(frame, 'agreement-accuracy-0')) === now.accuracy);
    assert.equal(await text(frame, 'agreement-kappa-0'), now.kappa);
    assert.equal(
      await text(frame, `agreement-cell-0-${labels.indexOf('positive')}-${labels.indexOf('negative')}`),
      '0',
    );
    // It stays live in the view itself: undo (VS Code's Ctrl+Z) and the figures go back.
    await focus(frame);
    await page.keyboard.press('Control+z');
    await until('the figures after undo', async () => (await text(frame, 'agreement-accuracy-0')) === was.accuracy);
    // The help overlay lists the key.
    await press(frame, '?', 'the help', async () => await visible(frame, 'help'));
    assert.match(await text(frame, 'help'), /agreement report/i);
    await page.keyboard.press('Escape');
  });

  test('send low-confidence records to review, step through the queue with q and Shift+Q, review them out of it', async () => {
    const file = join(workspace, 'samples/reviews.jsonl');
    const before = readFileSync(file, 'utf8').split('\n');
    const recs = before.filter(Boolean).map((l) => JSON.parse(l) as Rec);
    const queued = recs.flatMap((r, i) =>
      !r.annotations.human &&
      r.annotations.review?.status !== 'reviewed' &&
      (r.annotations.suggestions?.label?.[0]?.score ?? 0) < 0.8
        ? [i + 1]
        : [],
    );
    assert.ok(queued.length >= 3, 'the sample has low-confidence records');
    const frame = await open('reviews.jsonl');
    await runCommand(page, 'Dataset Curator: Send Low-Confidence Records to Review');
    const input = page.locator('.quick-input-widget input');
    // The palette's own box gives way to the command's, which offers 0.8.
    await until('the threshold box', async () => (await input.inputValue()) === '0.8');
    await input.press('Enter');
    // The editor goes to the first record in the queue and counts them.
    await until('the first queued record', async () => (await position(frame)).startsWith(`Line ${queued[0]} `));
    await until('the queue count', async () => (await text(frame, 'queue-count')) === `${queued.length} to review`);
    assert.ok(await visible(frame, 'queue-current'), 'the record says it is in the review queue');
    // q: the next one; Shift+Q: back.
    await press(frame, 'q', 'the second queued record', async () =>
      (await position(frame)).startsWith(`Line ${queued[1]} `),
    );
    await press(frame, 'Shift+Q', 'back to the first', async () =>
      (await position(frame)).startsWith(`Line ${queued[0]} `),
    );
    // Reviewing it (key 2: neutral) takes it out of the queue and moves on to the next one.
    await press(frame, '2', 'the next queued record after the review', async () =>
      (await position(frame)).startsWith(`Line ${queued[1]} `),
    );
    await until(
      'the count after the review',
      async () => (await text(frame, 'queue-count')) === `${queued.length - 1} to review`,
    );
    // Accepting the model's suggestion (a) does the same.
    await press(frame, 'a', 'the third queued record', async () =>
      (await position(frame)).startsWith(`Line ${queued[2]} `),
    );
    // The search bar's "In review queue" facet finds the ones left.
    await frame.locator('[data-testid="search-queue"]').click();
    await until(
      'the facet',
      async () =>
        (await text(frame, 'search-count')).endsWith(String(queued.length - 2)) ||
        (await text(frame, 'search-count')) === `${queued.length - 2} matches`,
    );
    // Save, and look at the file.
    await focus(frame);
    await page.keyboard.press('Control+s');
    const after = await until('the save', async () => {
      const now = readFileSync(file, 'utf8').split('\n');
      return now.join('\n') !== before.join('\n') ? now : undefined;
    });
    assert.equal(after.length, before.length);
    const rec = (line: number) => JSON.parse(after[line - 1] ?? '{}') as Rec;
    assert.equal(rec(queued[0]!).annotations.human?.label?.value, 'neutral');
    assert.equal(rec(queued[0]!).annotations.review?.status, 'reviewed');
    assert.equal(rec(queued[0]!).annotations.review?.queue, 'low-confidence', 'where it came from is kept');
    assert.equal(
      rec(queued[1]!).annotations.human?.label?.value,
      rec(queued[1]!).annotations.suggestions?.label?.[0]?.value,
    );
    for (const line of queued.slice(2))
      assert.deepEqual(
        rec(line).annotations.review,
        { status: 'pending', queue: 'low-confidence' },
        `line ${line} waits in the queue`,
      );
    after.forEach((l, i) => {
      if (!queued.includes(i + 1)) assert.equal(l, before[i], `line ${i + 1} is byte-identical`);
    });
  });

  test('find planted duplicates from the Datasets view, keep one per cluster, tag the others, save', async () => {
    const file = join(workspace, 'planted/dups.jsonl');
    const before = readFileSync(file, 'utf8').split('\n');
    await runCommand(page, 'View: Close All Editors');
    await showDatasets(page);
    // Right-click > Find Duplicates… (again if the view re-renders under the menu: it refreshes when files change).
    const row = page.locator('.quick-input-list .monaco-list-row', { hasText: 'Near-duplicates' });
    await until(
      'the Find Duplicates choices',
      async () => {
        const item = page.locator('.monaco-list-row', { hasText: 'dups.jsonl' }).first();
        await item.waitFor({ state: 'visible', timeout: 30_000 });
        await item.click({ button: 'right' });
        const entry = page.locator('.monaco-menu .action-menu-item', { hasText: 'Find Duplicates' }).first();
        await entry.hover({ timeout: 5_000 });
        await entry.press('Enter');
        return row.waitFor({ state: 'visible', timeout: 10_000 }).then(
          () => true,
          async () => {
            await page.keyboard.press('Escape');
            return false;
          },
        );
      },
      90_000,
    );
    await row.click();
    const input = page.locator('.quick-input-widget input');
    await until('the threshold', async () => (await input.inputValue()) === '0.8');
    await input.press('Enter');
    const frame = await webviewFrame(page, '[data-testid="duplicates"]');
    await until('the clusters', async () => (await text(frame, 'dup-clusters')) === '2');
    assert.equal(await text(frame, 'dup-records'), '5');
    assert.equal(await text(frame, 'dup-extra'), '3');
    // Cluster 1: the zipper review and its near copies (lines 2, 5, 9); cluster 2: the exact copy (lines 4, 8).
    for (const i of [1, 4, 8]) assert.ok(await visible(frame, `dup-member-${i}`), `line ${i + 1} is in a cluster`);
    for (const i of [0, 2, 5])
      assert.equal(await frame.locator(`[data-testid="dup-member-${i}"]`).count(), 0, `line ${i + 1} is not`);
    // Keep line 8 of cluster 2 rather than line 4, and tag the other.
    await frame.locator('[data-testid="dup-keep-7"]').click();
    await until('the keeper', async () => (await frame.locator('[data-testid="dup-member-7"].kept').count()) === 1);
    await frame.locator('[data-testid="dup-tag-1"]').click();
    await until('cluster 2 resolved', async () => (await text(frame, 'dup-resolved')) === '1');
    // Then the others of every cluster (cluster 1 keeps its first record, line 2).
    await frame.locator('[data-testid="dup-tag-all"]').click();
    await until('both resolved', async () => (await text(frame, 'dup-resolved')) === '2');
    assert.equal(
      await frame.locator('[data-testid="dup-member-4"] [data-testid="dup-tag-chip"]').count(),
      1,
      'line 5 shows its tag',
    );
    // A click on a line number opens that record.
    await frame.locator('[data-testid="dup-open-8"]').click();
    await until(
      'line 9 open',
      async () => (await position(frame)).startsWith('Line 9 ') && (await visible(frame, 'record-layout')),
    );
    await focus(frame);
    await page.keyboard.press('Control+s');
    const after = await until('the save', async () => {
      const now = readFileSync(file, 'utf8').split('\n');
      return now.join('\n') !== before.join('\n') ? now : undefined;
    });
    const tags = after.filter(Boolean).map((l) => (JSON.parse(l) as Partial<Rec>).annotations?.tags ?? []);
    assert.deepEqual(tags, [[], [], [], ['duplicate'], ['duplicate'], [], [], [], ['duplicate'], []]);
    after.forEach((l, i) => {
      if (![3, 4, 8].includes(i)) assert.equal(l, before[i], `line ${i + 1} is byte-identical`);
    });
  });
});
