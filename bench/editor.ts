// The curation editor in the real workbench (code-server build of VS Code, Chromium): time from a
// click on a 1 GB dataset in the Datasets view to its first record visible in the webview, and the
// p95 time of record-to-record navigation (key press to the next record on screen). Baselines in
// the same run: the same on a 1 KB file. `node --import tsx bench/editor.ts [--size-mb 1024]`
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { Frame, Page } from 'playwright-core';
import { generateJsonl, report, type Row } from './lib';
import { cleanup, launchBrowser, makeWorkspace, openWorkbench, runCommand, showDatasets, startCodeServer, webviewFrame } from '../test/harness/vscode';

const { values } = parseArgs({ options: { 'size-mb': { type: 'string', default: '1024' }, steps: { type: 'string', default: '60' } } });
const sizeMb = Number(values['size-mb']);
const steps = Number(values.steps);

async function position(f: Frame): Promise<string> {
  return (await f.locator('[data-testid="position"]').textContent()) ?? '';
}

async function openFromTree(page: Page, name: string): Promise<{ ms: number; frame: Frame }> {
  await runCommand(page, 'View: Close All Editors');
  await page.waitForTimeout(500);
  await showDatasets(page);
  const item = page.locator('.monaco-list-row', { hasText: name }).first();
  await item.waitFor({ state: 'visible', timeout: 60_000 });
  const t0 = performance.now();
  await item.click();
  const deadline = t0 + 30_000;
  let frame: Frame | undefined;
  for (;;) {
    if (performance.now() > deadline) {
      await page.screenshot({ path: '/tmp/bench-editor-fail.png' });
      throw new Error(`${name}: no record visible after 120 s`);
    }
    frame ??= await webviewFrame(page, '[data-testid="position"]', 5_000).catch(() => undefined);
    if (frame && (await position(frame).catch(() => '')).startsWith('Line 1 ')) break;
    await new Promise((r) => setTimeout(r, 5));
  }
  return { ms: performance.now() - t0, frame };
}

async function navigate(page: Page, frame: Frame, n: number): Promise<number[]> {
  await frame.locator('[data-testid="record"]').click({ position: { x: 5, y: 5 } });
  const times: number[] = [];
  for (let k = 0; k < n; k++) {
    const before = await position(frame);
    const t0 = performance.now();
    await page.keyboard.press('j');
    const deadline = performance.now() + 10_000;
    while ((await position(frame)) === before) {
      if (performance.now() > deadline) throw new Error(`navigation stuck at ${before}`);
      await new Promise((r) => setTimeout(r, 1));
    }
    times.push(performance.now() - t0);
  }
  return times;
}

const p95 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.95))] ?? NaN;

async function main(): Promise<void> {
  const big = join(tmpdir(), `dc-bench-editor-${sizeMb}mb.jsonl`);
  if (!existsSync(big)) {
    console.log(`generating ${sizeMb} MB at ${big}`);
    generateJsonl(big, sizeMb * 1024 * 1024);
  }
  const ws = makeWorkspace({ 'small/small.jsonl': Array.from({ length: 1000 }, (_, i) => JSON.stringify({ id: i, text: `record ${i}`, label: 'a' })).join('\n') + '\n' });
  mkdirSync(join(ws, 'big'), { recursive: true });
  symlinkSync(big, join(ws, 'big', 'big.jsonl'));
  writeFileSync(join(ws, 'tiny.jsonl'), `${JSON.stringify({ text: 'x'.repeat(900), label: 'a' })}\n`);
  console.log('starting the workbench');
  const server = await startCodeServer({ target: 'dev' });
  const browser = await launchBrowser();
  try {
    const { page } = await openWorkbench(browser, server.url({ folder: ws }));
    console.log('opening files');
    await openFromTree(page, 'tiny.jsonl'); // warm-up: the first webview of a session loads cold
    const tiny = await openFromTree(page, 'tiny.jsonl');
    const large = await openFromTree(page, 'big.jsonl');
    const bigNav = await navigate(page, large.frame, steps);
    const small = await openFromTree(page, 'small.jsonl');
    const smallNav = await navigate(page, small.frame, steps);
    const rows: Row[] = [
      { figure: `open ${sizeMb} MB file to first record visible`, value: large.ms, unit: 'ms', baseline: tiny.ms, baselineLabel: '1 KB file, ms', ratio: large.ms / tiny.ms, target: '<= 150 ms', pass: large.ms <= 150 },
      { figure: `record-to-record p95 (${sizeMb} MB file)`, value: p95(bigNav), unit: 'ms', baseline: p95(smallNav), baselineLabel: '1000-record file p95, ms', ratio: p95(bigNav) / p95(smallNav), target: '<= 50 ms', pass: p95(bigNav) <= 50 },
    ];
    report('editor', rows, { steps, bigNav, smallNav });
  } finally {
    await browser.close();
    await server.stop();
    cleanup(ws);
  }
}

void main();
