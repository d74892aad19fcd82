// The curation editor's key map (webview/editor/keys.ts): one table binds the keys and fills the
// help; the one-character keys can be rebound or turned off (datasetCurator.editor.keys, WCAG 2.1.4).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { KEY_ACTIONS, REBINDABLE, helpRows, keyMap } from '../../webview/editor/keys';
import pkg from '../../package.json';

const row = (rows: ReturnType<typeof helpRows>, what: string) =>
  rows.flatMap((g) => g.items).find((r) => r.what === what);

test('the default keys: each action once, the help shows them', () => {
  const k = keyMap();
  assert.equal(k.action('j'), 'next');
  assert.equal(k.action('ArrowDown'), 'next');
  assert.equal(k.action('1'), 'relabel1');
  assert.equal(k.action('Q'), 'queuePrevious');
  assert.equal(k.action('Home'), 'first');
  const rows = helpRows(k);
  assert.deepEqual(row(rows, 'Relabel with the n-th label')?.keys, ['1', '…', '9']);
  assert.deepEqual(row(rows, 'Previous record in the review queue')?.keys, ['Shift+Q']);
  assert.deepEqual(row(rows, "Accept the model's suggestion")?.keys, ['a']);
  assert.deepEqual(
    rows.map((g) => g.group),
    ['Navigate', 'Review queue', 'Curate', 'Questions', 'Search', 'Help'],
  );
  const keys = KEY_ACTIONS.flatMap((a) => (a.key ? [a.key] : []));
  assert.equal(new Set(keys).size, keys.length, 'no key is bound twice');
});

test('rebound and turned-off keys: the old key does nothing, the new one runs the action, the help says so', () => {
  const k = keyMap({ accept: 'y', relabel2: '', next: 'a' });
  assert.equal(k.action('y'), 'accept');
  assert.equal(k.action('a'), 'next', 'a key taken by another action');
  assert.equal(k.action('j'), undefined);
  assert.equal(k.action('ArrowDown'), 'next', 'arrows stay');
  assert.equal(k.action('2'), undefined);
  assert.equal(k.action('3'), 'relabel3');
  const rows = helpRows(k);
  assert.deepEqual(row(rows, "Accept the model's suggestion")?.keys, ['y']);
  assert.deepEqual(row(rows, 'Next record (list: next row)')?.keys, ['a', '↓']);
  assert.deepEqual(row(rows, 'Relabel with the n-th label')?.keys, ['1', '3', '…', '9']);
  assert.deepEqual(k.problems, []);
});

test('a key taken from an action by default leaves it without a key; bad entries are reported', () => {
  const k = keyMap({ reject: 'a', nonsense: 'z', swap: 'xy' });
  assert.equal(k.action('a'), 'reject');
  assert.deepEqual(row(helpRows(k), "Accept the model's suggestion")?.keys, []);
  assert.equal(k.action('x'), 'swap', 'an entry that is not used leaves the default');
  assert.equal(k.problems.length, 2);
});

test("the setting's schema in package.json offers exactly the rebindable actions", () => {
  const sections = pkg.contributes.configuration as unknown as { properties: Record<string, unknown> }[];
  const prop = sections.find((s) => 'datasetCurator.editor.keys' in s.properties)?.properties[
    'datasetCurator.editor.keys'
  ] as { propertyNames: { enum: string[] } };
  assert.deepEqual([...prop.propertyNames.enum].sort(), [...REBINDABLE].sort());
});
