// List mode on a million records, acting as a person in the real workbench: End, the wheel and the
// scrollbar reach row 1,000,000; whatever rows are on screen, at any position, are the file's
// lines (read back from the file at their byte offset); "only matches" lists just the search's
// matches, keys move within them, Enter opens the record.
import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
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
import { LABELS, RARE_WORD, readLine, writeMillion } from '../support/million';

const COUNT = 1_000_000;

interface ShownRow {
  top: number;
  bottom: number;
  line: string;
  label: string;
  score: string;
  text: string;
  selected: boolean;
  loading: boolean;
}

describe('list mode over a million records, as a person', () => {
  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let workspace: string;
  let file: string;
  let frame: Frame;

  before(async () => {
    workspace = makeWorkspace({});
    mkdirSync(join(workspace, 'big'), { recursive: true });
    file = join(workspace, 'big', 'million.jsonl');
    writeMillion(file, COUNT);
    ({ server, browser, page } = await startWorkbench(workspace, { scrollbars: true }));
  });

  after(async () => {
    await closeWorkbench({ browser, server, workspace });
  });

  const position = async () => (await frame.locator('[data-testid="position"]').textContent()) ?? '';

  /** The rows inside the list's viewport, as they are on screen. */
  async function shownRows(): Promise<ShownRow[]> {
    return await frame.evaluate<ShownRow[]>(`(() => {
      const vp = document.querySelector('[data-testid="list-viewport"]');
      const box = vp.getBoundingClientRect();
      return [...vp.querySelectorAll('[data-testid="list-row"]')].filter((r) => !r.hidden).map((r) => {
        const b = r.getBoundingClientRect();
        const cell = (c) => r.querySelector(c)?.textContent ?? '';
        return { top: b.top - box.top, bottom: b.bottom - box.top, line: cell('.col-line'), label: cell('.col-label'), score: cell('.col-score'), text: cell('.col-field'),
          selected: r.classList.contains('selected'), loading: r.classList.contains('loading') };
      }).filter((r) => r.bottom > 1 && r.top < box.height - 1).sort((a, b) => a.top - b.top);
    })()`);
  }

  /** Waits until the rows on screen are loaded; checks each against the file; returns their line numbers. */
  async function checkShownRows(what: string): Promise<number[]> {
    const rows = await until(`${what}: rows loaded`, async () => {
      const r = await shownRows();
      return r.length > 5 && r.every((x) => !x.loading) ? r : undefined;
    });
    const lines = rows.map((r) => Number(r.line));
    for (const [k, r] of rows.entries()) {
      const expected = JSON.parse(readLine(file, lines[k]!)) as {
        text: string;
        label: string;
        judge: { score: number };
      };
      assert.equal(r.text, expected.text, `${what}: line ${r.line} shows the file's text`);
      assert.equal(r.label, expected.label, `${what}: line ${r.line} shows the file's label`);
      assert.equal(r.score, String(expected.judge.score), `${what}: line ${r.line} shows the file's score`);
      if (k > 0) assert.equal(lines[k], lines[k - 1]! + 1, `${what}: rows are consecutive (${lines.join(',')})`);
    }
    return lines;
  }

  async function viewportBox() {
    const box = await frame.locator('[data-testid="list-viewport"]').boundingBox();
    assert.ok(box, 'the list is on screen');
    return box;
  }

  test('End, the wheel and the scrollbar reach row 1,000,000; rows anywhere are the file lines', async () => {
    await showDatasets(page);
    const item = page.locator('.monaco-list-row', { hasText: 'million.jsonl' }).first();
    await item.waitFor({ state: 'visible', timeout: 60_000 });
    await item.click();
    frame = await webviewFrame(page, '[data-testid="annotation-panel"]');
    await until('the whole file indexed', async () => (await position()) === `Line 1 of ${COUNT}`, 60_000);

    await frame.locator('[data-testid="position"]').click();
    await page.keyboard.press('l');
    await frame.locator('[data-testid="list-viewport"]').waitFor({ state: 'visible' });
    assert.deepEqual((await checkShownRows('the top')).slice(0, 3), [1, 2, 3]);
    assert.equal(
      ((await frame.locator('[data-testid="list-summary"]').textContent()) ?? '').trim(),
      '1,000,000 records',
    );

    // The End key: the last row, selected, with the file's content.
    await page.keyboard.press('End');
    const atEnd = await until('the last row on screen', async () => {
      const rows = await shownRows();
      const last = rows[rows.length - 1];
      return last && last.line === String(COUNT) && !last.loading && last.selected ? rows : undefined;
    });
    assert.ok(atEnd.length > 5);
    await checkShownRows('after End');
    await page.keyboard.press('Home');
    await until('back at the top', async () => (await shownRows())[0]?.line === '1');

    // A wheel notch moves the rows by its own pixels, as in a short file: 240 px, 10 rows (the
    // list's spacer is shorter than a million rows; the browser's own scrolling moved it 3 times as far).
    const box = await viewportBox();
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.wheel(0, 240);
    let settled = '';
    await until('the wheel moved the list and settled', async () => {
      const first = (await shownRows())[0]?.line ?? '';
      const done = first !== '1' && first === settled;
      settled = first;
      await new Promise((r) => setTimeout(r, 200));
      return done;
    });
    assert.equal((await checkShownRows('a wheel of 240 px'))[0], 11, 'a 240 px wheel moves the list by 10 rows');
    await page.keyboard.press('Home');
    await until('back at the top', async () => (await shownRows())[0]?.line === '1');

    // The wheel, as far as it goes.
    await until('the wheel reaches the end', async () => {
      await page.mouse.wheel(0, 3_000_000);
      const rows = await shownRows();
      return rows[rows.length - 1]?.line === String(COUNT);
    });
    const wheeled = await checkShownRows('wheel to the end');
    assert.equal(wheeled[wheeled.length - 1], COUNT);

    // The wheel at random places: whatever is on screen is what the file has there.
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
    const seen: number[] = [];
    for (let k = 0; k < 4; k++) {
      await page.keyboard.press('Home');
      await until('at the top', async () => (await shownRows())[0]?.line === '1');
      await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
      const before = (await shownRows())[0]?.line;
      await page.mouse.wheel(0, Math.round(200_000 + rnd() * 7_000_000));
      await until('the wheel moved the list', async () => (await shownRows())[0]?.line !== before);
      seen.push((await checkShownRows(`wheel position ${k + 1}`))[0]!);
    }

    // The scrollbar: drag its thumb from the top to the bottom, then to the middle.
    await page.keyboard.press('Home');
    await until('at the top', async () => (await shownRows())[0]?.line === '1');
    const bar = await frame.evaluate<number>(
      `(() => { const v = document.querySelector('[data-testid="list-viewport"]'); return v.offsetWidth - v.clientWidth; })()`,
    );
    assert.ok(bar > 0, 'the list has a scrollbar');
    // Below the scrollbar's up arrow (as wide as the bar is), on the thumb.
    const x = box.x + box.width - bar / 2;
    await page.mouse.move(x, box.y + bar + 6);
    await page.mouse.down();
    await page.mouse.move(x, box.y + box.height / 2, { steps: 5 });
    await until('the thumb dragged to the middle', async () => Number((await shownRows())[0]?.line) > 100_000);
    const middle = await checkShownRows('scrollbar in the middle');
    seen.push(middle[0]!);
    await page.mouse.move(x, box.y + box.height + 200, { steps: 5 });
    await page.mouse.up();
    const dragged = await until('the thumb dragged to the bottom', async () => {
      const rows = await shownRows();
      return rows[rows.length - 1]?.line === String(COUNT) ? rows : undefined;
    });
    assert.ok(dragged.length > 5);
    await checkShownRows('scrollbar at the bottom');
    assert.equal(new Set(seen).size, seen.length, `different places were checked: ${seen.join(', ')}`);
  });

  test('only matches: the count, just the matching rows, keys within them, Enter opens the record', async () => {
    // Search for the rare word: one line in a thousand.
    await frame.locator('[data-testid="search-input"]').click();
    await page.keyboard.type(RARE_WORD);
    await until(
      'the match count',
      async () => /\b1,000 matches\b/.test((await frame.locator('[data-testid="search-count"]').textContent()) ?? ''),
      60_000,
    );
    await frame.locator('[data-testid="only-matches"]').click();
    await until(
      'the list summary',
      async () =>
        ((await frame.locator('[data-testid="list-summary"]').textContent()) ?? '').trim() ===
        `1,000 matches of ${COUNT.toLocaleString('en-US')} records`,
      60_000,
    );
    const matchRows = async () => {
      const rows = await until('match rows loaded', async () => {
        const r = await shownRows();
        return r.length > 3 && r.every((x) => !x.loading) ? r : undefined;
      });
      for (const r of rows) {
        assert.equal(Number(r.line) % 1000, 7, `line ${r.line} is a match`);
        assert.ok(r.text.includes(RARE_WORD));
        assert.equal(r.text, (JSON.parse(readLine(file, Number(r.line))) as { text: string }).text);
      }
      return rows;
    };
    const rows = await matchRows();
    assert.deepEqual(
      rows.slice(0, 3).map((r) => r.line),
      ['7', '1007', '2007'],
      'the first matches, in order',
    );

    // Keys move within the matches.
    await frame.locator('[data-testid="list-viewport"]').focus();
    await page.keyboard.press('Home');
    await until('the first match selected', async () => (await shownRows()).find((r) => r.selected)?.line === '7');
    await page.keyboard.press('j');
    await page.keyboard.press('j');
    await until('the third match selected', async () => (await shownRows()).find((r) => r.selected)?.line === '2007');
    await page.keyboard.press('End');
    await until('the last match selected', async () => (await shownRows()).find((r) => r.selected)?.line === '999007');
    await matchRows();
    await page.keyboard.press('k');
    await until('the one before', async () => (await shownRows()).find((r) => r.selected)?.line === '998007');

    // Enter opens that record.
    await page.keyboard.press('Enter');
    await until('the record', async () => (await position()) === `Line 998007 of ${COUNT}`);
    assert.equal(
      await frame.locator('[data-field="text"] .field-value').textContent(),
      (JSON.parse(readLine(file, 998007)) as { text: string }).text,
    );

    // Many matches: a third of the file by label. The list pages through them by position.
    await page.keyboard.press('Escape');
    await frame.locator('[data-testid="search-clear"]').click();
    await frame.locator('[data-testid="search-label"]').click();
    await frame.getByRole('option', { name: LABELS[1]! }).click();
    await frame.locator('[data-testid="position"]').click();
    await page.keyboard.press('m'); // list mode with only the matches
    await until(
      'every bravo counted',
      async () => {
        const shown = ((await frame.locator('[data-testid="list-summary"]').textContent()) ?? '').trim();
        if (shown === `333,334 matches of ${COUNT.toLocaleString('en-US')} records`) return true;
        throw new Error(`the list says "${shown}"`);
      },
      120_000,
    );
    await frame.locator('[data-testid="list-viewport"]').focus();
    await page.keyboard.press('End');
    await until('the last bravo', async () => (await shownRows()).find((r) => r.selected)?.line === '1000000');
    for (const r of await until('rows', async () => {
      const x = await shownRows();
      return x.length > 3 && x.every((y) => !y.loading) ? x : undefined;
    })) {
      assert.equal(r.label, LABELS[1]);
      assert.equal(r.text, (JSON.parse(readLine(file, Number(r.line))) as { text: string }).text);
    }
    // m again: every record, the selection stays on the same record.
    await page.keyboard.press('m');
    await until(
      'all records again',
      async () =>
        ((await frame.locator('[data-testid="list-summary"]').textContent()) ?? '').trim() === '1,000,000 records',
    );
    await until('same record selected', async () => (await shownRows()).find((r) => r.selected)?.line === '1000000');
    await runCommand(page, 'View: Close All Editors');
  });
});
