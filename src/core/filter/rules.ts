// Record rules: a small expression language for `curate filter --where '...'` and the same rules as
// JSON (zod-validated) for VS Code settings and the UI. A rule is a predicate over a line: true
// means the record passes (is kept). See docs/filters.md for the language.
//
//   len(text) >= 20            tokens(text) <= 4096        count(messages) >= 2
//   label in [positive, negative]                          label not in [spam]
//   judge.score >= 7           judge.score != 3            label == "very good"
//   text ~ /refund/i           text !~ /lorem ipsum/       text contains [refund, "money back"]
//   lang(text) == en           lang(text) in [en, de]      exists(rationale)
//   not invalid                valid                       a and (b or not c)
import { z } from 'zod';
import { UserError } from '../operation';
import { getPath, isObject, textOf, type Line } from './fields';
import { detectLanguage, normalizeLanguage } from './lang';
import { countTokens } from '../llm/tokenizer';

// ---------------------------------------------------------------------------------------------
// The JSON form

const Scalar = z.union([z.string(), z.number(), z.boolean(), z.null()]);
export type Scalar = z.infer<typeof Scalar>;

export const CompareOp = z.enum(['==', '!=', '<', '<=', '>', '>=']);
export type CompareOp = z.infer<typeof CompareOp>;

/** What a comparison looks at: a field's value, or a measure of it. */
export const Measure = z.enum(['value', 'len', 'tokens', 'count', 'lang']);
export type Measure = z.infer<typeof Measure>;

export type Rule =
  | { kind: 'compare'; measure: Measure; path: string; op: CompareOp; value: Scalar }
  | { kind: 'in'; measure: Measure; path: string; values: Scalar[] }
  | { kind: 'range'; measure: Measure; path: string; min?: number | undefined; max?: number | undefined }
  | { kind: 'match'; path: string; pattern: string; flags?: string | undefined }
  | { kind: 'contains'; path: string; keywords: string[]; caseSensitive?: boolean | undefined }
  | { kind: 'exists'; path: string }
  | { kind: 'invalid' }
  | { kind: 'not'; rule: Rule }
  | { kind: 'and'; rules: Rule[] }
  | { kind: 'or'; rules: Rule[] };

const path = z
  .string()
  .min(1)
  .regex(/^[^.]+(\.[^.]+)*$/, 'a dotted path like judge.score or messages.0.content');

export const RuleSchema: z.ZodType<Rule> = z.lazy(
  () =>
    z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('compare'), measure: Measure.default('value'), path, op: CompareOp, value: Scalar }),
      z.object({ kind: z.literal('in'), measure: Measure.default('value'), path, values: z.array(Scalar) }),
      z
        .object({
          kind: z.literal('range'),
          measure: Measure.default('value'),
          path,
          min: z.number().optional(),
          max: z.number().optional(),
        })
        .refine((r) => r.min !== undefined || r.max !== undefined, 'a range needs min or max'),
      z
        .object({
          kind: z.literal('match'),
          path,
          pattern: z.string(),
          flags: z
            .string()
            .regex(/^[dgimsuvy]*$/)
            .optional(),
        })
        .refine((r) => compiles(r.pattern, r.flags), 'not a valid regular expression'),
      z.object({
        kind: z.literal('contains'),
        path,
        keywords: z.array(z.string().min(1)).min(1),
        caseSensitive: z.boolean().optional(),
      }),
      z.object({ kind: z.literal('exists'), path }),
      z.object({ kind: z.literal('invalid') }),
      z.object({ kind: z.literal('not'), rule: RuleSchema }),
      z.object({ kind: z.literal('and'), rules: z.array(RuleSchema).min(1) }),
      z.object({ kind: z.literal('or'), rules: z.array(RuleSchema).min(1) }),
    ]) as unknown as z.ZodType<Rule>,
);

function compiles(pattern: string, flags?: string): boolean {
  try {
    new RegExp(pattern, flags);
    return true;
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Measures

/**
 * The token count used by `tokens(field)`: OpenAI's o200k_base encoding (GPT-4o, GPT-4.1, GPT-5;
 * src/core/llm/tokenizer.ts), exact for those models; for other families an estimate.
 */
export function estimateTokens(text: string): number {
  return countTokens(text);
}

/** Length in Unicode code points (not UTF-16 units). */
export function charLength(text: string): number {
  let n = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        n--;
        i++;
      }
    }
  }
  return n;
}

function measure(m: Measure, v: unknown): unknown {
  switch (m) {
    case 'value':
      return v;
    case 'len': {
      const t = textOf(v);
      return t === undefined ? undefined : charLength(t);
    }
    case 'tokens': {
      const t = textOf(v);
      return t === undefined ? undefined : estimateTokens(t);
    }
    case 'count':
      return Array.isArray(v) ? v.length : isObject(v) ? Object.keys(v).length : undefined;
    case 'lang': {
      const t = textOf(v);
      return t === undefined ? undefined : detectLanguage(t);
    }
  }
}

/** Equality: numbers by value; otherwise scalars compared as strings (so `label == 1` matches "1"). */
function equals(a: unknown, b: Scalar): boolean {
  if (a === undefined) return false;
  if (b === null || a === null) return a === b;
  if (typeof a === 'number' && typeof b === 'number') return a === b;
  if (typeof a === 'string' || typeof a === 'number' || typeof a === 'boolean') return String(a) === String(b);
  return false;
}

function compare(a: unknown, op: CompareOp, b: Scalar): boolean {
  if (op === '==') return equals(a, b);
  if (op === '!=') return a !== undefined && !equals(a, b);
  // Numbers with numbers, strings with strings (lexicographic); anything else does not compare.
  if ((typeof a === 'number' && typeof b === 'number') || (typeof a === 'string' && typeof b === 'string')) {
    switch (op) {
      case '<':
        return a < b;
      case '<=':
        return a <= b;
      case '>':
        return a > b;
      case '>=':
        return a >= b;
    }
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// Compilation

export type Predicate = (line: Line) => boolean;

/**
 * Compiles a rule into a predicate. A rule on a field of an invalid line, or on a missing field,
 * fails (so `not exists(x)` and `x != v` differ: the latter needs x to exist).
 */
export function compileRule(rule: Rule): Predicate {
  switch (rule.kind) {
    case 'invalid':
      return (l) => l.invalid !== undefined || l.value === undefined;
    case 'not': {
      const p = compileRule(rule.rule);
      return (l) => !p(l);
    }
    case 'and': {
      const ps = rule.rules.map(compileRule);
      return (l) => ps.every((p) => p(l));
    }
    case 'or': {
      const ps = rule.rules.map(compileRule);
      return (l) => ps.some((p) => p(l));
    }
    case 'exists': {
      const keys = rule.path.split('.');
      return (l) => {
        const v = l.value === undefined ? undefined : getPath(l.value, keys);
        return v !== undefined && v !== null;
      };
    }
    case 'compare': {
      const keys = rule.path.split('.');
      const value =
        rule.measure === 'lang' && typeof rule.value === 'string' ? normalizeLanguage(rule.value) : rule.value;
      return (l) => l.value !== undefined && compare(measure(rule.measure, getPath(l.value, keys)), rule.op, value);
    }
    case 'in': {
      const keys = rule.path.split('.');
      const values = rule.values.map((v) =>
        rule.measure === 'lang' && typeof v === 'string' ? normalizeLanguage(v) : v,
      );
      return (l) => {
        if (l.value === undefined) return false;
        const m = measure(rule.measure, getPath(l.value, keys));
        return values.some((v) => equals(m, v));
      };
    }
    case 'range': {
      const keys = rule.path.split('.');
      return (l) => {
        if (l.value === undefined) return false;
        const m = measure(rule.measure, getPath(l.value, keys));
        if (typeof m !== 'number') return false;
        return (rule.min === undefined || m >= rule.min) && (rule.max === undefined || m <= rule.max);
      };
    }
    case 'match': {
      const keys = rule.path.split('.');
      const re = new RegExp(rule.pattern, (rule.flags ?? '').replace(/[gy]/g, ''));
      return (l) => {
        const t = l.value === undefined ? undefined : textOf(getPath(l.value, keys));
        return t !== undefined && re.test(t);
      };
    }
    case 'contains': {
      const keys = rule.path.split('.');
      const cs = rule.caseSensitive === true;
      const words = rule.keywords.map((k) => (cs ? k : k.toLowerCase()));
      return (l) => {
        let t = l.value === undefined ? undefined : textOf(getPath(l.value, keys));
        if (t === undefined) return false;
        if (!cs) t = t.toLowerCase();
        const text = t;
        return words.some((w) => text.includes(w));
      };
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Printing (a rule's name in reports; parse(print(r)) is r)

function printScalar(v: Scalar): string {
  if (typeof v === 'string') return /^[A-Za-z_][\w\-:]*$/.test(v) && !KEYWORDS.has(v) ? v : JSON.stringify(v);
  return String(v);
}

function printOperand(m: Measure, p: string): string {
  return m === 'value' ? p : `${m}(${p})`;
}

export function printRule(rule: Rule): string {
  switch (rule.kind) {
    case 'invalid':
      return 'invalid';
    case 'exists':
      return `exists(${rule.path})`;
    case 'not':
      return rule.rule.kind === 'and' || rule.rule.kind === 'or'
        ? `not (${printRule(rule.rule)})`
        : `not ${printRule(rule.rule)}`;
    case 'and':
      return rule.rules.map((r) => (r.kind === 'or' ? `(${printRule(r)})` : printRule(r))).join(' and ');
    case 'or':
      return rule.rules.map(printRule).join(' or ');
    case 'compare':
      return `${printOperand(rule.measure, rule.path)} ${rule.op} ${printScalar(rule.value)}`;
    case 'in':
      return `${printOperand(rule.measure, rule.path)} in [${rule.values.map(printScalar).join(', ')}]`;
    case 'range': {
      const o = printOperand(rule.measure, rule.path);
      if (rule.min !== undefined && rule.max !== undefined) return `${o} >= ${rule.min} and ${o} <= ${rule.max}`;
      return rule.min !== undefined ? `${o} >= ${rule.min}` : `${o} <= ${rule.max}`;
    }
    case 'match':
      return `${rule.path} ~ /${rule.pattern.replace(/\//g, '\\/')}/${rule.flags ?? ''}`;
    case 'contains':
      return `${rule.path} contains${rule.caseSensitive ? '_cs' : ''} [${rule.keywords.map((k) => JSON.stringify(k)).join(', ')}]`;
  }
}

// ---------------------------------------------------------------------------------------------
// The parser

/** A --where expression that does not parse; `column` is 1-based. */
export class RuleSyntaxError extends UserError {
  constructor(
    readonly input: string,
    readonly column: number,
    readonly detail: string,
  ) {
    super(`${detail} at column ${column}\n  ${input}\n  ${' '.repeat(Math.max(0, column - 1))}^`);
    this.name = 'RuleSyntaxError';
  }
}

const KEYWORDS = new Set([
  'and',
  'or',
  'not',
  'in',
  'contains',
  'contains_cs',
  'invalid',
  'valid',
  'true',
  'false',
  'null',
]);
const FUNCTIONS = new Set(['len', 'tokens', 'count', 'lang', 'exists']);

type Tok =
  | { t: 'word'; v: string; pos: number }
  | { t: 'num'; v: number; pos: number }
  | { t: 'str'; v: string; pos: number }
  | { t: 're'; v: string; flags: string; pos: number }
  | { t: 'op'; v: string; pos: number }
  | { t: 'end'; pos: number };

function describe(tok: Tok): string {
  switch (tok.t) {
    case 'end':
      return 'the end of the rule';
    case 'str':
      return `the string ${JSON.stringify(tok.v)}`;
    case 're':
      return `the regular expression /${tok.v}/`;
    case 'num':
      return `the number ${tok.v}`;
    default:
      return `'${tok.v}'`;
  }
}

function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  const err = (pos: number, msg: string): never => {
    throw new RuleSyntaxError(src, pos + 1, msg);
  };
  // A "/" starts a regular expression after `~` / `!~`; elsewhere it is an error.
  while (i < src.length) {
    const c = src[i] as string;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const start = i;
    const two = src.slice(i, i + 2);
    if (['>=', '<=', '==', '!=', '!~'].includes(two)) {
      out.push({ t: 'op', v: two, pos: start });
      i += 2;
      continue;
    }
    if ('<>()[],~='.includes(c)) {
      out.push({ t: 'op', v: c === '=' ? '==' : c, pos: start });
      i++;
      continue;
    }
    if (c === '!') {
      out.push({ t: 'word', v: 'not', pos: start });
      i++;
      continue;
    }
    if (c === '"' || c === "'") {
      let j = i + 1;
      let s = '';
      while (j < src.length && src[j] !== c) {
        if (src[j] === '\\' && j + 1 < src.length) {
          const e = src[j + 1] as string;
          s += e === 'n' ? '\n' : e === 't' ? '\t' : e;
          j += 2;
        } else {
          s += src[j]!;
          j++;
        }
      }
      if (j >= src.length) err(start, `unterminated string (missing closing ${c})`);
      out.push({ t: 'str', v: s, pos: start });
      i = j + 1;
      continue;
    }
    if (c === '/') {
      const prev = out[out.length - 1];
      if (!prev || prev.t !== 'op' || (prev.v !== '~' && prev.v !== '!~'))
        err(start, "unexpected '/': a regular expression may only follow ~ or !~");
      let j = i + 1;
      let inClass = false;
      let body = '';
      while (j < src.length) {
        const d = src[j] as string;
        if (d === '\\' && j + 1 < src.length) {
          // "\/" is a slash in the pattern; other escapes are kept for RegExp.
          body += src[j + 1] === '/' ? '/' : d + src[j + 1]!;
          j += 2;
          continue;
        }
        if (d === '[') inClass = true;
        else if (d === ']') inClass = false;
        else if (d === '/' && !inClass) break;
        body += d;
        j++;
      }
      if (j >= src.length) err(start, 'unterminated regular expression (missing closing /)');
      j++;
      let flags = '';
      while (j < src.length && /[a-z]/i.test(src[j] as string)) flags += src[j++]!;
      if (!/^[imsuv]*$/.test(flags))
        err(j - flags.length, `unknown regular expression flags '${flags}' (allowed: i, m, s, u, v)`);
      try {
        new RegExp(body, flags);
      } catch (e) {
        err(
          start,
          `invalid regular expression: ${e instanceof Error ? e.message.replace(/^Invalid regular expression: /, '') : String(e)}`,
        );
      }
      out.push({ t: 're', v: body, flags, pos: start });
      i = j;
      continue;
    }
    const numMatch = /^-?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?/.exec(src.slice(i));
    if (numMatch && (c === '-' || /[\d.]/.test(c))) {
      const after = src[i + numMatch[0].length];
      if (after === undefined || !/[\w.]/.test(after)) {
        out.push({ t: 'num', v: Number(numMatch[0]), pos: start });
        i += numMatch[0].length;
        continue;
      }
    }
    const wordMatch = /^[\p{L}\p{N}_$][\p{L}\p{N}_$\-:]*(?:\.[\p{L}\p{N}_$\-:]+)*/u.exec(src.slice(i));
    if (wordMatch) {
      out.push({ t: 'word', v: wordMatch[0], pos: start });
      i += wordMatch[0].length;
      continue;
    }
    err(start, `unexpected character '${c}'`);
  }
  out.push({ t: 'end', pos: src.length });
  return out;
}

class Parser {
  private i = 0;
  constructor(
    private readonly src: string,
    private readonly toks: Tok[],
  ) {}

  private peek(): Tok {
    return this.toks[this.i] ?? { t: 'end', pos: this.src.length };
  }
  private next(): Tok {
    const t = this.peek();
    this.i++;
    return t;
  }
  private fail(tok: Tok, msg: string): never {
    throw new RuleSyntaxError(this.src, tok.pos + 1, msg);
  }
  private isWord(tok: Tok, w: string): boolean {
    return tok.t === 'word' && tok.v === w;
  }
  private isOp(tok: Tok, o: string): boolean {
    return tok.t === 'op' && tok.v === o;
  }

  parse(): Rule {
    if (this.peek().t === 'end') this.fail(this.peek(), 'empty rule');
    const r = this.or();
    const t = this.peek();
    if (t.t !== 'end') this.fail(t, `expected 'and', 'or' or the end of the rule, found ${describe(t)}`);
    return r;
  }

  private or(): Rule {
    const rules = [this.and()];
    while (this.isWord(this.peek(), 'or')) {
      this.next();
      rules.push(this.and());
    }
    return rules.length === 1 ? (rules[0] as Rule) : { kind: 'or', rules };
  }

  private and(): Rule {
    const rules = [this.unary()];
    while (this.isWord(this.peek(), 'and')) {
      this.next();
      rules.push(this.unary());
    }
    return rules.length === 1 ? (rules[0] as Rule) : { kind: 'and', rules };
  }

  private unary(): Rule {
    if (this.isWord(this.peek(), 'not')) {
      this.next();
      return { kind: 'not', rule: this.unary() };
    }
    return this.primary();
  }

  private primary(): Rule {
    const t = this.peek();
    if (this.isOp(t, '(')) {
      this.next();
      const r = this.or();
      const close = this.next();
      if (!this.isOp(close, ')'))
        this.fail(close, `expected ')' to close the '(' at column ${t.pos + 1}, found ${describe(close)}`);
      return r;
    }
    if (t.t !== 'word')
      this.fail(t, `expected a field, a function (len, tokens, count, lang, exists) or 'not', found ${describe(t)}`);
    if (t.v === 'invalid' || t.v === 'valid') {
      this.next();
      return t.v === 'invalid' ? { kind: 'invalid' } : { kind: 'not', rule: { kind: 'invalid' } };
    }
    if (KEYWORDS.has(t.v)) this.fail(t, `expected a field, found the keyword '${t.v}'`);
    this.next();
    let m: Measure = 'value';
    let fieldPath = t.v;
    if (this.isOp(this.peek(), '(')) {
      if (!FUNCTIONS.has(t.v)) this.fail(t, `unknown function '${t.v}' (known: len, tokens, count, lang, exists)`);
      this.next();
      const arg = this.next();
      if (arg.t !== 'word' || KEYWORDS.has(arg.v))
        this.fail(arg, `expected a field name inside ${t.v}(), found ${describe(arg)}`);
      const close = this.next();
      if (!this.isOp(close, ')')) this.fail(close, `expected ')' after ${t.v}(${arg.v}, found ${describe(close)}`);
      if (t.v === 'exists') return { kind: 'exists', path: arg.v };
      m = t.v as Measure;
      fieldPath = arg.v;
    }
    return this.comparison(m, fieldPath);
  }

  private scalar(m: Measure): Scalar {
    const t = this.next();
    switch (t.t) {
      case 'num':
        return t.v;
      case 'str':
        return t.v;
      case 'word':
        if (t.v === 'true') return true;
        if (t.v === 'false') return false;
        if (t.v === 'null') return null;
        if (KEYWORDS.has(t.v)) this.fail(t, `expected a value, found the keyword '${t.v}' (quote it: "${t.v}")`);
        return t.v;
      default:
        return this.fail(t, `expected a value${m === 'value' ? '' : ' for ' + m + '()'}, found ${describe(t)}`);
    }
  }

  private list(m: Measure): Scalar[] {
    const open = this.next();
    if (!this.isOp(open, '[')) this.fail(open, `expected '[' to start a list, found ${describe(open)}`);
    const values: Scalar[] = [];
    if (this.isOp(this.peek(), ']')) {
      this.next();
      return values;
    }
    for (;;) {
      values.push(this.scalar(m));
      const sep = this.next();
      if (this.isOp(sep, ']')) return values;
      if (!this.isOp(sep, ',')) this.fail(sep, `expected ',' or ']' in the list, found ${describe(sep)}`);
    }
  }

  private comparison(m: Measure, p: string): Rule {
    const t = this.next();
    const numericOnly = m === 'len' || m === 'tokens' || m === 'count';
    if (t.t === 'op' && CompareOp.safeParse(t.v).success) {
      const op = t.v as CompareOp;
      const vt = this.peek();
      const value = this.scalar(m);
      if (numericOnly && typeof value !== 'number')
        this.fail(vt, `expected a number after '${op}' (${m}() is a number), found ${describe(vt)}`);
      if (m === 'lang' && op !== '==' && op !== '!=')
        this.fail(t, `lang() can only be compared with == or != (or 'in')`);
      return { kind: 'compare', measure: m, path: p, op, value };
    }
    if (this.isWord(t, 'in')) return { kind: 'in', measure: m, path: p, values: this.list(m) };
    if (this.isWord(t, 'not') && this.isWord(this.peek(), 'in')) {
      this.next();
      return { kind: 'not', rule: { kind: 'in', measure: m, path: p, values: this.list(m) } };
    }
    if (this.isOp(t, '~') || this.isOp(t, '!~')) {
      if (m !== 'value') this.fail(t, `'~' matches a field's text, not ${m}()`);
      const re = this.next();
      if (re.t !== 're')
        this.fail(
          re,
          `expected a regular expression like /refund/i after '${t.t === 'op' ? t.v : '~'}', found ${describe(re)}`,
        );
      const rule: Rule = { kind: 'match', path: p, pattern: re.v, ...(re.flags ? { flags: re.flags } : {}) };
      return this.isOp(t, '!~') ? { kind: 'not', rule } : rule;
    }
    if (this.isWord(t, 'contains') || this.isWord(t, 'contains_cs')) {
      if (m !== 'value') this.fail(t, `'contains' looks in a field's text, not ${m}()`);
      const kt = this.peek();
      const values = this.isOp(kt, '[') ? this.list(m) : [this.scalar(m)];
      const keywords = values.map((v) => (v === null ? 'null' : String(v)));
      if (keywords.length === 0 || keywords.some((k) => k === ''))
        this.fail(kt, 'expected at least one non-empty keyword');
      return {
        kind: 'contains',
        path: p,
        keywords,
        ...(t.t === 'word' && t.v === 'contains_cs' ? { caseSensitive: true } : {}),
      };
    }
    if (t.t === 'end' && m === 'value')
      this.fail(
        t,
        `expected a comparison after '${p}' (==, !=, <, <=, >, >=, in, ~, contains); for presence use exists(${p})`,
      );
    return this.fail(
      t,
      `expected a comparison (==, !=, <, <=, >, >=, in, ~, contains) after '${m === 'value' ? p : `${m}(${p})`}', found ${describe(t)}`,
    );
  }
}

/** Parses one --where expression. Throws RuleSyntaxError with the 1-based column of the problem. */
export function parseRule(src: string): Rule {
  return new Parser(src, tokenize(src)).parse();
}

/** Parses --where expressions or validates JSON rules; all must pass (an 'and'). */
export function parseRules(input: readonly unknown[]): Rule[] {
  return input.map((r) => (typeof r === 'string' ? parseRule(r) : RuleSchema.parse(r)));
}
