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
    assert.equal(
      FromWebview.safeParse({ kind: 'request', id: 1, method: 'deleteEverything', params: {} }).success,
      false,
    );
    assert.equal(FromWebview.safeParse({ kind: 'request', method: 'getRecord', params: { index: 1 } }).success, false);
    assert.equal(FromWebview.safeParse({ kind: 'request', id: -1, method: 'getRecord', params: {} }).success, false);
    assert.throws(() => parseParams('getRecord', { index: -2 }));
    assert.throws(() => parseParams('getRecord', { index: 'x' }));
    assert.equal(FromWebview.safeParse('<script>alert(1)</script>').success, false);
  });

  test('responses carry either a result or an error, with the request id', () => {
    assert.equal(ToWebview.safeParse({ kind: 'response', id: 1, ok: true, result: { a: 1 } }).success, true);
    assert.equal(
      ToWebview.safeParse({ kind: 'response', id: 1, ok: false, error: { message: 'no such line' } }).success,
      true,
    );
    assert.equal(ToWebview.safeParse({ kind: 'response', id: 1, ok: false }).success, false);
  });

  test('a save asks the page to flush what is typed (an id) and the page answers with it', () => {
    assert.equal(ToWebview.safeParse({ kind: 'event', type: 'flush', id: 4 }).success, true);
    assert.equal(ToWebview.safeParse({ kind: 'event', type: 'flush' }).success, false);
    const answer = FromWebview.parse({ kind: 'notify', type: 'flushed', id: 4 });
    assert.deepEqual(answer, { kind: 'notify', type: 'flushed', id: 4 });
    assert.equal(FromWebview.safeParse({ kind: 'notify', type: 'flushed', id: -1 }).success, false);
  });

  test('an edit carries the content generation the page had (an edit from before a revert is told apart)', () => {
    assert.deepEqual(parseParams('edit', { op: 'relabel', index: 2, label: 'spam', generation: 3 }), {
      op: 'relabel',
      index: 2,
      label: 'spam',
      generation: 3,
    });
    assert.throws(() => parseParams('edit', { op: 'relabel', index: 2, label: 'spam' }), 'no generation: refused');
    assert.throws(() => parseParams('edit', { op: 'relabel', index: 2, label: 'spam', generation: -1 }));
  });

  test('every request method has a params and a result schema', () => {
    for (const [name, def] of Object.entries(requests)) {
      assert.ok(def.params, `${name} has params`);
      assert.ok(def.result, `${name} has a result`);
    }
  });
});

describe('protocol: the assessment views', () => {
  test('requests validate their params; a command can ask the webview for a view', () => {
    assert.deepEqual(parseParams('getAgreement', {}), { question: 'label' });
    assert.deepEqual(parseParams('getAgreement', { goldField: 'gold_label' }), {
      question: 'label',
      goldField: 'gold_label',
    });
    assert.deepEqual(parseParams('resolveDuplicates', { clusters: 'all', action: 'tag' }), {
      clusters: 'all',
      keep: {},
      action: 'tag',
    });
    assert.throws(() => parseParams('resolveDuplicates', { clusters: [], action: 'tag' }), 'at least one cluster');
    assert.throws(
      () => parseParams('resolveDuplicates', { clusters: [1], keep: { one: 2 }, action: 'tag' }),
      'cluster ids are numbers',
    );
    assert.throws(() => parseParams('resolveDuplicates', { clusters: 'all', action: 'burn' }));
    assert.throws(() => parseParams('findDuplicates', { method: 'near', threshold: 1.5 }));
    assert.deepEqual(parseParams('getQueue', {}), { ifCheap: false });
    assert.equal(ToWebview.safeParse({ kind: 'event', type: 'show', mode: 'agreement' }).success, true);
    assert.equal(ToWebview.safeParse({ kind: 'event', type: 'show', mode: 'somewhere' }).success, false);
    assert.equal(FromWebview.safeParse({ kind: 'notify', type: 'mode', mode: 'duplicates' }).success, true);
    // Results are validated in the webview: an agreement report without its figures is refused.
    assert.equal(
      requests.getAgreement.result.safeParse({
        question: 'label',
        records: 1,
        comparisons: [{ reference: 'human', prediction: 'suggestion', missing: 0 }],
      }).success,
      false,
    );
  });
});
