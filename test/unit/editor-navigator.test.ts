// The curation editor page's navigation (webview/editor/navigator.ts): the host's init, which
// answers the page's ready, can arrive after a key press; it must not undo the press.
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { RecordNavigator } from '../../webview/editor/navigator';
import type { RecordSource } from '../../webview/editor/record-cache';
import type { DocumentInfo, RecordPayload } from '../../src/shared/protocol';

const record = (index: number): RecordPayload =>
  ({ index, lineNumber: index + 1, raw: `{"text":"line ${index + 1}"}` }) as RecordPayload;

/** A host that answers each record request when `flush()` is called. */
function slowHost() {
  const waiting: (() => void)[] = [];
  const asked: number[] = [];
  const host = {
    request: (_method: string, params: { index: number }) => {
      asked.push(params.index);
      return new Promise<RecordPayload>((resolve) => waiting.push(() => resolve(record(params.index))));
    },
  };
  return {
    host: host as RecordSource,
    asked,
    flush: async () => {
      for (let round = 0; round < 5; round++) {
        while (waiting.length) waiting.shift()!();
        await new Promise((r) => setImmediate(r));
      }
    },
  };
}

function navigator(host: RecordSource) {
  const shown: number[] = [];
  const nav = new RecordNavigator(host, {
    show: (r) => shown.push(r.index),
    empty: () => undefined,
    loading: () => undefined,
    error: (m) => assert.fail(m),
  });
  nav.info = { lineCount: 36 } as DocumentInfo;
  return { nav, shown };
}

describe('editor navigation and the host init', () => {
  it('an init that arrives while a key press fetches its record shows that record, not the first', async () => {
    const h = slowHost();
    const { nav, shown } = navigator(h.host);
    nav.restart(record(0)); // the page starts from its embedded first record
    await h.flush();
    assert.equal(nav.index, 0);
    nav.cache.clear(); // nothing fetched ahead yet (the page holds its requests until its first frame)
    void nav.go(nav.from + 1); // j
    nav.restart(record(0)); // the init answering the ready sent before the key press
    await h.flush();
    assert.equal(nav.index, 1, `line 2 stays shown: ${shown.join(',')}`);
    assert.equal(shown.at(-1), 1);
  });

  it('an init after the key press landed keeps the record moved to', async () => {
    const h = slowHost();
    const { nav } = navigator(h.host);
    nav.restart(record(0));
    await h.flush();
    void nav.go(nav.from + 1);
    await h.flush();
    assert.equal(nav.index, 1);
    nav.restart(record(0));
    await h.flush();
    assert.equal(nav.index, 1);
    assert.equal(nav.current?.raw, '{"text":"line 2"}');
  });
});
