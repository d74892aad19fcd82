// `npm run screenshots`: the README's pictures, taken in the real workbench (the code-server build
// of VS Code, Chromium through Playwright), dark theme, a fixed 1280x800 viewport:
//   media/screenshots/datasets-view.png    the Datasets view over a small workspace
//   media/screenshots/curation-editor.png  the curation editor on the sample
//   media/screenshots/stats.png            the editor's stats view
//   media/screenshots/label-job.png        a label job running against the loopback server
//   media/screenshots/walkthrough.png      the Get Started walkthrough
//   media/screenshots/relabel.png          an animated PNG (APNG): relabeling with the keys, as a person does
// Re-run it after the UI changes; it waits for what it shows, never for a fixed time.
//   npm run screenshots [-- --only editor,stats] [-- --out DIR]
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import UPNG from 'upng-js';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Frame, Page } from 'playwright-core';
import { startOpenAIServer } from '../support/openai-server';
import {
  cleanup,
  launchBrowser,
  makeWorkspace,
  repoRoot,
  runCommand,
  showDatasets,
  startCodeServer,
  until,
  webviewFrame,
} from './vscode';

const { values } = parseArgs({ options: { only: { type: 'string' }, out: { type: 'string' } } });
const only = values.only ? new Set(values.only.split(',')) : undefined;
const out = values.out ?? join(repoRoot, 'media', 'screenshots');
const viewport = { width: 1280, height: 800 };

/** A second dataset for the tree: chat records, two of them broken. */
function chats(): string {
  const topics = [
    'refund for a damaged parcel',
    'resetting a password',
    'changing a delivery address',
    'a charger that stopped working',
    'cancelling a subscription',
  ];
  const lines: string[] = [];
  for (let i = 0; i < 120; i++) {
    const t = topics[i % topics.length]!;
    lines.push(
      JSON.stringify({
        id: `chat-${i}`,
        messages: [
          { role: 'user', content: `Hi, I need help with ${t}.` },
          { role: 'assistant', content: `Of course. Let me walk you through ${t} step by step.` },
        ],
        label: i % 3 === 0 ? 'resolved' : 'escalated',
        judge: { score: 4 + (i % 6), scale: [1, 10], reasons: 'Polite and on topic.' },
      }),
    );
  }
  lines[17] = '{"id":"chat-17","messages":[{"role":"user","content":"truncated';
  lines[64] = '';
  return `${lines.join('\n')}\n`;
}

async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(out, { recursive: true });
  const file = join(out, `${name}.png`);
  await page.screenshot({ path: file });
  console.log(`wrote ${file}`);
}

/**
 * Relabeling, as a person does it, as an animated PNG: each key press (relabel, accept, next) and
 * what it shows, one frame each, of the editor area. upng-js encodes the frames (a 256-color
 * palette; only what changed between frames is stored).
 */
async function relabelAnimation(page: Page, frame: Frame): Promise<void> {
  const area = await page.locator('.part.editor').boundingBox();
  if (!area) throw new Error('no editor area');
  const clip = {
    x: Math.round(area.x),
    y: Math.round(area.y),
    width: Math.round(area.width),
    height: Math.round(Math.min(area.height, 560)),
  };
  const frames: ArrayBuffer[] = [];
  const delays: number[] = [];
  const grab = async (ms: number) => {
    await page.waitForTimeout(150); // the paint after the change
    const png = await page.screenshot({ clip });
    frames.push(
      ...UPNG.toRGBA8(UPNG.decode(png.buffer.slice(png.byteOffset, png.byteOffset + png.byteLength) as ArrayBuffer)),
    );
    delays.push(ms);
  };
  const position = async () => (await frame.locator('[data-testid="position"]').textContent()) ?? '';
  const label = async () =>
    (
      (await frame.locator('[data-testid="annotation-panel"] [data-testid="label"]').first().textContent()) ?? ''
    ).trim();
  await frame.locator('[data-testid="position"]').click();
  await until('line 1', async () => (await position()).startsWith('Line 1 '), 30_000);
  await grab(1400);
  // The labels are the sample's, sorted: 1 negative, 2 neutral, 3 positive. Line 1 is relabeled
  // twice; line 3 has only the model's label, which is accepted (a person's decision appears).
  const panel = async () => (await frame.locator('[data-testid="annotation-panel"]').textContent()) ?? '';
  const steps: { key: string; shows: () => Promise<boolean>; ms: number }[] = [
    { key: '1', shows: async () => (await label()).includes('negative'), ms: 1000 },
    { key: '3', shows: async () => (await label()).includes('positive'), ms: 1000 },
    { key: 'j', shows: async () => (await position()).startsWith('Line 2 '), ms: 700 },
    { key: 'j', shows: async () => (await position()).startsWith('Line 3 '), ms: 1000 },
    { key: 'a', shows: async () => (await panel()).includes('Human decision'), ms: 1400 },
    { key: 'j', shows: async () => (await position()).startsWith('Line 4 '), ms: 1600 },
  ];
  for (const s of steps) {
    await page.keyboard.press(s.key);
    await until(`the record after ${s.key}`, async () => (await s.shows()) || undefined, 15_000);
    await grab(s.ms);
  }
  mkdirSync(out, { recursive: true });
  const file = join(out, 'relabel.png');
  writeFileSync(file, Buffer.from(UPNG.encode(frames, clip.width, clip.height, 256, delays)));
  console.log(`wrote ${file} (${frames.length} frames)`);
  for (let i = 0; i < 3; i++) await page.keyboard.press('Control+z');
}

async function clearNotifications(page: Page): Promise<void> {
  await runCommand(page, 'Notifications: Clear All Notifications');
  await page.keyboard.press('Escape');
}

/** Drags the side bar's edge to `x` pixels from the left. */
async function dragSash(page: Page, x: number): Promise<void> {
  const box = await page.locator('.part.sidebar').boundingBox();
  if (!box) return;
  const from = box.x + box.width + 1;
  await page.mouse.move(from, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(x, box.y + box.height / 2, { steps: 8 });
  await page.mouse.up();
}

async function openInEditor(page: Page, file: string): Promise<Frame> {
  await showDatasets(page);
  const item = page.locator('.monaco-list-row', { hasText: file }).first();
  await item.waitFor({ state: 'visible', timeout: 60_000 });
  await item.click();
  const frame = await webviewFrame(page, '[data-testid="annotation-panel"]', 60_000);
  await until(
    'the first record',
    async () => ((await frame.locator('[data-testid="position"]').textContent()) ?? '').startsWith('Line 1 '),
    60_000,
  );
  return frame;
}

async function main(): Promise<void> {
  const llm = await startOpenAIServer({ latencyMs: 2500 }); // a job slow enough to be caught mid-run
  // Answers that read like a model's (the test server's own are placeholder words).
  llm.respond = (req) => {
    if (!req.path.endsWith('/chat/completions')) return undefined;
    const reply = llm.defaultReply(req.body as Parameters<typeof llm.defaultReply>[0]);
    if (!('content' in reply)) return reply;
    const v = JSON.parse(reply.content) as Record<string, unknown>;
    if (typeof v.label === 'string')
      v.rationale = `The review's overall tone reads as ${v.label}; the complaint and the praise are weighed against each other.`;
    return { content: JSON.stringify(v) };
  };
  const workspace = makeWorkspace({
    'samples/reviews.jsonl': readFileSync(join(repoRoot, 'samples', 'reviews.jsonl')),
    'data/support-chats.jsonl': chats(),
  });
  const server = await startCodeServer({
    env: { OPENAI_API_KEY: 'sk-screenshot' },
    settings: {
      'workbench.colorTheme': 'Default Dark Modern',
      'window.commandCenter': false,
      'workbench.layoutControl.enabled': false,
      'datasetCurator.llm.baseUrl': llm.baseURL,
      'datasetCurator.llm.model': 'gpt-4o-mini',
      'datasetCurator.llm.concurrency': 2,
      'datasetCurator.llm.confirmCostAbove': 1000,
    },
  });
  const browser = await launchBrowser();
  try {
    const context = await browser.newContext({ viewport, deviceScaleFactor: 1, colorScheme: 'dark' });
    const page = await context.newPage();
    await page.goto(server.url({ folder: workspace }), { timeout: 120_000 });
    await page.waitForSelector('.monaco-workbench', { timeout: 120_000 });
    await showDatasets(page);
    await until(
      'both datasets with their counts',
      async () => {
        const t = (await page.locator('.part.sidebar').textContent()) ?? '';
        return t.includes('36 records') && t.includes('118 records');
      },
      120_000,
    );
    await clearNotifications(page);

    if (!only || only.has('tree')) {
      // A wider side bar, so that each file's summary (records, annotated, score, invalid) shows.
      await dragSash(page, 640);
      await page.locator('.monaco-list-row', { hasText: 'support-chats.jsonl' }).first().hover();
      await until(
        'the tooltip',
        async () => (await page.locator('.monaco-hover, .workbench-hover', { hasText: 'invalid line' }).count()) > 0,
        15_000,
      ).catch(() => undefined);
      await shot(page, 'datasets-view');
      await page.mouse.move(900, 500);
      await dragSash(page, 350);
    }
    const frame = await openInEditor(page, 'reviews.jsonl');
    if (!only || only.has('editor')) {
      await clearNotifications(page);
      await frame.locator('[data-testid="position"]').click();
      await shot(page, 'curation-editor');
    }
    if (!only || only.has('relabel')) {
      await clearNotifications(page);
      await relabelAnimation(page, frame);
    }
    if (!only || only.has('stats')) {
      await frame.locator('[data-testid="position"]').click();
      await page.keyboard.press('s');
      await until(
        'the stats view',
        async () => ((await frame.locator('body').textContent()) ?? '').toLowerCase().includes('histogram'),
        30_000,
      ).catch(() => undefined);
      await shot(page, 'stats');
      await page.keyboard.press('Escape');
      await frame
        .locator('[data-testid="position"]')
        .click()
        .catch(() => undefined);
      await page.keyboard.press('s').catch(() => undefined);
    }
    if (!only || only.has('job')) {
      await clearNotifications(page);
      await runCommand(page, 'Dataset Curator: Label Records with LLM');
      const input = page.locator('.quick-input-widget input');
      await until('the label set', async () => /positive/.test(await input.inputValue()), 30_000);
      await input.press('Enter');
      // Zero- or few-shot: the first choice is taken with Enter.
      const first = page.locator('.quick-input-list .monaco-list-row').first();
      await until(
        'the few-shot question',
        async () => ((await first.textContent().catch(() => '')) ?? '').startsWith('Zero-shot'),
        30_000,
      );
      await input.press('Enter');
      // Mid-run: the job's progress in the notification center ("record x of 36") and the status bar.
      await runCommand(page, 'Notifications: Show Notifications');
      await until(
        'the progress',
        async () => {
          const m = /(\d+) of 36/.exec((await page.locator('.notifications-center').textContent()) ?? '');
          return m && Number(m[1]) >= 4 ? true : undefined;
        },
        120_000,
      ).catch(async (e: unknown) => {
        await page.screenshot({ path: join(out, 'label-job-failed.png') });
        throw e;
      });
      await shot(page, 'label-job');
      await runCommand(page, 'Notifications: Hide Notifications');
    }
    if (!only || only.has('walkthrough')) {
      await until('the job done', async () => llm.counts.chat >= 36 || undefined, 180_000).catch(() => undefined);
      await clearNotifications(page);
      await runCommand(page, 'Dataset Curator: Get Started');
      await until(
        'the walkthrough',
        async () =>
          (await page.locator('.gettingStartedContainer', { hasText: 'Open the sample dataset' }).count()) > 0,
        30_000,
      );
      await shot(page, 'walkthrough');
    }
    await context.close();
  } finally {
    await browser.close();
    await server.stop();
    await llm.close();
    cleanup(workspace);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
