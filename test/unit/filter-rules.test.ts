import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import {
  compileRule,
  estimateTokens,
  charLength,
  parseRule,
  parseRules,
  printRule,
  RuleSchema,
  RuleSyntaxError,
  type Rule,
} from '../../src/core/filter/rules';
import { detectLanguage, normalizeLanguage } from '../../src/core/filter/lang';
import { countTokens } from '../../src/core/llm/tokenizer';
import type { Line } from '../../src/core/filter/fields';

const line = (value: Record<string, unknown>, index = 0): Line => ({ index, value, raw: JSON.stringify(value) });
const bad: Line = { index: 9, raw: '{oops', invalid: { reason: 'Unexpected token' } };
const check = (src: string, value: Record<string, unknown>) => compileRule(parseRule(src))(line(value));

test('length in characters (code points) and tokens (OpenAI o200k_base, not bytes / 4)', () => {
  assert.equal(charLength('héllo 😀'), 7); // 5 letters + space + 1 emoji (2 UTF-16 units)
  // "hello world" is two tokens in OpenAI's encodings ("hello", " world"); bytes / 4 said 3
  assert.equal(estimateTokens('hello world'), 2);
  assert.equal(estimateTokens(''), 0);
  // OpenAI's cookbook ("How to count tokens with tiktoken"): "tiktoken is great!" is 6 cl100k_base tokens
  assert.equal(countTokens('tiktoken is great!', 'cl100k_base'), 6);
  // special-token text in a dataset is plain text, never an error
  assert.ok(estimateTokens('<|endoftext|>') > 1);
  assert.equal(check('len(text) >= 5', { text: 'hello' }), true);
  assert.equal(check('len(text) >= 6', { text: 'hello' }), false);
  assert.equal(check('len(text) < 3', {}), false, 'missing field fails');
  assert.equal(check('tokens(text) <= 2', { text: 'hello world' }), true);
  assert.equal(check('tokens(text) <= 2', { text: 'hello world again' }), false);
  // arrays of messages: the texts joined by "\n"
  assert.equal(
    check('len(messages) == 5', {
      messages: [
        { role: 'user', content: 'ab' },
        { role: 'assistant', content: 'cd' },
      ],
    }),
    true,
  );
  assert.equal(check('count(messages) >= 2', { messages: [{}, {}] }), true);
  const r: Rule = { kind: 'range', measure: 'len', path: 'text', min: 2, max: 4 };
  assert.equal(compileRule(r)(line({ text: 'abc' })), true);
  assert.equal(compileRule(r)(line({ text: 'abcde' })), false);
});

test('regex and keyword include/exclude', () => {
  assert.equal(check('text ~ /refund/i', { text: 'I want a REFUND' }), true);
  assert.equal(check('text ~ /refund/', { text: 'I want a REFUND' }), false);
  assert.equal(check('text !~ /refund/i', { text: 'I want a REFUND' }), false);
  assert.equal(check('text ~ /a\\/b/', { text: 'x a/b y' }), true, 'escaped slash');
  assert.equal(check('text ~ /[/]x/', { text: '/x' }), true, 'slash inside a class');
  assert.equal(
    check('text contains [refund, "money back"]', { text: 'I want my Money Back' }),
    true,
    'case-insensitive',
  );
  assert.equal(check('text contains_cs "Money"', { text: 'money' }), false);
  assert.equal(check('not text contains spam', { text: 'this is SPAM' }), false);
  assert.equal(check('messages.0.content ~ /^hi/', { messages: [{ role: 'user', content: 'hi there' }] }), true);
});

test('field predicates on dotted paths: exists, equals, in, numeric range', () => {
  const rec = { label: 'positive', judge: { score: 7 }, n: 1, messages: [{ content: 'x' }], rationale: null };
  assert.equal(check('exists(judge.score)', rec), true);
  assert.equal(check('exists(rationale)', rec), false, 'null counts as absent');
  assert.equal(check('not exists(nope)', rec), true);
  assert.equal(check('label == positive', rec), true);
  assert.equal(check("label == 'positive'", rec), true);
  assert.equal(check('label != positive', rec), false);
  assert.equal(check('nope != positive', rec), false, '!= needs the field');
  assert.equal(check('n == "1"', rec), true, 'scalars compare as strings');
  assert.equal(check('label in [positive, negative]', rec), true);
  assert.equal(check('label not in [positive, negative]', rec), false);
  assert.equal(check('judge.score >= 7', rec), true);
  assert.equal(check('judge.score > 7', rec), false);
  assert.equal(check('judge.score >= 7 and judge.score <= 9', rec), true);
  assert.equal(check('label >= 3', rec), false, 'order needs numbers on both sides');
  assert.equal(check('messages.0.content == x', rec), true);
  assert.equal(check('judge.score >= 8 or label == positive', rec), true);
  assert.equal(check('not (judge.score >= 8 or label == negative)', rec), true);
});

test('invalid lines', () => {
  assert.equal(compileRule(parseRule('not invalid'))(bad), false);
  assert.equal(compileRule(parseRule('valid'))(bad), false);
  assert.equal(compileRule(parseRule('invalid'))(bad), true);
  assert.equal(compileRule(parseRule('!invalid'))(line({})), true);
  assert.equal(compileRule(parseRule('len(text) >= 0'))(bad), false, 'field rules fail on invalid lines');
});

test('language of a text field (franc-min, ISO 639-1 where there is one)', () => {
  const en = 'The battery easily lasts two days and the screen is gorgeous in sunlight. Best phone I have owned.';
  const de = 'Der Akku hält problemlos zwei Tage und der Bildschirm ist im Sonnenlicht wunderschön. Bestes Telefon.';
  const fr = "La batterie tient facilement deux jours et l'écran est magnifique au soleil. Meilleur téléphone.";
  assert.equal(detectLanguage(en), 'en');
  assert.equal(detectLanguage(de), 'de');
  assert.equal(detectLanguage(fr), 'fr');
  assert.equal(detectLanguage('ok'), 'und', 'too short');
  assert.equal(detectLanguage(en), detectLanguage(en), 'deterministic');
  assert.equal(normalizeLanguage('ENG'), 'en');
  assert.equal(check('lang(text) == en', { text: en }), true);
  assert.equal(check('lang(text) == eng', { text: en }), true, '639-3 accepted');
  assert.equal(check('lang(text) in [de, fr]', { text: fr }), true);
  assert.equal(check('lang(text) != en', { text: de }), true);
});

test('the parser builds the expected rules', () => {
  assert.deepEqual(parseRule('len(text) >= 20'), {
    kind: 'compare',
    measure: 'len',
    path: 'text',
    op: '>=',
    value: 20,
  });
  assert.deepEqual(parseRule('label in [positive,negative]'), {
    kind: 'in',
    measure: 'value',
    path: 'label',
    values: ['positive', 'negative'],
  });
  assert.deepEqual(parseRule('text ~ /refund/i'), { kind: 'match', path: 'text', pattern: 'refund', flags: 'i' });
  assert.deepEqual(parseRule('exists(rationale)'), { kind: 'exists', path: 'rationale' });
  assert.deepEqual(parseRule('not invalid'), { kind: 'not', rule: { kind: 'invalid' } });
  assert.deepEqual(
    parseRule('a == 1 or b == 2 and c == 3'),
    {
      kind: 'or',
      rules: [
        { kind: 'compare', measure: 'value', path: 'a', op: '==', value: 1 },
        {
          kind: 'and',
          rules: [
            { kind: 'compare', measure: 'value', path: 'b', op: '==', value: 2 },
            { kind: 'compare', measure: 'value', path: 'c', op: '==', value: 3 },
          ],
        },
      ],
    },
    'and binds tighter than or',
  );
  assert.deepEqual(parseRule('x = -1.5e2'), { kind: 'compare', measure: 'value', path: 'x', op: '==', value: -150 });
  assert.deepEqual(parseRule('flag == true'), {
    kind: 'compare',
    measure: 'value',
    path: 'flag',
    op: '==',
    value: true,
  });
  assert.deepEqual(parseRule('label in []'), { kind: 'in', measure: 'value', path: 'label', values: [] });
});

test('printRule round-trips through the parser', () => {
  for (const src of [
    'len(text) >= 20',
    'label in [positive, negative]',
    'judge.score >= 7',
    'text ~ /refund/i',
    'lang(text) == en',
    'exists(rationale)',
    'not invalid',
    'a == 1 or b == 2 and c == 3',
    '(a == 1 or b == 2) and c == "x y"',
    'not (a == 1 and b == 2)',
    'text contains ["a b", c]',
    'text ~ /a\\/b/',
    'label not in ["and"]',
    'x == null',
  ]) {
    const r = parseRule(src);
    assert.deepEqual(parseRule(printRule(r)), r, src);
  }
});

test('bad rules fail with the column of the problem', () => {
  const cases: [string, number, RegExp][] = [
    ['', 1, /empty rule/],
    ['len(text) >= x20', 14, /expected a number after '>='/],
    ['len(text >= 20', 10, /expected '\)' after len\(text/],
    ['foo(text) > 1', 1, /unknown function 'foo'/],
    ['label', 6, /expected a comparison after 'label'.*exists\(label\)/],
    ['label in positive', 10, /expected '\[' to start a list/],
    ['label in [a, b', 15, /expected ',' or '\]'/],
    ['text ~ refund', 8, /expected a regular expression/],
    ['text ~ /refund', 8, /unterminated regular expression/],
    ['text ~ /(/', 8, /invalid regular expression/],
    ['text ~ /a/gx', 11, /unknown regular expression flags 'gx'/],
    ['label == "abc', 10, /unterminated string/],
    ['judge.score >= 7 judge', 18, /expected 'and', 'or' or the end/],
    ['(a == 1', 8, /expected '\)' to close the '\(' at column 1/],
    ['a == 1 and', 11, /expected a field/],
    ['a / b', 3, /unexpected '\/'/],
    ['a == #', 6, /unexpected character '#'/],
    ['lang(text) > en', 12, /lang\(\) can only be compared/],
    ['len(text) ~ /x/', 11, /'~' matches a field's text/],
  ];
  for (const [src, col, re] of cases) {
    assert.throws(
      () => parseRule(src),
      (e: unknown) => {
        assert.ok(e instanceof RuleSyntaxError, `${src}: ${String(e)}`);
        assert.equal(e.column, col, `${src}: ${e.message}`);
        assert.match(e.message, re, src);
        assert.match(e.message, /\n {2}.*\n {2} *\^$/, 'a caret under the column');
        return true;
      },
    );
  }
});

test('JSON rules are validated with zod', () => {
  const ok = RuleSchema.parse({
    kind: 'and',
    rules: [
      { kind: 'range', path: 'judge.score', min: 7 },
      { kind: 'not', rule: { kind: 'invalid' } },
    ],
  });
  assert.equal(compileRule(ok)(line({ judge: { score: 8 } })), true);
  assert.deepEqual(parseRules(['label == a', { kind: 'exists', path: 'x' }]).length, 2);
  assert.throws(() => RuleSchema.parse({ kind: 'range', path: 'x' }), /min or max/);
  assert.throws(() => RuleSchema.parse({ kind: 'match', path: 'x', pattern: '(' }), /regular expression/);
  assert.throws(() => RuleSchema.parse({ kind: 'nope' }));
  assert.throws(() => RuleSchema.parse({ kind: 'exists', path: 'a..b' }));
});
