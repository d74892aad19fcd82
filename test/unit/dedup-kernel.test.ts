// The kernel does the text work of both duplicate passes in the workers (issue 19: the main thread
// only encodes each text): the exact pass's keys must be the md5 of normalizeText's output, as
// exactKey gives, for every kind of text; the Latin-1 shortcut must give what NFKC + lowercase
// give; and both must agree between the workers and the main thread.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import {
  computeSignatures,
  exactDuplicates,
  exactKey,
  mulberry32,
  normalizeText,
  type DedupItem,
} from '../../src/core/filter/dedup';

const TRICKY = [
  'Hello world',
  '  HELLO\t\tWorld \n',
  'Hello, world!',
  'hello world',
  'Café déjà vu',
  'CAFÉ DÉJÀ VU',
  'cafe\u0301 de\u0301ja\u0300 vu', // combining accents: NFKC composes them
  'Ｈｅｌｌｏ ｗｏｒｌｄ', // fullwidth
  'ﬁne ﬂour', // ligatures
  'ÀÞß×÷ÿ', // × and ÷ are symbols; ß and ÿ have no single-letter uppercase here
  '× marks the spot',
  'a\u00a0b\u2003c\u3000d', // no-break, em and ideographic spaces
  'x\u2028y\u2029z\ufeff', // line/paragraph separators, BOM
  '«Guillemets» ¡Hola! ¿Qué?',
  'ΟΔΟΣ ΟΔΟΣ.',
  'İstanbul',
  '東京 Ωmega 😀 emoji',
  '\ud800 lone surrogate',
  '',
  '   ',
  '!!! ,,, ...',
  'tab\tand\vvertical\fform\rfeed',
  'ª º ² ½ µ ¨',
];

test('exact keys from the kernel are exactKey, in the workers and in this thread, with and without punctuation', async () => {
  for (const strip of [false, true]) {
    // Each tricky text next to a copy that differs only by what the normalization removes.
    const items: DedupItem[] = [];
    for (const t of TRICKY) {
      items.push({ index: items.length, text: t });
      items.push({ index: items.length, text: ` ${t.toUpperCase()}  ` });
    }
    const expected = new Map<string, number[]>();
    items.forEach((it) => {
      const k = exactKey(it.text, strip);
      expected.set(k, [...(expected.get(k) ?? []), it.index]);
    });
    const want = [...expected.values()].filter((g) => g.length > 1).map((g) => g.join(','));
    for (const workers of [0, 2]) {
      const r = await exactDuplicates(items, { stripPunctuation: strip, workers, chunkSize: 7 });
      const got = r.clusters.map((c) => c.members.join(','));
      assert.deepEqual(got.sort(), [...want].sort(), `strip ${strip}, workers ${workers}`);
    }
  }
  // The same key means the same normalized text, not just the same hash of some text.
  assert.equal(normalizeText('CAFÉ  DÉJÀ'), 'café déjà');
  assert.equal(exactKey('CAFÉ  DÉJÀ'), exactKey('café déjà'));
});

test('MinHash of a non-ASCII text is that of its NFKC + lowercase form (Latin-1 shortcut and the rest)', async () => {
  const rnd = mulberry32(3);
  // Half the texts take the Latin-1 shortcut (only letters U+00C0-U+00FF besides ASCII), half
  // the slow path (NFKC in the worker).
  const latin = ['Café', 'NAÏVE', 'Déjà', 'ÜBER', 'Señor', 'smörgåsbord', 'ÀÞßÿ', 'plain', 'Words,', 'MORE'];
  const other = [...latin, '東京', 'Ωmega', 'ﬁne', 'e\u0301t\u00e9', '½'];
  const texts = Array.from({ length: 200 }, (_, i) => {
    const words = i % 2 ? latin : other;
    const t = Array.from({ length: 20 }, () => words[Math.floor(rnd() * words.length)] as string);
    if (words === other) t.push('東京');
    return t.join(' ');
  });
  const raw: DedupItem[] = texts.map((t, i) => ({ index: i, text: t }));
  const folded: DedupItem[] = texts.map((t, i) => ({ index: i, text: t.normalize('NFKC').toLowerCase() }));
  for (const shingle of ['words', 'chars'] as const) {
    const a0 = await computeSignatures(raw, { shingle, workers: 0 });
    const a2 = await computeSignatures(raw, { shingle, workers: 2, chunkSize: 16 });
    const b = await computeSignatures(folded, { shingle, workers: 0, normalize: false });
    assert.deepEqual(a0.sig, b.sig, shingle);
    assert.deepEqual(a2.sig, b.sig, shingle);
    assert.deepEqual([...a0.counts], [...b.counts]);
  }
  // normalize: false leaves case alone for non-ASCII letters (É and é differ).
  const one = [
    { index: 0, text: 'ÉCOLE ÉTÉ' },
    { index: 1, text: 'école été' },
  ];
  const n0 = await computeSignatures(one, { workers: 0, normalize: false, shingleSize: 1 });
  const n1 = await computeSignatures(one, { workers: 0, shingleSize: 1 });
  assert.notDeepEqual([...n0.sig.subarray(0, 128)], [...n0.sig.subarray(128)]);
  assert.deepEqual([...n1.sig.subarray(0, 128)], [...n1.sig.subarray(128)]);
});
