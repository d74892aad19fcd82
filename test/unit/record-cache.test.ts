// The curation editor's record cache (webview/editor/record-cache.ts): while a job writes into the
// open file, what is cached turns stale, not absent, so a key press is answered at once.
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { RecordCache, type RecordSource } from '../../webview/editor/record-cache';
import type { RecordPayload } from '../../src/shared/protocol';

/** A host whose file's line i reads `v<version>:<i>`; answers when `flush()` is called. */
function fakeHost() {
  let version = 1;
  const asked: number[] = [];
  const waiting: (() => void)[] = [];
  const host = {
    request: (_method: string, params: { index: number }) => {
      asked.push(params.index);
      const raw = `v${version}:${params.index}`;
      return new Promise<RecordPayload>((resolve) =>
        waiting.push(() => resolve({ index: params.index, lineNumber: params.index + 1, raw } as RecordPayload)),
      );
    },
  };
  return {
    host: host as RecordSource,
    asked,
    bump: () => version++,
    flush: async () => {
      while (waiting.length) waiting.shift()!();
      await new Promise((r) => setImmediate(r));
    },
  };
}

describe('record cache', () => {
  it('after a job changed the file: stale records are still there at once, and fetched again once', async () => {
    const h = fakeHost();
    const cache = new RecordCache(h.host);
    cache.prefetch([0, 1, 2], 10);
    await h.flush();
    assert.equal(cache.peek(1)?.raw, 'v1:1');
    assert.ok(cache.isFresh(1));
    h.bump();
    cache.markStale();
    assert.equal(cache.peek(1)?.raw, 'v1:1', 'still shown at once');
    assert.equal(cache.isFresh(1), false);
    const again = cache.get(1);
    const twice = cache.get(1);
    await h.flush();
    assert.equal((await again).raw, 'v2:1');
    assert.equal((await twice).raw, 'v2:1');
    assert.deepEqual(h.asked, [0, 1, 2, 1], 'one request for the stale record');
    assert.ok(cache.isFresh(1));
    cache.prefetch([0, 1, 2], 10);
    await h.flush();
    assert.deepEqual(h.asked, [0, 1, 2, 1, 0, 2], 'prefetch fetches the stale ones again, not the fresh one');
  });

  it('an answer to a request sent before the change is kept as stale', async () => {
    const h = fakeHost();
    const cache = new RecordCache(h.host);
    const early = cache.get(3);
    cache.markStale();
    await h.flush();
    assert.equal((await early).raw, 'v1:3');
    assert.equal(cache.peek(3)?.raw, 'v1:3');
    assert.equal(cache.isFresh(3), false, 'it may predate the change');
  });

  it("the person's own change clears it: nothing stale is shown, and earlier answers are dropped", async () => {
    const h = fakeHost();
    const cache = new RecordCache(h.host);
    cache.prefetch([0], 10);
    await h.flush();
    const early = cache.get(5);
    cache.clear();
    assert.equal(cache.peek(0), undefined);
    await h.flush();
    await early;
    assert.equal(cache.peek(5), undefined, 'an answer from before the clear is not kept');
  });
});
