// Acting as a person, in the real workbench against the project's loopback OpenAI-compatible server
// (real HTTP, real SDK; each model answers differently): judge a file with two judge models from
// the Datasets view, see both judges side by side and the disagreement marker in the annotation
// panel, the agreement between them in the stats view, the disagreeing records through the search,
// and everything on disk; then critique and refine (the refined text beside the original) and
// self-consistency labels (the samples and the agreement) from the curation editor.
import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Frame, Page } from 'playwright-core';
import { notification, showDatasets, until, webviewFrame } from '../harness/vscode';
import { openLlmWorkbench, type LlmWorkbench } from '../support/llm-workbench';

interface Judged {
  text: string;
  judge: { score: number; n?: number; spread?: number; models?: string[] };
  judges: { model?: string; score: number; provenance?: { prompt_hash?: string } }[];
  annotations: {
    suggestions: Record<
      string,
      {
        agent?: string;
        value: unknown;
        rationale?: string;
        score?: number;
        samples?: unknown[];
        provenance?: { task?: string };
      }[]
    >;
  };
}

describe('several judges, critique and self-consistency, as a person', () => {
  let w: LlmWorkbench | undefined;
  let page: Page;
  let workspace: string;
  const file = (): string => join(workspace, 'samples/reviews.jsonl');
  const records = (): Judged[] =>
    readFileSync(file(), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Judged);

  before(async () => {
    w = await openLlmWorkbench(['--latency', '20', '--seed-by-model'], {
      apiKey: 'sk-e2e-judges',
      settings: { 'datasetCurator.llm.judgeModels': ['judge-a', 'judge-b'] },
    });
    ({ page, workspace } = w);
  });

  after(async () => {
    await w?.close();
  });

  // (a busy machine can take long to start a webview)
  const panel = (): Promise<Frame> => webviewFrame(page, '[data-testid="annotation-panel"]', 90_000);
  const quickInput = () => page.locator('.quick-input-widget');

  /** Answers the next quick input: checks what it asks (title and prompt), optionally types, presses Enter. */
  async function answer(asks: RegExp, type?: string): Promise<void> {
    await until(
      `the question ${asks}`,
      async () =>
        (await quickInput().isVisible()) &&
        asks.test(
          (await quickInput()
            .textContent()
            .catch(() => '')) ?? '',
        ),
      90_000,
    );
    const input = quickInput().locator('input').first();
    if (type !== undefined) await input.fill(type);
    await input.press('Enter');
  }

  /**
   * Runs the palette command whose title is exactly `title` (the palette may rank a longer one
   * first). F1 is pressed again when the palette does not open: a webview that takes focus at that
   * moment (a job opening its file) can swallow the key.
   */
  async function runExactly(title: string): Promise<void> {
    const input = quickInput().locator('input').first();
    await until('the command palette', async () => {
      await page.keyboard.press('F1');
      return input.waitFor({ state: 'visible', timeout: 3000 }).then(
        () => true,
        () => false,
      );
    });
    await input.fill(`>${title}`);
    const row = quickInput()
      .locator('.monaco-list-row', {
        has: page.locator('.label-name', {
          hasText: new RegExp(`^${title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}…?$`),
        }),
      })
      .first();
    await row.waitFor({ state: 'visible', timeout: 15_000 });
    await row.click();
  }

  async function goToLine(frame: Frame, line: number): Promise<void> {
    await frame.locator('[data-testid="position"]').click();
    await page.keyboard.press('g');
    await page.keyboard.type(String(line));
    await page.keyboard.press('Enter');
    await until(`line ${line}`, async () =>
      ((await frame.locator('[data-testid="position"]').textContent()) ?? '').startsWith(`Line ${line} `),
    );
  }

  test('Judge Records with two judge models from the Datasets view: both judges, their agreement, the disagreement marker, and the disk', async () => {
    const before = readFileSync(file(), 'utf8').trim().split('\n');
    await showDatasets(page);
    const item = page.locator('.monaco-list-row', { hasText: 'reviews.jsonl' }).first();
    await item.waitFor({ state: 'visible', timeout: 30_000 });
    await item.click({ button: 'right' });
    const entry = page.locator('.monaco-menu .action-menu-item', { hasText: 'Judge Records with LLM' }).first();
    await entry.hover();
    await entry.press('Enter');
    await answer(/Judge reviews\.jsonl \(1\/4\).*The rubric/);
    await answer(/\(2\/4\).*The scale/);
    await answer(/\(3\/4\).*Criteria scored separately/, 'correctness, clarity');
    // The judges: the two of datasetCurator.llm.judgeModels, picked already.
    await until(
      'the judge models',
      async () => (await quickInput().locator('.monaco-list-row', { hasText: 'judge-b' }).count()) > 0,
    );
    for (const m of ['judge-a', 'judge-b']) {
      const row = quickInput().locator('.monaco-list-row', { hasText: m }).first();
      assert.equal(await row.getAttribute('aria-checked'), 'true', `${m} is picked`);
    }
    await answer(/\(4\/4\)/);

    await notification(page, /Judging reviews\.jsonl: 72 ok, 0 failed.*judge-a: 36 ok.*; judge-b: 36 ok/, 90_000);

    // On disk: both judges' verdicts, the sample's earlier verdict kept, the panel's mean in judge.
    const now = records();
    assert.equal(now.length, before.length);
    now.forEach((r, i) => {
      const was = JSON.parse(before[i] ?? '{}') as { text: string; judge: { model: string; score: number } };
      assert.equal(r.text, was.text);
      const a = r.judges.find((j) => j.model === 'judge-a');
      const b = r.judges.find((j) => j.model === 'judge-b');
      assert.ok(a && b, `line ${i + 1} has both judges`);
      assert.equal(a.provenance?.prompt_hash, b.provenance?.prompt_hash, 'one rubric, one panel');
      assert.ok(
        r.judges.some((j) => j.model === was.judge.model && j.score === was.judge.score),
        `line ${i + 1} keeps the earlier verdict`,
      );
      assert.equal(r.judge.n, 2);
      assert.equal(r.judge.score, (a.score + b.score) / 2);
      assert.equal(r.judge.spread, Math.abs(a.score - b.score));
    });
    // Records whose judges differ by 30% of the 1-10 scale or more (2.7: a spread of 3).
    const disagree = now.flatMap((r, i) => ((r.judge.spread ?? 0) >= 3 ? [i] : []));
    const agree = now.flatMap((r, i) => ((r.judge.spread ?? 0) < 3 ? [i] : []));
    assert.ok(
      disagree.length > 0 && agree.length > 0,
      `the two judges disagree on some records (${disagree.length}) and agree on others`,
    );

    // In the editor: both judges side by side, the marker where they disagree.
    await showDatasets(page);
    await page.locator('.monaco-list-row', { hasText: 'reviews.jsonl' }).first().click();
    const frame = await panel();
    const d = disagree[0] as number;
    await goToLine(frame, d + 1);
    const judges = frame.locator('[data-testid="judge"]');
    await until('both judges', async () => (await judges.locator('[data-testid="judge-card"]').count()) === 2);
    const cards = await judges.locator('[data-testid="judge-card"]').allTextContents();
    const rd = now[d] as Judged;
    for (const m of ['judge-a', 'judge-b']) {
      const j = rd.judges.find((x) => x.model === m);
      const card = cards.find((c) => c.includes(m)) ?? '';
      assert.ok(card.includes(`${j?.score} / 10`), `${m}'s card shows its score: ${card}`);
      assert.match(card, /correctness/);
    }
    const marker = judges.locator('[data-testid="judges-disagree"]');
    assert.ok(await marker.isVisible(), 'the disagreement marker is shown');
    assert.match(
      (await marker.textContent()) ?? '',
      new RegExp(`Judges disagree: their scores differ by ${rd.judge.spread}`),
    );
    assert.match(
      (await judges.locator('[data-testid="judge-score"]').textContent()) ?? '',
      new RegExp(`^${rd.judge.score} / 10`),
    );
    assert.match((await judges.textContent()) ?? '', /1 earlier verdict/);

    const g = agree[0] as number;
    await goToLine(frame, g + 1);
    await until(
      'the agreeing record',
      async () => (await judges.locator('[data-testid="judges-agree"]').count()) === 1,
    );
    assert.equal(await judges.locator('[data-testid="judges-disagree"]').count(), 0);

    // The stats view: the agreement between the two judges over the file.
    await page.keyboard.press('s');
    const stats = frame.locator('[data-testid="stats-judges"]');
    await stats.waitFor({ state: 'visible', timeout: 30_000 });
    assert.equal(await frame.locator('[data-testid="stats-judges-disagree"]').textContent(), String(disagree.length));
    assert.match((await frame.locator('[data-testid="stats-judges-pair"]').textContent()) ?? '', /judge-a · judge-b36/);
    // "Show them": the search finds exactly the records whose judges disagree.
    await frame.locator('[data-testid="stats-show-disagreements"]').click();
    await until(
      'the disagreeing records',
      async () =>
        new RegExp(`^${disagree.length} match`).test(
          (await frame.locator('[data-testid="search-count"]').textContent()) ?? '',
        ) ||
        new RegExp(`of ${disagree.length}$`).test(
          (await frame.locator('[data-testid="search-count"]').textContent()) ?? '',
        ),
    );
  });

  test('Critique and Refine, then Self-Consistency Labels from the curation editor: the refined text beside the original, the samples and their agreement', async () => {
    await showDatasets(page);
    await page.locator('.monaco-list-row', { hasText: 'reviews.jsonl' }).first().click();
    const frame = await panel();
    await frame.locator('[data-testid="search-clear"]').click();
    await frame.locator('[data-testid="mode-record"]').click();
    await runExactly('Dataset Curator: Critique and Refine with LLM');
    await until('the field question', async () =>
      /Critique and refine reviews\.jsonl/.test(
        (await quickInput()
          .locator('.quick-input-title')
          .textContent()
          .catch(() => '')) ?? '',
      ),
    );
    // The sample has no "response": the review text is offered first.
    assert.equal(((await quickInput().locator('.monaco-list-row').first().textContent()) ?? '').trim(), 'text');
    await quickInput().locator('input').first().press('Enter');
    const critiqued = await until(
      'the critiques on disk',
      async () => {
        const now = records();
        return now.every((r) => r.annotations.suggestions.text?.some((s) => s.provenance?.task === 'critique'))
          ? now
          : undefined;
      },
      60_000,
    );
    await goToLine(frame, 3);
    const critique = frame.locator('[data-testid="critique"]');
    await critique.waitFor({ state: 'visible', timeout: 30_000 });
    const r3 = critiqued[2] as Judged;
    const c3 = r3.annotations.suggestions.text?.find((s) => s.provenance?.task === 'critique');
    assert.equal(
      await critique.locator('[data-testid="critique-original"]').textContent(),
      r3.text,
      'the original, as it is in the file',
    );
    assert.equal(await critique.locator('[data-testid="critique-refined"]').textContent(), c3?.value);
    assert.equal(await critique.locator('[data-testid="critique-text"]').textContent(), c3?.rationale);

    await runExactly('Dataset Curator: Self-Consistency Labels with LLM');
    await answer(/Self-consistency labels for reviews\.jsonl.*The label set/);
    await answer(/Self-consistency labels for reviews\.jsonl.*Samples per record/, '3');
    const voted = await until(
      'the votes on disk',
      async () => {
        const now = records();
        return now.every((r) => r.annotations.suggestions.label?.some((s) => s.provenance?.task === 'consistency'))
          ? now
          : undefined;
      },
      60_000,
    );
    const vote = (voted[2] as Judged).annotations.suggestions.label?.find((s) => s.provenance?.task === 'consistency');
    assert.equal(vote?.samples?.length, 3);
    // The editor stayed where the user was while the results arrived (in any order).
    assert.match((await frame.locator('[data-testid="position"]').textContent()) ?? '', /^Line 3 /);
    const card = frame.locator('[data-testid="consistency"]');
    await card.waitFor({ state: 'visible', timeout: 30_000 });
    const tally = (await card.locator('[data-testid="consistency-samples"]').textContent()) ?? '';
    assert.match(tally, new RegExp(`${String(vote.value)} ×\\d`));
    assert.match((await card.textContent()) ?? '', /of 3 samples agree/);
    assert.equal(
      (await card.locator('[data-testid="suggestion-score"]').textContent())?.trim(),
      `${Math.round((vote.score ?? 0) * 100)}%`,
    );

    // Judge This Record: the last run's rubric and both judges, so the same answers (from the cache).
    const before = readFileSync(file(), 'utf8').split('\n');
    await runExactly('Dataset Curator: Judge This Record with LLM');
    await notification(
      page,
      /Judging line 3 of reviews\.jsonl: 2 ok, 0 failed, 0 skipped \(invalid lines\), 2 from cache, 0 resumed; 0 request\(s\).* \(judge-a: 1 ok, 0 failed, 1 from cache, 0 request\(s\); judge-b: 1 ok/,
    );
    assert.deepEqual(readFileSync(file(), 'utf8').split('\n'), before, 'the same verdicts: not a byte changed');
  });
});
