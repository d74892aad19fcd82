import { describe, test } from 'node:test';
import * as assert from 'node:assert/strict';
import { FromWebview, ToWebview, parseParams, requests } from '../../src/shared/protocol';

describe('host <-> webview protocol', () => {
  test('accepts a well-formed request and a ready notification', () => {
    const req = FromWebview.parse({ kind: 'request', id: 7, method: 'getRecord', params: { index: 3 } });
    assert.equal(req.kind, 'request');
    assert.deepEqual(parseParams('getRecord', { index: 3 }), { index: 3 });
    assert.equal(FromWebview.parse({ kind: 'notify', type: 'ready' }).kind, 'notify');
  });

  test('rejects unknown methods, missing ids and bad params', () => {
    assert.equal(FromWebview.safeParse({ kind: 'request', id: 1, method: 'deleteEverything', params: {} }).success, false);
    assert.equal(FromWebview.safeParse({ kind: 'request', method: 'getRecord', params: { index: 1 } }).success, false);
    assert.equal(FromWebview.safeParse({ kind: 'request', id: -1, method: 'getRecord', params: {} }).success, false);
    assert.throws(() => parseParams('getRecord', { index: -2 }));
    assert.throws(() => parseParams('getRecord', { index: 'x' }));
    assert.equal(FromWebview.safeParse('<script>alert(1)</script>').success, false);
  });

  test('responses carry either a result or an error, with the request id', () => {
    assert.equal(ToWebview.safeParse({ kind: 'response', id: 1, ok: true, result: { a: 1 } }).success, true);
    assert.equal(ToWebview.safeParse({ kind: 'response', id: 1, ok: false, error: { message: 'no such line' } }).success, true);
    assert.equal(ToWebview.safeParse({ kind: 'response', id: 1, ok: false }).success, false);
  });

  test('every request method has a params and a result schema', () => {
    for (const [name, def] of Object.entries(requests)) {
      assert.ok(def.params, `${name} has params`);
      assert.ok(def.result, `${name} has a result`);
    }
  });
});
