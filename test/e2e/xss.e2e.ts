// An XSS corpus in the real webview: payloads (script tags, event handlers, javascript: URLs, SVG
// with onload, CSS injection, iframes, markdown and HTML) in every place the curation editor shows
// text: record fields and field names, chat messages, labels, rationales, judge reasons and
// criteria, suggestions, the human's name; and as model output, from the loopback server, through
// "Label This Record" and "Judge This Record". Nothing executes: no dialog, no injected element,
// no navigation, no request but the webview's own resources (a canary server on loopback gets
// none); every payload is on screen as text. The CSP is checked from the page: its meta tag (no
// 'unsafe-inline', no 'unsafe-eval'), and an inline script, an inline event handler, a <style> and a
// style attribute tried and blocked, each with a securitypolicyviolation event.
import { after, before, describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Frame, Page, Request } from 'playwright-core';
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
import { startOpenAIServer, type OpenAITestServer } from '../support/openai-server';

/** Payloads; C is the canary server's origin. Every injected tag would carry data-pwn, every markdown mark "pwn-". */
const payloads = (C: string): string[] => [
  // First: the first record travels inside the page (a JSON data block); it must not end that block.
  `</script><script data-pwn>window.__pwned='data-block';fetch('${C}/data-block')</script><!--`,
  `<script data-pwn>window.__pwned='script';fetch('${C}/script')</script>`,
  `<img data-pwn src="${C}/img.png" onerror="window.__pwned='img'">`,
  `<svg data-pwn onload="window.__pwned='svg'"><image href="${C}/svg.png"/></svg>`,
  `<a data-pwn href="javascript:window.__pwned='href'">click</a> javascript:window.__pwned='bare'`,
  `</style><style data-pwn>body{background:url(${C}/css.png)}</style>`,
  `<div data-pwn style="background:url(${C}/style-attr.png)">styled</div>`,
  `"><iframe data-pwn src="${C}/iframe.html"></iframe><iframe data-pwn srcdoc="<script>parent.__pwned='srcdoc'</script>"></iframe>`,
  `<details data-pwn open ontoggle="window.__pwned='toggle'">x</details>`,
  `**pwn-bold** _pwn-em_ [pwn-link](javascript:alert(1)) ![pwn-img](${C}/md.png) <b data-pwn onmouseover=alert(1)>hover</b>`,
  `<object data-pwn data="${C}/obj"></object><embed data-pwn src="${C}/embed">`,
  `<link data-pwn rel="stylesheet" href="${C}/link.css"><meta data-pwn http-equiv="refresh" content="0;url=${C}/meta"><base data-pwn href="${C}/">`,
  `<form data-pwn action="${C}/form"><button data-pwn formaction="javascript:alert(1)">go</button></form>{{constructor.constructor('window.__pwned=1')()}}`,
];

/** A record with payload `p` everywhere the editor shows text. */
function hostileRecord(p: string, i: number): Record<string, unknown> {
  return {
    id: `x${i}`,
    text: p,
    [`key ${p}`]: p,
    messages: [
      { role: 'user', content: p },
      { role: 'assistant', content: p },
    ],
    label: p,
    rationale: p,
    judge: { score: 5, scale: [1, 10], reasons: p, criteria: { [p.slice(0, 40)]: 4 }, model: p },
    annotations: {
      suggestions: {
        label: [
          {
            value: p,
            score: 0.5,
            agent: p,
            type: 'model',
            rationale: p,
            provenance: { model: p, prompt_hash: p, time: '2026-11-20T09:00:13.000Z' },
          },
        ],
      },
      human: { label: { value: p, user: p, status: 'submitted' } },
      review: { status: p },
    },
  };
}

/** Labels from the payloads (a label is at most 200 characters). */
const payloadLabels = (list: readonly string[]): string[] => [...new Set(list.filter((p) => p.length <= 200))];

/**
 * Declared questions (issue 20) whose titles, descriptions, guidelines, labels and span labels are
 * payloads (a question's name cannot be: letters, digits, _ and - only), for one dataset.
 */
function hostileQuestions(list: readonly string[]): Record<string, unknown> {
  const labels = payloadLabels(list);
  const at = (i: number) => list[i % list.length]!;
  return {
    datasets: {
      'hostile/questions.jsonl': [
        { name: 'topics', type: 'multi-label', labels, title: at(1), description: at(2), guidelines: at(3) },
        { name: 'quality', type: 'rating', min: 1, max: 5, title: at(4), description: at(5), guidelines: at(6) },
        { name: 'best', type: 'ranking', field: 'candidates', title: at(7), description: at(8) },
        { name: 'fix', type: 'text', field: 'text', title: at(9), guidelines: at(10) },
        { name: 'pii', type: 'span', field: 'text', labels, title: at(11), description: at(12), guidelines: at(0) },
        { name: 'entities', type: 'span', field: 'text', labels: labels.slice(0, 3), title: at(2) },
      ],
    },
  };
}

/** A record whose every question's answer and suggestion carries payload `p` (labels: the declared ones). */
function hostileAnswers(p: string, i: number, labels: readonly string[]): Record<string, unknown> {
  const label = labels[i % labels.length]!;
  const other = labels[(i + 1) % labels.length]!;
  const text = `before ${p} after`;
  const span = (l: string) => [{ label: l, start: 7, end: 7 + Array.from(p).length, text: p }];
  const model = (value: unknown, extra: Record<string, unknown> = {}) => [
    { value, score: 0.5, agent: p, type: 'model', rationale: p, ...extra },
  ];
  const human = (value: unknown) => ({ value, user: p, status: 'submitted' });
  return {
    id: `q${i}`,
    text,
    candidates: [p, `second ${p}`],
    annotations: {
      human: {
        topics: human([label]),
        quality: human(4),
        best: human([
          { value: '2', rank: 1 },
          { value: '1', rank: 2 },
        ]),
        fix: human(p),
        pii: human(span(label)),
        entities: human(span(labels[i % 3]!)),
      },
      suggestions: {
        topics: model([other], { label_scores: { [label]: 0.2, [other]: 0.9 } }),
        quality: model(2),
        best: model(['1', '2']),
        fix: model(`model ${p}`),
        pii: model(span(other)),
        // a label the question does not have: shown with why it does not fit, as text
        entities: model([{ label: p, start: 0, end: 6, text: 'before' }]),
      },
    },
  };
}

describe('XSS corpus in the real webview', () => {
  let server: CodeServer | undefined;
  let llm: OpenAITestServer | undefined;
  let canary: Server | undefined;
  const canaryHits: string[] = [];
  let C = '';
  let browser: Browser | undefined;
  let page: Page;
  let workspace: string;
  const dialogs: string[] = [];
  const requests: Request[] = [];
  const navigations: string[] = [];
  let list: string[] = [];

  before(async () => {
    canary = createServer((req, res) => {
      canaryHits.push(`${req.method} ${req.url}`);
      res.end('');
    });
    await new Promise<void>((r) => canary!.listen(0, '127.0.0.1', r));
    C = `http://127.0.0.1:${(canary.address() as AddressInfo).port}`;
    list = payloads(C);
    // Model output carries the payloads too: every free-text field of every answer.
    llm = await startOpenAIServer();
    let n = 0;
    llm.respond = (req) => {
      if (!req.path.endsWith('/chat/completions')) return undefined;
      const reply = llm!.defaultReply(req.body as Parameters<OpenAITestServer['defaultReply']>[0]);
      if (!('content' in reply)) return reply;
      const v = JSON.parse(reply.content) as Record<string, unknown>;
      for (const k of ['rationale', 'reasons', 'critique', 'refined'])
        if (typeof v[k] === 'string') v[k] = `model ${k}: ${list[n++ % list.length]}`;
      return { content: JSON.stringify(v) };
    };
    workspace = makeWorkspace({
      'hostile/xss.jsonl': `${list.map((p, i) => JSON.stringify(hostileRecord(p, i))).join('\n')}\n`,
      '.curator/questions.json': JSON.stringify(hostileQuestions(list), null, 2),
      'hostile/questions.jsonl': `${list.map((p, i) => JSON.stringify(hostileAnswers(p, i, payloadLabels(list)))).join('\n')}\n`,
    });
    mkdirSync(join(workspace, '.vscode'), { recursive: true });
    writeFileSync(join(workspace, '.vscode', 'settings.json'), '{}');
    ({ server, browser, page } = await startWorkbench(workspace, {
      env: { OPENAI_API_KEY: 'sk-xss-e2e' },
      settings: {
        'datasetCurator.llm.baseUrl': llm.baseURL,
        'datasetCurator.llm.model': 'xss-model',
        'datasetCurator.llm.confirmCostAbove': 1000,
      },
      dialogs,
    }));
  });

  after(async () => {
    await closeWorkbench({ browser, server, workspace });
    await llm?.close();
    canary?.close();
  });

  const position = async (f: Frame) => (await f.locator('[data-testid="position"]').textContent()) ?? '';

  /** What the webview's document holds that a payload could have injected (evaluated in the webview, as a string: no DOM lib here). */
  const injected = (f: Frame) =>
    f.evaluate<{
      pwned: string | null;
      marked: number;
      handlers: string[];
      scripts: number;
      dataBlocks: number;
      frames: number;
      jsLinks: number;
      markdown: number;
      location: string;
    }>(`(() => {
      const all = [...document.querySelectorAll('*')];
      return {
        pwned: window.__pwned ?? null,
        marked: document.querySelectorAll('[data-pwn]').length,
        handlers: all.filter((e) => [...e.attributes].some((a) => /^on/i.test(a.name))).map((e) => e.tagName),
        // VS Code's own acquireVsCodeApi script, injected into every webview, is the one allowed without
        // the nonce; the page's data block (the first record, type application/json) is never run.
        scripts: [...document.scripts].filter((s) => !s.nonce && s.id !== '_vscodeApiScript' && !(s.id === 'dc-init' && s.type === 'application/json')).length,
        dataBlocks: [...document.scripts].filter((s) => s.type === 'application/json').length,
        frames: document.querySelectorAll('iframe, frame, object, embed').length,
        jsLinks: [...document.querySelectorAll('[href], [src], [action], [formaction]')].filter((e) => /javascript:/i.test(e.getAttribute('href') ?? e.getAttribute('src') ?? e.getAttribute('action') ?? e.getAttribute('formaction') ?? '')).length,
        markdown: [...document.querySelectorAll('strong, em, a, b, i, img')].filter((e) => (e.textContent ?? '').includes('pwn-') || (e.getAttribute('alt') ?? '').includes('pwn-')).length,
        location: location.href,
      };
    })()`);

  function assertClean(r: Awaited<ReturnType<typeof injected>>, where: string): void {
    assert.equal(r.pwned, null, `${where}: a payload ran`);
    assert.equal(r.marked, 0, `${where}: an element from a payload is in the DOM`);
    assert.deepEqual(r.handlers, [], `${where}: inline event handlers in the DOM`);
    assert.equal(r.scripts, 0, `${where}: a script without the nonce`);
    assert.ok(r.dataBlocks <= 1, `${where}: the page's one data block, not one a payload made`);
    assert.equal(r.frames, 0, `${where}: a frame, object or embed`);
    assert.equal(r.jsLinks, 0, `${where}: a javascript: URL`);
    assert.equal(r.markdown, 0, `${where}: markdown was rendered`);
  }

  test('payloads in every field, key, message, label, rationale, judge, suggestion and name: shown as text, nothing runs', async () => {
    await showDatasets(page);
    const item = page.locator('.monaco-list-row', { hasText: 'xss.jsonl' }).first();
    await item.waitFor({ state: 'visible', timeout: 30_000 });
    // From here on, every request and navigation the page makes is recorded.
    page.on('request', (r) => requests.push(r));
    page.on('framenavigated', (f) => navigations.push(f.url()));
    await item.click();
    const frame = await webviewFrame(page, '[data-testid="annotation-panel"]');
    const home = frame.url();
    await until('the first record', async () => (await position(frame)).startsWith('Line 1 '));
    for (let i = 0; i < list.length; i++) {
      const p = list[i]!;
      await until(`record ${i + 1}`, async () => {
        if ((await position(frame)).startsWith(`Line ${i + 1} `)) return true;
        await frame.locator('[data-testid="next"]').click();
        return (await position(frame)).startsWith(`Line ${i + 1} `);
      });
      assert.equal(
        await frame.locator('[data-field="text"] .field-value').textContent(),
        p,
        `record ${i + 1}: the text is shown as text`,
      );
      const recordText = (await frame.locator('[data-testid="record"]').textContent()) ?? '';
      assert.ok(recordText.includes(`key ${p}`), `record ${i + 1}: the payload field name is shown as text`);
      const panelText = (await frame.locator('[data-testid="annotation-panel"]').textContent()) ?? '';
      assert.ok(panelText.includes(p), `record ${i + 1}: the label, rationale and reasons are shown as text`);
      assertClean(await injected(frame), `record ${i + 1}`);
      assert.equal(frame.url(), home, 'the webview did not navigate');
    }
    // The list mode and the stats view render the same strings.
    await frame.locator('[data-testid="position"]').click();
    await page.keyboard.press('l');
    await until('the list', async () =>
      ((await frame.locator('body').textContent()) ?? '').includes(list[3]!.slice(0, 30)),
    );
    assertClean(await injected(frame), 'list mode');
    await page.keyboard.press('Escape');
    await frame
      .locator('[data-testid="position"]')
      .click()
      .catch(() => undefined);
    await page.keyboard.press('s');
    await new Promise((r) => setTimeout(r, 1000));
    assertClean(await injected(frame), 'stats view');
    await page.keyboard.press('Escape');
  });

  test('payloads as model output (Label This Record, Judge This Record): shown as text, nothing runs', async () => {
    const frame = await webviewFrame(page, '[data-testid="annotation-panel"]');
    await frame.locator('[data-testid="position"]').click();
    await until('line 1', async () => {
      if ((await position(frame)).startsWith('Line 1 ')) return true;
      await page.keyboard.press('Home');
      return false;
    });
    await runCommand(page, 'Dataset Curator: Label This Record with LLM');
    await until(
      'the model rationale in the editor',
      async () =>
        ((await frame.locator('[data-testid="annotation-panel"]').textContent()) ?? '').includes('model rationale: '),
      60_000,
    );
    await runCommand(page, 'Dataset Curator: Judge This Record with LLM');
    await until(
      'the model reasons in the editor',
      async () =>
        ((await frame.locator('[data-testid="annotation-panel"]').textContent()) ?? '').includes('model reasons: '),
      60_000,
    );
    const panel = (await frame.locator('[data-testid="annotation-panel"]').textContent()) ?? '';
    const shown = list.filter((p) => panel.includes(`model rationale: ${p}`) || panel.includes(`model reasons: ${p}`));
    assert.ok(shown.length >= 1, 'the model output payloads are on screen as text');
    assertClean(await injected(frame), 'after the model output');
    assert.ok(llm!.counts.chat >= 2, 'the requests went to the loopback server');
  });

  test('the CSP, from the page: default-src none, a nonce for scripts, no eval; inline script, inline handlers and styles are blocked', async () => {
    const frame = await webviewFrame(page, '[data-testid="annotation-panel"]');
    const r = await frame.evaluate<{
      csp: string;
      violations: string[];
      inline: number | null;
      attr: number | null;
      styleTag: string;
      styleAttr: string;
    }>(`new Promise((resolve) => {
      const csp = document.querySelector('meta[http-equiv="Content-Security-Policy"]')?.getAttribute('content') ?? '';
      const violations = [];
      document.addEventListener('securitypolicyviolation', (e) => violations.push(e.violatedDirective));
      const s = document.createElement('script');
      s.textContent = 'window.__inline = 1';
      document.body.append(s);
      const d = document.createElement('div');
      d.setAttribute('onclick', 'window.__attr = 1');
      document.body.append(d);
      d.click();
      const st = document.createElement('style');
      st.textContent = 'body { outline: 7px solid rgb(1, 2, 3) }';
      document.head.append(st);
      const styled = document.createElement('div');
      styled.setAttribute('style', 'outline: 7px solid rgb(1, 2, 3)');
      document.body.append(styled);
      setTimeout(() => {
        const out = {
          csp, violations,
          inline: window.__inline ?? null, attr: window.__attr ?? null,
          styleTag: getComputedStyle(document.body).outlineWidth, styleAttr: getComputedStyle(styled).outlineWidth,
        };
        s.remove(); d.remove(); st.remove(); styled.remove();
        resolve(out);
      }, 1000);
    })`);
    const directives = Object.fromEntries(
      r.csp
        .split(';')
        .map((d) => d.trim().split(/\s+/))
        .map(([k, ...v]) => [k, v]),
    );
    assert.deepEqual(directives['default-src'], ["'none'"]);
    assert.equal(directives['script-src']?.length, 1);
    assert.match(directives['script-src']?.[0] ?? '', /^'nonce-[A-Za-z0-9+/=]{16,}'$/);
    for (const [k, v] of Object.entries(directives)) {
      for (const bad of ["'unsafe-inline'", "'unsafe-eval'", '*', 'http:', 'https:', 'data:'].filter(
        (b) => !((k === 'img-src' || k === 'font-src') && b === 'data:'),
      )) {
        assert.ok(!(v as string[]).includes(bad), `${k} allows ${bad}`);
      }
    }
    assert.equal(r.inline, null, 'an inline script ran');
    // eval: Chromium exempts code that DevTools (Playwright) evaluates or inserts from the CSP's
    // eval check, so it cannot be tried from here; the policy has no 'unsafe-eval' (checked above),
    // which is what makes the browser refuse eval and new Function in the page's own code.
    assert.equal(r.attr, null, 'an inline event handler ran');
    assert.notEqual(r.styleTag, '7px', 'an inline <style> applied');
    assert.notEqual(r.styleAttr, '7px', 'an inline style attribute applied');
    for (const d of ['script-src-elem', 'script-src', 'script-src-attr', 'style-src-elem', 'style-src-attr']) {
      assert.ok(
        r.violations.some((v) => v === d || v.startsWith(d)),
        `a securitypolicyviolation for ${d}: got ${r.violations.join(', ')}`,
      );
    }
  });

  test('payloads in question declarations (titles, descriptions, guidelines, labels, span labels) and in every answer and suggestion: shown as text, nothing runs; typed, toggled and marked, saved as text', async () => {
    const labels = payloadLabels(list);
    await showDatasets(page);
    const item = page.locator('.monaco-list-row', { hasText: 'questions.jsonl' }).first();
    await item.waitFor({ state: 'visible', timeout: 30_000 });
    await item.click();
    const frame = await webviewFrame(page, '[data-testid="questions"] .question');
    await until('the first record', async () => (await position(frame)).startsWith('Line 1 '));
    await until('six questions', async () => (await frame.locator('.question').count()) === 6);
    const panel = async () => (await frame.locator('[data-testid="annotation-panel"]').textContent()) ?? '';
    for (let i = 0; i < list.length; i++) {
      const p = list[i]!;
      await until(`question record ${i + 1}`, async () => {
        if ((await position(frame)).startsWith(`Line ${i + 1} `)) return true;
        await frame.locator('[data-testid="next"]').click();
        return (await position(frame)).startsWith(`Line ${i + 1} `);
      });
      await until(`record ${i + 1}'s answers`, async () => (await panel()).includes(`model ${p}`));
      const text = await panel();
      // the text answer, the ranking's candidates, the spans' text, the agents and rationales
      for (const shown of [p, `second ${p}`, `model ${p}`])
        assert.ok(text.includes(shown), `record ${i + 1}: ${shown.slice(0, 40)}… is shown as text`);
      // every label (toggles, span label buttons, multi-label answer and scores)
      for (const l of labels) assert.ok(text.includes(l), `record ${i + 1}: a label is shown as text`);
      assertClean(await injected(frame), `questions record ${i + 1}`);
    }
    const text = await panel();
    for (const [k, p] of list.entries())
      assert.ok(
        text.includes(p),
        `payload ${k + 1} in a declaration is shown as text (title, description, guidelines)`,
      );
    const marks = await frame.evaluate<string[]>(
      `[...document.querySelectorAll('mark.span-mark')].map((m) => m.textContent + '|' + m.title)`,
    );
    assert.ok(
      marks.some((m) => m.startsWith(`${list[list.length - 1]}|`)),
      `the span's text is marked as text: ${marks.join(', ')}`,
    );

    // Acting on them: toggle a payload label, type a payload as a text answer and mark a span with
    // a payload label; Ctrl+S; the file has them, as text.
    const last = list.length - 1;
    const typed = list[1]!;
    const toggle = frame.getByTestId(`toggle-topics-${labels[0]!}`);
    await toggle.click();
    await until(
      'toggled',
      async () => (await toggle.getAttribute('aria-pressed')) === (last % labels.length === 0 ? 'false' : 'true'),
    );
    const area = frame.getByTestId('text-fix');
    await area.click();
    await frame.evaluate(`document.querySelector('[data-testid="text-fix"]').select()`);
    await page.keyboard.type(typed);
    await page.keyboard.press('Escape');
    await until('the typed answer', async () =>
      ((await frame.locator('[data-testid="question-fix"] [data-testid="decision"]').textContent()) ?? '').includes(
        typed,
      ),
    );
    await frame.evaluate(`(() => {
      const box = document.querySelector('section.field[data-field="text"] .field-value');
      const w = document.createTreeWalker(box, NodeFilter.SHOW_TEXT);
      const first = w.nextNode();
      const r = document.createRange();
      r.setStart(first, 0); r.setEnd(first, 6);
      document.getSelection().removeAllRanges();
      document.getSelection().addRange(r);
    })()`);
    await frame.getByTestId(`span-pii-${labels[1]!}`).click();
    await until('the span listed', async () => (await frame.locator('[data-testid="spans-pii"] li').count()) === 2);
    assertClean(await injected(frame), 'after the edits');
    await frame.locator('[data-testid="position"]').click();
    await page.keyboard.press('Control+s');
    const saved = await until('the save', async () => {
      const lines = readFileSync(join(workspace, 'hostile/questions.jsonl'), 'utf8').split('\n');
      const r = JSON.parse(lines[last] ?? '{}') as {
        annotations?: { human?: Record<string, { value?: unknown }> };
      };
      return Array.isArray(r.annotations?.human?.pii?.value) && r.annotations.human.pii.value.length === 2
        ? r.annotations.human
        : undefined;
    });
    assert.equal(saved.fix?.value, typed, 'the typed payload is saved as it was typed');
    assert.deepEqual((saved.pii?.value as { label: string }[]).map((x) => x.label)[0], labels[1]);
    assertClean(await injected(frame), 'after the save');
  });

  test("no dialog, no request but the webview's own resources, no navigation away", async () => {
    assert.deepEqual(dialogs, [], 'no dialog opened');
    assert.deepEqual(canaryHits, [], 'the canary server got no request');
    const origin = server!.origin;
    const foreign = requests
      .map((r) => r.url())
      .filter(
        (u) =>
          !u.startsWith(origin) &&
          !/^https?:\/\/[^/]*vscode-(cdn|resource|webview)/.test(u) &&
          !u.startsWith('data:') &&
          !u.startsWith('blob:'),
      );
    assert.deepEqual(foreign, [], 'requests outside the workbench and the webview');
    const webviewRequests = requests
      .filter((r) => r.frame() !== page.mainFrame())
      .map((r) => decodeURIComponent(r.url()));
    const unexpected = webviewRequests.filter(
      (u) =>
        !u.includes('/dist/webview/') &&
        !/\/webview\/browser\/pre\/|service-worker|fake\.html|index\.html|vscode-remote-resource/.test(u),
    );
    assert.deepEqual(unexpected, [], 'the webview requested only its own resources');
    // The page's script and styles are inline; protocol.js is among the files it fetches itself.
    assert.ok(
      webviewRequests.some((u) => u.includes('/dist/webview/protocol.js')),
      'the request log saw the webview load protocol.js (the check is live)',
    );
    assert.ok(
      !navigations.some((u) => u.startsWith(C) || /^javascript:/i.test(u)),
      `no navigation to a payload URL: ${navigations.join(', ')}`,
    );
  });
});
