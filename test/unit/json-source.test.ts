// The curation editor shows numbers as the line has them (webview/editor/json-source.ts): a number
// a double cannot hold is not shown as JSON.parse rounded it.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import fc from 'fast-check';
import { numberSources, pathKey } from '../../webview/editor/json-source';

test('every number of a line by its path, as written', () => {
  const raw =
    '{"count":12345678901234567890,"x":{"a":[1.0, 2e3, {"b": -0.1000000000000000055511151231257827}]},"s":"12","m":[{"role":"user","content":"hi","n":7}]}';
  const m = numberSources(raw);
  assert.equal(m.get(pathKey(['count'])), '12345678901234567890');
  assert.equal(String(JSON.parse(raw).count), '12345678901234567000', 'what JSON.parse makes of it');
  assert.equal(m.get(pathKey(['x', 'a', 0])), '1.0');
  assert.equal(m.get(pathKey(['x', 'a', 1])), '2e3');
  assert.equal(m.get(pathKey(['x', 'a', 2, 'b'])), '-0.1000000000000000055511151231257827');
  assert.equal(m.get(pathKey(['m', 0, 'n'])), '7');
  assert.equal(m.has(pathKey(['s'])), false, 'a string is not a number');
  assert.equal(m.get(pathKey(['k\u0000ey'])), undefined);
  // Keys with escapes are read as JSON reads them.
  assert.equal(numberSources('{"a\\"b":1}').get(pathKey(['a"b'])), '1');
  // Not JSON: no sources (the parsed values are shown).
  assert.equal(numberSources('{"a":1,').size, 0);
});

test('for any JSON, the source of each number parses to the value JSON.parse gives', () => {
  fc.assert(
    fc.property(fc.jsonValue({ maxDepth: 4 }), (v) => {
      const raw = JSON.stringify({ v });
      const m = numberSources(raw);
      const walk = (x: unknown, path: (string | number)[]): void => {
        if (typeof x === 'number') assert.equal(Number(m.get(pathKey(path))), x);
        else if (Array.isArray(x)) x.forEach((y, i) => walk(y, [...path, i]));
        else if (x && typeof x === 'object') for (const [k, y] of Object.entries(x)) walk(y, [...path, k]);
      };
      walk(JSON.parse(raw), []);
    }),
    { seed: 18, numRuns: 300 },
  );
});
