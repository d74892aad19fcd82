// Declared questions in the curation editor, acting as a person (issue 20): a dataset whose
// .curator/questions.json asks for topics (multi-label), a quality rating, the best of two
// generations (ranking), a corrected response (text) and PII spans. With the keys and the mouse:
// toggle two labels, rate (reject the model's rating, undo), move a candidate up (and drag it), type a
// correction, select an e-mail address in the record's text and mark it, remove a span again;
// save; then the file on disk has every answer and the untouched line is byte-identical.
import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Frame, Page } from 'playwright-core';
import {
  cleanup,
  launchBrowser,
  makeWorkspace,
  openFromDatasets,
  openWorkbench,
  startCodeServer,
  until,
  type CodeServer,
} from '../harness/vscode';

const questions = {
  questions: [
    { name: 'topics', type: 'multi-label', labels: ['billing', 'refund', 'shipping'] },
    { name: 'quality', type: 'rating', min: 1, max: 5 },
    { name: 'best', type: 'ranking', field: 'generations' },
    { name: 'fix', type: 'text', field: 'response' },
    { name: 'pii', type: 'span', field: 'text', labels: ['EMAIL', 'PHONE'] },
  ],
  // A second span question on the same text field, for one dataset.
  datasets: { 'data/ner.jsonl': [{ name: 'entities', type: 'span', field: 'text', labels: ['PERSON', 'ORG'] }] },
};
const nerText = 'Write to Ana Lopez at ana@acme.com today.';
const span = (label: string, quote: string) => {
  const start = nerText.indexOf(quote);
  return { label, start, end: start + quote.length, text: quote };
};
const ner = {
  id: 3,
  text: nerText,
  generations: ['x', 'y'],
  response: 'ok',
  annotations: {
    human: {
      pii: { value: [span('EMAIL', 'ana@acme.com')], user: 'ana', status: 'submitted' },
      // "acme" overlaps the e-mail address of the other question
      entities: { value: [span('PERSON', 'Ana Lopez'), span('ORG', 'acme')], user: 'ana', status: 'submitted' },
    },
  },
};
const text = 'Mail 😀 ana@example.com or call 555-0100 today.';
const first = {
  id: 1,
  text,
  generations: ['A short answer.', 'A longer, better answer.'],
  response: 'Teh answer.',
  annotations: { suggestions: { quality: [{ value: 2, score: 0.7, agent: 'judge-model', type: 'model' }] } },
};
const untouched = '{"id": 2,  "text": "nothing to see", "generations": ["x", "y"], "response": "ok", "n": 1.50}';
/** Two files the revert and raw-JSON tests start from (each its own, so that they run on their own too). */
const revertFile = `${JSON.stringify({ ...first, id: 4 })}\n${untouched}\n`;
const rawFile = `${JSON.stringify({ ...first, id: 5 })}\n${untouched}\n`;
const reloadFile = `${JSON.stringify({ ...first, id: 6 })}\n${untouched}\n`;
/** A person's key for File: Revert File (it has none by default): pressed in the page, the caret stays in its box. */
const REVERT_KEY = 'Control+Alt+Shift+R';

/**
 * Evaluated in the webview (a string: no DOM lib here): `box`, the record's text field, and
 * `at(n)`, the text node and offset of its UTF-16 offset n (the text may be split by span marks).
 */
const TEXT_AT = `
  const box = document.querySelector('section.field[data-field="text"] .field-value');
  const at = (n) => {
    const w = document.createTreeWalker(box, NodeFilter.SHOW_TEXT);
    for (let t = w.nextNode(); t; t = w.nextNode()) {
      if (n <= t.data.length) return [t, n];
      n -= t.data.length;
    }
    return [box, box.childNodes.length];
  };`;

describe('declared questions in the curation editor, as a person', () => {
  let server: CodeServer | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let workspace: string;

  before(async () => {
    workspace = makeWorkspace({
      '.curator/questions.json': JSON.stringify(questions, null, 2),
      'data/chat.jsonl': `${JSON.stringify(first)}\n${untouched}\n`,
      'data/ner.jsonl': `${JSON.stringify(ner)}\n`,
      'data/revert.jsonl': revertFile,
      'data/raw.jsonl': rawFile,
      'data/reload.jsonl': reloadFile,
    });
    server = await startCodeServer();
    writeFileSync(
      join(server.userDataDir, 'User', 'keybindings.json'),
      JSON.stringify([{ key: 'ctrl+alt+shift+r', command: 'workbench.action.files.revert' }]),
    );
    browser = await launchBrowser();
    ({ page } = await openWorkbench(browser, server.url({ folder: workspace })));
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
    if (workspace) cleanup(workspace);
  });

  const q = (f: Frame, name: string) => f.locator(`[data-testid="question-${name}"]`);
  const decision = async (f: Frame, name: string) =>
    ((await q(f, name).locator('[data-testid="decision"]').textContent()) ?? '').trim();
  const focusRecord = async (f: Frame) => f.locator('[data-testid="position"]').click();
  /** Presses a key in the webview (focus on the record first) until the check holds. */
  async function keyUntil(f: Frame, key: string, what: string, check: () => Promise<boolean>): Promise<void> {
    await until(what, async () => {
      if (await check()) return true;
      await focusRecord(f);
      await page.keyboard.press(key);
      for (let i = 0; i < 20 && !(await check()); i++) await new Promise((r) => setTimeout(r, 100));
      return check();
    });
  }
  const focused = async (f: Frame) =>
    (await f
      .locator('.question-focused')
      .getAttribute('data-question')
      .catch(() => null)) ?? undefined;

  test('toggle two labels, rate, rank, correct, mark a span; save; the file on disk has them', async () => {
    const file = join(workspace, 'data/chat.jsonl');
    const frame = await openFromDatasets(page, 'chat.jsonl');
    await until('the questions', async () => (await frame.locator('.question').count()) === 5);
    assert.equal(await focused(frame), 'topics', 'the first question has the focus');
    // the model's suggestion beside the (empty) decision
    assert.match((await q(frame, 'quality').textContent()) ?? '', /judge-model/);
    assert.match(await decision(frame, 'quality'), /no answer yet/);

    // Multi-label: 1 and 3 toggle billing and shipping on the focused question.
    await keyUntil(frame, '1', 'billing on', async () => /billing/.test(await decision(frame, 'topics')));
    await keyUntil(frame, '3', 'shipping on', async () => /billing, shipping/.test(await decision(frame, 'topics')));
    assert.equal(await frame.locator('[data-testid="toggle-topics-billing"]').getAttribute('aria-pressed'), 'true');
    assert.equal(await frame.locator('[data-testid="toggle-topics-refund"]').getAttribute('aria-pressed'), 'false');

    // Rating: ] moves the focus to quality; 4 rates it.
    await keyUntil(frame, ']', 'quality focused', async () => (await focused(frame)) === 'quality');
    await keyUntil(frame, '4', 'rated 4', async () => /^4/.test(await decision(frame, 'quality')));
    // r rejects the focused question's suggestions; VS Code's undo brings the rating back.
    await focusRecord(frame);
    await page.keyboard.press('r');
    await until('rejected', async () => /^rejected/.test(await decision(frame, 'quality')));
    await focusRecord(frame);
    await page.keyboard.press('Control+z');
    await until('undone', async () => /^4/.test(await decision(frame, 'quality')));

    // Ranking: ] to best; 2 selects the second candidate, u moves it up.
    await keyUntil(frame, ']', 'best focused', async () => (await focused(frame)) === 'best');
    await keyUntil(
      frame,
      '2',
      'candidate 2 selected',
      async () =>
        (await frame
          .locator('.candidate-selected')
          .getAttribute('data-candidate')
          .catch(() => null)) === '2',
    );
    await keyUntil(frame, 'u', 'moved up', async () => /^2 > 1/.test(await decision(frame, 'best')));
    // And by dragging: the last candidate onto the first, and back.
    const candidate = (id: string) => q(frame, 'best').locator(`li[data-candidate="${id}"]`);
    await candidate('1').dragTo(candidate('2'));
    await until('dragged up', async () => /^1 > 2/.test(await decision(frame, 'best')));
    await candidate('2').dragTo(candidate('1'));
    await until('dragged back', async () => /^2 > 1/.test(await decision(frame, 'best')));

    // Text: a correction typed inline, sent when the box is left.
    const area = frame.locator('[data-testid="text-fix"]');
    await area.click();
    await area.fill('The answer.');
    await page.keyboard.press('Escape');
    await until('the correction', async () => /The answer\./.test(await decision(frame, 'fix')));

    // Span: select the address in the record's text field with the mouse, then pick EMAIL.
    const box = frame.locator('section.field[data-field="text"] .field-value');
    const at = text.indexOf('ana@');
    // Where the address's first and last characters are, relative to the field's box (in the webview, as a string: no DOM lib here).
    const rects = await frame.evaluate<{ x0: number; y0: number; x1: number; y1: number }>(`(() => {
      ${TEXT_AT}
      const base = box.getBoundingClientRect();
      const r = document.createRange();
      r.setStart(...at(${at})); r.setEnd(...at(${at + 1}));
      const s = r.getBoundingClientRect();
      r.setStart(...at(${at + 14})); r.setEnd(...at(${at + 15}));
      const e = r.getBoundingClientRect();
      return { x0: s.left - base.left + 1, y0: s.top - base.top + s.height / 2, x1: e.right - base.left - 1, y1: e.top - base.top + e.height / 2 };
    })()`);
    const where = await box.boundingBox();
    assert.ok(where);
    await page.mouse.move(where.x + rects.x0, where.y + rects.y0);
    await page.mouse.down();
    await page.mouse.move(where.x + rects.x1, where.y + rects.y1, { steps: 8 });
    await page.mouse.up();
    await until('the selection shown', async () =>
      /ana@example\.com/.test((await frame.locator('[data-testid="span-selection-pii"]').textContent()) ?? ''),
    );
    assert.equal(await frame.locator('[data-testid="field-editor"]').count(), 0, 'selecting is not editing');
    await frame.locator('[data-testid="span-pii-EMAIL"]').click();
    await until('the span listed', async () =>
      /EMAIL\s*7–22\s*“ana@example\.com”/.test(
        (await frame
          .locator('[data-testid="spans-pii"]')
          .textContent()
          .catch(() => '')) ?? '',
      ),
    );
    assert.equal(
      await frame.locator('section.field[data-field="text"] mark.span-mark').textContent(),
      'ana@example.com',
      'the span is marked in the text',
    );

    // A second span, then removed again.
    const phone = text.indexOf('555');
    await frame.evaluate(`(() => {
      ${TEXT_AT}
      const r = document.createRange();
      r.setStart(...at(${phone})); r.setEnd(...at(${phone + 8}));
      document.getSelection().removeAllRanges();
      document.getSelection().addRange(r);
    })()`);
    await q(frame, 'pii').click({ position: { x: 5, y: 5 } });
    await keyUntil(
      frame,
      '2',
      'phone marked',
      async () => (await frame.locator('[data-testid="spans-pii"] li').count()) === 2,
    );
    await frame.locator('[data-testid="remove-span-pii-1"]').click();
    await until(
      'the phone span removed',
      async () => (await frame.locator('[data-testid="spans-pii"] li').count()) === 1,
    );

    // Save with VS Code's key; the file on disk has every answer.
    await focusRecord(frame);
    await page.keyboard.press('Control+s');
    const lines = await until('the save', async () => {
      const now = readFileSync(file, 'utf8').split('\n');
      return /"pii"/.test(now[0] ?? '') && !/"PHONE"/.test(now[0] ?? '') ? now : undefined;
    });
    assert.equal(lines[1], untouched, 'the untouched record is byte-identical');
    const saved = JSON.parse(lines[0] ?? '{}') as {
      response: string;
      annotations: {
        human: Record<string, { value: unknown; status: string }>;
        suggestions: Record<string, unknown>;
      };
    };
    const human = saved.annotations.human;
    assert.deepEqual(human.topics?.value, ['billing', 'shipping']);
    assert.equal(human.quality?.value, 4);
    assert.deepEqual(human.best?.value, [
      { value: '2', rank: 1 },
      { value: '1', rank: 2 },
    ]);
    assert.equal(human.fix?.value, 'The answer.');
    assert.equal(saved.response, 'Teh answer.', 'the corrected field itself is left as it was');
    // code points: the emoji before the address counts once
    assert.deepEqual(human.pii?.value, [{ label: 'EMAIL', start: 7, end: 22, text: 'ana@example.com' }]);
    for (const name of ['topics', 'quality', 'best', 'fix', 'pii']) assert.equal(human[name]?.status, 'submitted');
    assert.deepEqual(saved.annotations.suggestions, first.annotations.suggestions, "the model's suggestion is kept");
  });

  test('Ctrl+S with the caret still in a text box saves what is typed (a text answer, a field edited in place)', async () => {
    const file = join(workspace, 'data/chat.jsonl');
    const frame = await openFromDatasets(page, 'chat.jsonl');
    await until('the questions', async () => (await frame.locator('.question').count()) === 5);
    const onDisk = () => JSON.parse(readFileSync(file, 'utf8').split('\n')[0] ?? '{}') as Record<string, unknown>;
    const fixOnDisk = () =>
      (onDisk() as { annotations?: { human?: { fix?: { value?: unknown } } } }).annotations?.human?.fix?.value;
    await until('the first test saved', async () => fixOnDisk() === 'The answer.');
    const dirtyTab = page.locator('.tabs-container .tab.dirty', { hasText: 'chat.jsonl' });
    assert.equal(await dirtyTab.count(), 0, 'the file starts saved');

    // Type over the text answer and press Ctrl+S at once, the caret still in the box.
    const area = frame.locator('[data-testid="text-fix"]');
    await area.click();
    await frame.evaluate(`document.querySelector('[data-testid="text-fix"]').select()`);
    await page.keyboard.type('Typed, then saved.');
    await page.keyboard.press('Control+s');
    await until('the typed answer on disk', async () => fixOnDisk() === 'Typed, then saved.');
    assert.equal(
      await frame.evaluate<boolean>(`document.activeElement === document.querySelector('[data-testid="text-fix"]')`),
      true,
      'the caret is still in the box',
    );
    assert.equal(await area.inputValue(), 'Typed, then saved.', 'the box shows what was typed');
    await until('saved, not dirty', async () => (await dirtyTab.count()) === 0);

    // After a pause in typing the answer is sent without leaving the box: one edit per pause, not
    // one per key (a machine stalling mid-word may make it two: fewer undos than keys, either way).
    await frame.evaluate(`document.querySelector('[data-testid="text-fix"]').select()`);
    const word = 'One step.';
    await page.keyboard.type(word);
    await until('sent after the pause', async () => /One step\./.test(await decision(frame, 'fix')));
    await dirtyTab.waitFor({ state: 'visible', timeout: 15_000 });
    let undos = 0;
    await until('undo takes the whole answer back', async () => {
      if (/Typed, then saved\./.test(await decision(frame, 'fix'))) return true;
      if (undos >= word.length) throw new Error(`still not back after ${undos} undos`);
      await focusRecord(frame);
      await page.keyboard.press('Control+z');
      undos++;
      for (let i = 0; i < 50 && !/Typed, then saved\./.test(await decision(frame, 'fix')); i++)
        await new Promise((r) => setTimeout(r, 100));
      return /Typed, then saved\./.test(await decision(frame, 'fix'));
    });
    assert.ok(undos < word.length, `${undos} undo steps for ${word.length} keys`);
    await until('clean again', async () => (await dirtyTab.count()) === 0);
    assert.equal(await area.inputValue(), 'Typed, then saved.', 'the box shows the answer the undo brought back');

    // A record field edited in place, Ctrl+S before Enter: the field is saved too.
    await frame.locator('section.field[data-field="response"] .field-value').click();
    const editor = frame.locator('[data-testid="field-editor"]');
    await editor.waitFor({ state: 'visible' });
    await frame.evaluate(`document.querySelector('[data-testid="field-editor"]').select()`);
    await page.keyboard.type('Edited in place.');
    await page.keyboard.press('Control+s');
    await until('the field on disk', async () => onDisk().response === 'Edited in place.');
    await until('saved, not dirty', async () => (await dirtyTab.count()) === 0);
    const line2 = readFileSync(file, 'utf8').split('\n')[1];
    assert.equal(line2, untouched, 'the untouched record is still byte-identical');
  });

  test('two span questions on one text: each in its own colour with a legend and its own list; overlaps both visible; a selection marks either', async () => {
    const file = join(workspace, 'data/ner.jsonl');
    const frame = await openFromDatasets(page, 'ner.jsonl');
    await until('the questions', async () => (await frame.locator('.question').count()) === 6);
    const field = frame.locator('section.field[data-field="text"]');
    assert.equal(await field.locator('.field-value').textContent(), nerText, 'the text itself is unchanged');
    // Each question's spans are marked, titled with the question, in a colour of its own.
    const marks = await frame.evaluate<{ q: string; text: string; title: string; colour: string; inside: string }[]>(
      `[...document.querySelectorAll('section.field[data-field="text"] mark.span-mark')].map((m) => ({
        q: m.dataset.question, text: m.textContent, title: m.title,
        colour: getComputedStyle(m).borderBottomColor + ' ' + getComputedStyle(m).borderBottomStyle,
        inside: m.parentElement.closest('mark.span-mark')?.dataset.question ?? '',
      }))`,
    );
    const of = (q: string) => marks.filter((m) => m.q === q);
    assert.deepEqual(
      of('entities').map((m) => m.text),
      ['Ana Lopez', 'acme'],
      "the entities' spans are marked",
    );
    assert.equal(
      of('pii')
        .map((m) => m.text)
        .join(''),
      'ana@acme.com',
      'the pii span is marked (around the overlap)',
    );
    assert.deepEqual(
      of('entities').map((m) => m.title),
      ['entities: PERSON', 'entities: ORG'],
    );
    assert.ok(of('pii').every((m) => m.title === 'pii: EMAIL'));
    const piiColour = of('pii')[0]?.colour;
    const entColour = of('entities')[0]?.colour;
    assert.ok(piiColour && entColour && piiColour !== entColour, `distinct colours: ${piiColour} / ${entColour}`);
    // Where they overlap, the entities mark sits inside the pii mark: both visible.
    assert.equal(of('entities').find((m) => m.text === 'acme')?.inside, 'pii', 'the overlap is marked for both');
    // The legend beside the field names both questions; each question lists its own spans.
    assert.match((await frame.locator('[data-testid="span-legend-text"]').textContent()) ?? '', /pii.*entities/);
    assert.equal(await frame.locator('[data-testid="spans-pii"] li').count(), 1);
    assert.equal(await frame.locator('[data-testid="spans-entities"] li').count(), 2);
    // Pointing at a span in a list outlines it in the text.
    await frame.locator('[data-testid="spans-entities"] li').nth(1).hover();
    await until(
      'the ORG span outlined',
      async () =>
        (await field.locator('mark.span-hot').count()) === 1 &&
        (await field.locator('mark.span-hot').textContent()) === 'acme',
    );

    // Select "ana" (inside the pii mark) and mark it for the second question.
    const at = nerText.indexOf('ana@');
    await frame.evaluate(`(() => {
      ${TEXT_AT}
      const r = document.createRange();
      r.setStart(...at(${at})); r.setEnd(...at(${at + 3}));
      document.getSelection().removeAllRanges();
      document.getSelection().addRange(r);
    })()`);
    await until('the selection shown for entities', async () =>
      /“ana”/.test((await frame.locator('[data-testid="span-selection-entities"]').textContent()) ?? ''),
    );
    await frame.locator('[data-testid="span-entities-PERSON"]').click();
    await until('the span listed for entities', async () =>
      /PERSON\s*22–25\s*“ana”/.test(
        (await frame
          .locator('[data-testid="spans-entities"]')
          .textContent()
          .catch(() => '')) ?? '',
      ),
    );
    assert.equal(await frame.locator('[data-testid="spans-pii"] li').count(), 1, 'the pii spans are unchanged');
    await focusRecord(frame);
    await page.keyboard.press('Control+s');
    const saved = await until('the save', async () => {
      const line = readFileSync(file, 'utf8').split('\n')[0] ?? '';
      return line.includes('"text":"ana"') ? (JSON.parse(line) as typeof ner) : undefined;
    });
    assert.deepEqual(saved.annotations.human.pii.value, ner.annotations.human.pii.value);
    assert.deepEqual(saved.annotations.human.entities.value, [
      span('PERSON', 'Ana Lopez'),
      { label: 'PERSON', start: 22, end: 25, text: 'ana' },
      span('ORG', 'acme'),
    ]);
  });

  test('File: Revert drops what is typed in a text box and not yet sent: the tab is clean, nothing typed on disk or shown', async () => {
    const file = join(workspace, 'data/revert.jsonl');
    const frame = await openFromDatasets(page, 'revert.jsonl');
    await until('the questions', async () => (await frame.locator('.question').count()) === 5);
    const dirtyTab = page.locator('.tabs-container .tab.dirty', { hasText: 'revert.jsonl' });
    const area = frame.locator('[data-testid="text-fix"]');
    // An unsaved answer first (sent after the pause), so that there is something to revert.
    await area.click();
    await page.keyboard.type('Sent, not saved.');
    await until('sent after the pause', async () => /Sent, not saved\./.test(await decision(frame, 'fix')));
    await dirtyTab.waitFor({ state: 'visible', timeout: 15_000 });

    // More typing, and the revert at once, the caret still in the box (before the pause sends it).
    await frame.evaluate(`document.querySelector('[data-testid="text-fix"]').select()`);
    await page.keyboard.type('Typed, then reverted.');
    await page.keyboard.press(REVERT_KEY);
    // Well past the pause after which typed text is sent: nothing typed before the revert comes back.
    await new Promise((r) => setTimeout(r, 2500));
    const reverted = async () => /no answer yet/.test(await decision(frame, 'fix')) && (await dirtyTab.count()) === 0;
    await until('the revert', reverted, 10_000).catch(() => undefined);
    assert.match(await decision(frame, 'fix'), /no answer yet/, 'the text typed before the revert is not applied');
    assert.equal(await dirtyTab.count(), 0, 'the tab is clean');
    assert.equal(readFileSync(file, 'utf8'), revertFile, 'the file on disk is as it was');
    assert.equal(await area.inputValue(), '', 'the box shows the reverted record (no answer)');
    assert.match(await decision(frame, 'fix'), /no answer yet/);
    assert.match(
      (await frame.locator('[data-testid="status"]').textContent()) ?? '',
      /reverted: what you had typed and not yet sent was dropped/,
    );

    // The same for a record field being edited in place: closed, not sent.
    await frame.locator('section.field[data-field="response"] .field-value').click();
    const editor = frame.locator('[data-testid="field-editor"]');
    await editor.waitFor({ state: 'visible' });
    await frame.evaluate(`document.querySelector('[data-testid="field-editor"]').select()`);
    await page.keyboard.type('Edited, then reverted.');
    await area.click(); // leaving the field sends it (as Enter)...
    await dirtyTab.waitFor({ state: 'visible', timeout: 15_000 });
    await frame.locator('section.field[data-field="response"] .field-value').click();
    await editor.waitFor({ state: 'visible' });
    await frame.evaluate(`document.querySelector('[data-testid="field-editor"]').select()`);
    await page.keyboard.type('Typed again.');
    await page.keyboard.press(REVERT_KEY); // ...this one is reverted before it is sent
    await until('clean', async () => (await dirtyTab.count()) === 0);
    await frame.locator('[data-testid="position"]').click(); // the caret leaves where the editor was
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal(await editor.count(), 0, 'the field editor is closed');
    assert.equal(await dirtyTab.count(), 0, 'the tab stays clean');
    assert.equal(readFileSync(file, 'utf8'), revertFile, 'the file on disk is as it was');
    assert.equal(
      ((await frame.locator('section.field[data-field="response"] .field-value').textContent()) ?? '').trim(),
      'Teh answer.',
    );
  });

  test('Ctrl+S in the raw-JSON dialog applies its valid JSON, then saves; invalid JSON stays in the dialog, not applied, and the rest is saved', async () => {
    const file = join(workspace, 'data/raw.jsonl');
    const frame = await openFromDatasets(page, 'raw.jsonl');
    await until('the questions', async () => (await frame.locator('.question').count()) === 5);
    const dirtyTab = page.locator('.tabs-container .tab.dirty', { hasText: 'raw.jsonl' });
    const dialog = frame.locator('[data-testid="raw-editor-dialog"]');
    const onDisk = () => readFileSync(file, 'utf8').split('\n');
    const openDialog = async () => {
      await keyUntil(frame, 'e', 'the raw-JSON dialog', async () => dialog.isVisible());
      await frame.evaluate(`document.querySelector('[data-testid="raw-editor"]').select()`);
    };

    // Valid JSON: Ctrl+S applies it and saves the file with it; the dialog closes.
    await openDialog();
    const edited = JSON.stringify({ ...first, id: 5, response: 'Fixed in the raw JSON.' });
    await page.keyboard.insertText(edited);
    await page.keyboard.press('Control+s');
    await until('the raw edit on disk', async () => onDisk()[0] === edited);
    await until('the dialog closed', async () => !(await dialog.isVisible()));
    await until('saved, not dirty', async () => (await dirtyTab.count()) === 0);
    assert.equal(
      ((await frame.locator('section.field[data-field="response"] .field-value').textContent()) ?? '').trim(),
      'Fixed in the raw JSON.',
    );

    // Invalid JSON: not applied, the dialog stays open and says so; another unsaved edit is saved.
    const area = frame.locator('[data-testid="text-fix"]');
    await area.click();
    await page.keyboard.type('Saved beside the dialog.');
    await until('sent after the pause', async () => /Saved beside the dialog\./.test(await decision(frame, 'fix')));
    await dirtyTab.waitFor({ state: 'visible', timeout: 15_000 });
    await openDialog();
    await page.keyboard.insertText('{"id": 5, "response": ');
    await page.keyboard.press('Control+s');
    await until('saved, not dirty', async () => (await dirtyTab.count()) === 0);
    const saved = JSON.parse(onDisk()[0] ?? '{}') as {
      response?: string;
      annotations?: { human?: { fix?: { value?: string } } };
    };
    assert.equal(saved.annotations?.human?.fix?.value, 'Saved beside the dialog.', 'the other edit is saved');
    assert.equal(saved.response, 'Fixed in the raw JSON.', 'the invalid JSON is not applied');
    assert.equal(onDisk()[1], untouched, 'the untouched record is still byte-identical');
    assert.ok(await dialog.isVisible(), 'the dialog stays open');
    assert.match((await frame.locator('[data-testid="raw-error"]').textContent()) ?? '', /Not applied: /);
    assert.equal(await frame.locator('[data-testid="raw-editor"]').inputValue(), '{"id": 5, "response": ');
    await page.keyboard.press('Escape');
    await until('the dialog closed', async () => !(await dialog.isVisible()));
  });

  test('a reload because another program changed the file drops what was typed before it: it never lands on the new content', async () => {
    const file = join(workspace, 'data/reload.jsonl');
    const frame = await openFromDatasets(page, 'reload.jsonl');
    await until('the questions', async () => (await frame.locator('.question').count()) === 5);
    const dirtyTab = page.locator('.tabs-container .tab.dirty', { hasText: 'reload.jsonl' });
    const area = frame.locator('[data-testid="text-fix"]');
    const response = frame.locator('section.field[data-field="response"] .field-value');
    await area.click();
    await page.keyboard.type('Typed before the reload');
    // Another program rewrites the file while the tab is clean: the editor reloads it without asking.
    const changed = `${JSON.stringify({ ...first, id: 6, response: 'Changed on disk.' })}\n${untouched}\n`;
    writeFileSync(file, changed);
    // Typing goes on (a key every few hundred ms: the pause never comes) until the new content shows.
    await until(
      'the reload',
      async () => {
        if (((await response.textContent()) ?? '').trim() === 'Changed on disk.') return true;
        await page.keyboard.type('.');
        await new Promise((r) => setTimeout(r, 200));
        return false;
      },
      30_000,
    );
    // Well past the pause: what was typed before the reload is not sent (dots typed after it may be).
    await new Promise((r) => setTimeout(r, 2500));
    assert.doesNotMatch(await area.inputValue(), /Typed before the reload/, 'the box dropped it');
    assert.doesNotMatch(await decision(frame, 'fix'), /Typed before the reload/, 'it is not the answer');
    if ((await dirtyTab.count()) > 0) {
      // the dots typed after the reload are an answer of their own: reverted, not saved
      await page.keyboard.press(REVERT_KEY);
      await until('clean', async () => (await dirtyTab.count()) === 0);
    }
    assert.equal(readFileSync(file, 'utf8'), changed, 'the file on disk is the other program`s');
  });
});
