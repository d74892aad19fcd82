// The curation editor page's connection to the host (webview/editor/rpc.ts): while the page starts
// from its embedded first record, what it says to the host waits for its first frame (hold), then
// goes in the order it was said (release); nothing is lost or reordered.
import { before, describe, it } from 'node:test';
import * as assert from 'node:assert/strict';

/** The part of webview/editor/rpc.ts's HostConnection used here. */
interface Connection {
  hold(): void;
  release(): void;
  notify(message: { kind: 'notify'; type: string; index?: number }): void;
  request(method: string, params: unknown): Promise<unknown>;
}

/**
 * The page's module, loaded by a name the type checker does not follow: it is DOM code, which this
 * project's Node type check does not include (the webview's own does).
 */
async function pageModule(): Promise<{ HostConnection: new (onEvent: (e: unknown) => void) => Connection }> {
  const name = '../../webview/editor/rpc';
  return (await import(name)) as { HostConnection: new (onEvent: (e: unknown) => void) => Connection };
}

/** What the page posted to VS Code (its acquireVsCodeApi().postMessage). */
const posted: unknown[] = [];

before(() => {
  // The page's globals, as much of them as the module touches.
  const g = globalThis as unknown as Record<string, unknown>;
  g.window ??= { addEventListener: () => undefined };
  g.acquireVsCodeApi = () => ({
    postMessage: (m: unknown) => posted.push(m),
    getState: () => undefined,
    setState: () => undefined,
  });
});

describe('editor page: messages to the host', () => {
  it('go at once by default', async () => {
    const { HostConnection } = await pageModule();
    posted.length = 0;
    const host = new HostConnection(() => undefined);
    host.notify({ kind: 'notify', type: 'ready', index: 0 });
    assert.deepEqual(posted, [{ kind: 'notify', type: 'ready', index: 0 }]);
  });

  it('wait while held, then go in order on release, requests included', async () => {
    const { HostConnection } = await pageModule();
    posted.length = 0;
    const host = new HostConnection(() => undefined);
    host.hold();
    host.notify({ kind: 'notify', type: 'ready', index: 3 });
    void host.request('getRecord', { index: 4 }).catch(() => undefined);
    host.notify({ kind: 'notify', type: 'current', index: 3 });
    assert.deepEqual(posted, [], 'nothing is sent before the first frame');
    host.release();
    assert.deepEqual(posted, [
      { kind: 'notify', type: 'ready', index: 3 },
      { kind: 'request', id: 1, method: 'getRecord', params: { index: 4 } },
      { kind: 'notify', type: 'current', index: 3 },
    ]);
    host.notify({ kind: 'notify', type: 'shown' });
    assert.equal(posted.length, 4, 'after the release, messages go at once');
    host.release(); // a second release sends nothing again
    assert.equal(posted.length, 4);
  });
});
