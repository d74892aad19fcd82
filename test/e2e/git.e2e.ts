// Two people label on their own branches, the lead merges with the merge driver installed from the
// command palette, and sees in the curation editor both people's decisions on the record they
// decided differently: the current one in the annotation panel, in the disagreement review queue,
// the other one in "Compare with Branch or Revision…", which steps through the changed records.
import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Frame, Page } from 'playwright-core';
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

const env = { ...process.env, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' };
const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, env, stdio: 'pipe' }).toString();
const lines = (...recs: unknown[]) => recs.map((r) => `${JSON.stringify(r)}\n`).join('');

describe('git: two people label, the lead merges and reviews', () => {
  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let workspace: string;

  before(async () => {
    workspace = makeWorkspace({ 'README.md': '# data\n' });
    git(workspace, 'init', '-q', '-b', 'main');
    git(workspace, 'config', 'user.name', 'lead');
    git(workspace, 'config', 'user.email', 'lead@example.com');
    mkdirSync(join(workspace, 'data'));
    writeFileSync(
      join(workspace, 'data', 'reviews.jsonl'),
      lines(
        { id: 1, text: 'The battery lasts two days.' },
        { id: 2, text: 'The screen cracked in a week.' },
        { id: 3, text: 'It works.' },
      ),
    );
    git(workspace, 'add', '.');
    git(workspace, 'commit', '-qm', 'base');
    ({ server, browser, page } = await startWorkbench(workspace));
  });

  after(async () => {
    await closeWorkbench({ browser, server, workspace });
  });

  const position = async (f: Frame) => (await f.locator('[data-testid="position"]').textContent()) ?? '';

  test('merge with the driver, then see both decisions and step through the changes', async () => {
    // The lead installs the merge driver from the command palette.
    await runCommand(page, 'Install the JSONL Merge Driver in This Repository');
    const written = await until('the driver in the config', async () => {
      const d = git(workspace, 'config', '--get', 'merge.curate.driver').trim();
      return /merge-driver %O %A %B %P$/.test(d) ? d : undefined;
    });
    if (written.startsWith('curate ')) {
      // The installed package (the e2e's default target) carries no CLI: its command writes `curate`,
      // which users install on its own (npm install -g). Here git runs this checkout's CLI instead.
      const q = (x: string) => `'${x.replace(/'/g, `'\\''`)}'`;
      const cli = [
        process.execPath,
        '--import',
        join(__dirname, '..', '..', 'node_modules/tsx/dist/loader.mjs'),
        join(__dirname, '..', '..', 'src/cli/main.ts'),
      ]
        .map(q)
        .join(' ');
      git(workspace, 'config', 'merge.curate.driver', `${cli} merge-driver %O %A %B %P`);
    } else assert.match(written, /^node .*cli\.js'? merge-driver/);
    // The command writes the config, then .gitattributes: wait for both.
    const attributes = await until('.gitattributes', async () =>
      existsSync(join(workspace, '.gitattributes'))
        ? readFileSync(join(workspace, '.gitattributes'), 'utf8')
        : undefined,
    );
    assert.equal(attributes, '*.jsonl merge=curate\n');
    git(workspace, 'add', '.gitattributes');
    git(workspace, 'commit', '-qm', 'merge datasets by record');
    // maria and bob label on their branches (as they would in their own clones)
    const file = join(workspace, 'data', 'reviews.jsonl');
    const base = readFileSync(file, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const decide = (r: Record<string, unknown>, value: string, user: string, time: string) => ({
      ...r,
      label: value,
      annotations: {
        human: { label: { value, user, status: 'submitted', time } },
        review: { status: 'reviewed', time },
      },
    });
    git(workspace, 'checkout', '-q', '-b', 'maria');
    writeFileSync(
      file,
      lines(
        decide(base[0]!, 'negative', 'maria', '2026-12-06T09:00:00.000Z'),
        decide(base[1]!, 'negative', 'maria', '2026-12-06T09:01:00.000Z'),
        base[2],
      ),
    );
    git(workspace, 'commit', '-qam', 'maria labels');
    git(workspace, 'checkout', '-q', 'main');
    writeFileSync(file, lines(decide(base[0]!, 'positive', 'bob', '2026-12-06T10:00:00.000Z'), base[1], base[2]));
    git(workspace, 'commit', '-qam', 'bob labels');
    git(workspace, 'merge', '-q', 'maria', '-m', 'merge maria');
    assert.equal(git(workspace, 'status', '--porcelain'), '', 'merged without a conflict');

    // The lead opens the merged file in the curation editor.
    await showDatasets(page);
    const item = page.locator('.monaco-list-row', { hasText: 'reviews.jsonl' }).first();
    await item.waitFor({ state: 'visible', timeout: 30_000 });
    await item.click();
    const frame = await webviewFrame(page, '[data-testid="annotation-panel"]');
    await until('the first record', async () => (await position(frame)).startsWith('Line 1 '));
    // bob's decision is the current one; the record waits in the disagreement queue
    await until("bob's decision", async () =>
      ((await frame.locator('[data-testid="annotation-panel"]').textContent()) ?? '').includes('Human decision by bob'),
    );
    await until(
      'the disagreement queue',
      async () => (await frame.locator(`[title*='review queue "disagreement"']`).count()) > 0,
    );

    // What the merge brought in: compare with the commit before it (a typed revision), once the
    // editor has the focus (as a person sees it open before typing a command)
    await until('the editor focused', () => frame.evaluate<boolean>('document.hasFocus()'));
    await runCommand(page, 'Compare with Branch or Revision (per record)');
    const input = page.locator('.quick-input-widget input');
    await page
      .locator('.quick-input-list .monaco-list-row', { hasText: 'maria' })
      .first()
      .waitFor({ state: 'visible', timeout: 15_000 });
    await input.fill('HEAD~1');
    await page
      .locator('.quick-input-list .monaco-list-row', { hasText: 'the revision as typed' })
      .first()
      .waitFor({ state: 'visible', timeout: 15_000 });
    await page.keyboard.press('Enter');
    const rows = page.locator('.quick-input-list .monaco-list-row');
    await until('the changed records', async () =>
      (await rows.count()) === 2 && (await rows.first().textContent())?.includes('id 1') ? true : undefined,
    );
    const texts = await rows.allTextContents();
    assert.match(texts[0]!, /id 1.*line 1.*decision, review/);
    assert.match(texts[0]!, /decision label by maria at 2026-12-06T09:00:00.000Z: negative/);
    assert.match(texts[0]!, /review reviewed -> pending \(queue disagreement\)/);
    assert.match(texts[1]!, /id 2.*line 2.*label, decision, review/);
    // moving down the list shows that record in the curation editor
    await page.keyboard.press('ArrowDown');
    await until('line 2 in the editor', async () => (await position(frame)).startsWith('Line 2 '));
    await page.keyboard.press('Enter');
    await until('Human decision by maria on line 2', async () =>
      ((await frame.locator('[data-testid="annotation-panel"]').textContent()) ?? '').includes(
        'Human decision by maria',
      ),
    );
  });
});
