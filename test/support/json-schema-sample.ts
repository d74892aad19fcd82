// Produces a deterministic JSON value that is valid for a (subset of) JSON Schema, driven by a
// seed string (the test server seeds it with the last user message). Supports what zod 4's
// toJSONSchema emits for our schemas: object/array/string/number/integer/boolean/null, enum,
// const, anyOf/oneOf/allOf (first branch), type arrays, $ref into #/definitions or #/$defs,
// minimum/maximum (+exclusive), minLength/maxLength, minItems/maxItems.
import { createHash } from 'node:crypto';

export type JsonSchema = { [k: string]: unknown };

/** A small deterministic PRNG (mulberry32) seeded from sha256 of the text. */
export function seededRandom(seed: string): () => number {
  let a = createHash('sha256').update(seed).digest().readUInt32LE(0);
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = ['alpha', 'bravo', 'clear', 'delta', 'echo', 'fine', 'good', 'hint', 'ideal', 'just'];

export function sampleFromSchema(schema: unknown, seed: string): unknown {
  const rnd = seededRandom(seed);
  const root = (schema ?? {}) as JsonSchema;
  return gen(root, root, rnd, 0);
}

function resolveRef(ref: string, root: JsonSchema): JsonSchema {
  if (ref === '#') return root;
  const parts = ref
    .replace(/^#\//, '')
    .split('/')
    .map((p) => decodeURIComponent(p.replace(/~1/g, '/').replace(/~0/g, '~')));
  let cur: unknown = root;
  for (const p of parts) cur = cur && typeof cur === 'object' ? (cur as JsonSchema)[p] : undefined;
  return (cur ?? {}) as JsonSchema;
}

function gen(s: JsonSchema, root: JsonSchema, rnd: () => number, depth: number): unknown {
  if (depth > 12) return null;
  if (typeof s.$ref === 'string') return gen(resolveRef(s.$ref, root), root, rnd, depth + 1);
  if ('const' in s) return s.const;
  if (Array.isArray(s.enum) && s.enum.length > 0) return s.enum[Math.floor(rnd() * s.enum.length)];
  for (const k of ['anyOf', 'oneOf'] as const) {
    const alts = s[k];
    if (Array.isArray(alts) && alts.length > 0) {
      // prefer a non-null branch so answers carry content
      const nonNull = alts.find((a) => (a as JsonSchema | null)?.type !== 'null') ?? alts[0];
      return gen(nonNull as JsonSchema, root, rnd, depth + 1);
    }
  }
  if (Array.isArray(s.allOf) && s.allOf.length > 0) {
    const merged: JsonSchema = {};
    for (const part of s.allOf) Object.assign(merged, part as JsonSchema);
    return gen(merged, root, rnd, depth + 1);
  }
  let type = s.type;
  if (Array.isArray(type)) type = type.find((t) => t !== 'null') ?? type[0];
  if (type === undefined) {
    if (s.properties) type = 'object';
    else if (s.items) type = 'array';
    else type = 'string';
  }
  switch (type) {
    case 'object': {
      const out: Record<string, unknown> = {};
      const props = (s.properties ?? {}) as Record<string, JsonSchema>;
      const required = new Set(Array.isArray(s.required) ? (s.required as string[]) : Object.keys(props));
      for (const [k, sub] of Object.entries(props)) {
        if (required.has(k) || rnd() < 0.5) out[k] = gen(sub, root, rnd, depth + 1);
      }
      return out;
    }
    case 'array': {
      const min = typeof s.minItems === 'number' ? s.minItems : 1;
      const max = typeof s.maxItems === 'number' ? s.maxItems : Math.max(min, 3);
      const n = min + Math.floor(rnd() * (max - min + 1));
      const items = (Array.isArray(s.prefixItems) ? null : (s.items ?? {})) as JsonSchema | null;
      if (Array.isArray(s.prefixItems)) return (s.prefixItems as JsonSchema[]).map((p) => gen(p, root, rnd, depth + 1));
      return Array.from({ length: n }, () => gen(items ?? {}, root, rnd, depth + 1));
    }
    case 'integer':
    case 'number': {
      let lo =
        typeof s.minimum === 'number' ? s.minimum : typeof s.exclusiveMinimum === 'number' ? s.exclusiveMinimum : 0;
      let hi =
        typeof s.maximum === 'number'
          ? s.maximum
          : typeof s.exclusiveMaximum === 'number'
            ? s.exclusiveMaximum
            : lo + 10;
      if (type === 'integer') {
        lo = Math.ceil(lo + (typeof s.exclusiveMinimum === 'number' ? 1e-9 : 0));
        hi = Math.floor(hi - (typeof s.exclusiveMaximum === 'number' ? 1e-9 : 0));
        return lo + Math.floor(rnd() * (hi - lo + 1));
      }
      const v = lo + rnd() * (hi - lo);
      return Math.round(v * 1000) / 1000;
    }
    case 'boolean':
      return rnd() < 0.5;
    case 'null':
      return null;
    default: {
      const minLen = typeof s.minLength === 'number' ? s.minLength : 0;
      const maxLen = typeof s.maxLength === 'number' ? s.maxLength : 40;
      let str = `${WORDS[Math.floor(rnd() * WORDS.length)]} ${WORDS[Math.floor(rnd() * WORDS.length)]}`;
      while (str.length < minLen) str += 'x';
      return str.slice(0, Math.max(minLen, Math.min(maxLen, str.length)));
    }
  }
}
