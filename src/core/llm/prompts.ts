// Prompt templates: id, version, system and user prompt texts with {{name}} placeholders, and a
// stable hash. Fixed instructions come first (system, then few-shot turns) and the record last, so
// providers' prompt caching reuses the prefix across records.
//
// Renderer: `{{name}}` or `{{a.b.c}}` (dotted path), whitespace allowed inside the braces. Strings
// are inserted as they are, other values as JSON, missing values as "". That is the whole syntax;
// a 30-line renderer is simpler to audit than a mustache dependency (no sections, no HTML escaping,
// nothing executable).
//
// Workspace overrides: `<dir>/<task>.md` (dir is usually `.curator/prompts`):
//   ---
//   version: 2            (optional front matter; `version` is mixed into the prompt hash)
//   ---
//   # system
//   ...text with {{labels}}...
//   # user
//   ...text with {{record}} or {{text}}...
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { canonicalJson } from './cache';
import type { ChatMessage } from './client';

export type TaskId = 'label' | 'rationale' | 'judge' | 'consistency' | 'critique';
export const TASK_IDS: readonly TaskId[] = ['label', 'rationale', 'judge', 'consistency', 'critique'];

export interface PromptTemplate {
  /** A task id (TaskId) or a generation template's id (src/core/synth/templates.ts). */
  id: string;
  version: string;
  /** Placeholders: the task's option variables (see each template's `systemVars`). */
  system: string;
  /** Placeholders: `record` (the record's input fields as JSON) and any field name / dotted path. */
  user: string;
  /** Names the system prompt may use. */
  systemVars: readonly string[];
  /** Where the template came from (a file path for overrides). */
  source?: string;
}

const PLACEHOLDER = /\{\{\s*([A-Za-z_][\w-]*(?:\.[\w-]+)*)\s*\}\}/g;

/** The value at a placeholder's path: its first name from `root`, the rest walked down objects. */
function lookup(root: (name: string) => unknown, path: string): unknown {
  const dot = path.indexOf('.');
  let cur = root(dot < 0 ? path : path.slice(0, dot));
  if (dot < 0) return cur;
  for (const part of path.slice(dot + 1).split('.')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

/** The text with each placeholder replaced by the value `root` gives for its path's first name. */
function renderWith(text: string, root: (name: string) => unknown): string {
  return text.replace(PLACEHOLDER, (_m, name: string) => {
    const v = lookup(root, name);
    if (v === undefined || v === null) return '';
    return typeof v === 'string' ? v : JSON.stringify(v);
  });
}

export function renderTemplate(text: string, vars: Record<string, unknown>): string {
  return renderWith(text, (name) => vars[name]);
}

export function placeholders(text: string): string[] {
  return [...text.matchAll(PLACEHOLDER)].map((m) => m[1] as string);
}

/** sha256 over id, version and the texts actually sent (system rendered with the job's options). */
export function promptHash(
  t: Pick<PromptTemplate, 'id' | 'version' | 'user'>,
  renderedSystem: string,
  extra: unknown = null,
): string {
  const h = createHash('sha256');
  h.update(JSON.stringify([t.id, t.version, renderedSystem, t.user, extra]));
  return `sha256:${h.digest('hex')}`;
}

/** Fields that belong to the annotation layout, left out of `{{record}}`. */
export const ANNOTATION_FIELDS = new Set(['label', 'rationale', 'judge', 'judges', 'annotations']);

/** The record's input fields: `inputFields` when given, else every field but the annotation's (`exclude`). */
export function recordInput(
  record: Record<string, unknown>,
  inputFields?: readonly string[],
  exclude: ReadonlySet<string> = ANNOTATION_FIELDS,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  // defined, not assigned: a record's "__proto__" field is a field (assigned, it would set out's prototype and be lost)
  const put = (k: string, v: unknown): void => {
    if (k === '__proto__')
      Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
    else out[k] = v;
  };
  if (inputFields && inputFields.length > 0) {
    for (const f of inputFields) if (Object.hasOwn(record, f) && record[f] !== undefined) put(f, record[f]);
    return out;
  }
  for (const [k, v] of Object.entries(record)) if (!exclude.has(k)) put(k, v);
  return out;
}

export function renderMessages(
  template: PromptTemplate,
  renderedSystem: string,
  record: Record<string, unknown>,
  opts: {
    inputFields?: readonly string[];
    fewShot?: ChatMessage[];
    extra?: Record<string, unknown>;
    exclude?: ReadonlySet<string>;
  } = {},
): ChatMessage[] {
  // The names resolve as in `{ ...record, ...extra, record: <its input fields as JSON> }`, without
  // building that object for each record: on Node 20 (V8 11.3) the spread copies of a file's
  // records outlived the young generation, ~0.2 KB each, and filled the old one with garbage until
  // a full collection (applying 100,000 batch results: 24 MB of it, bench/batch.ts).
  const extra = opts.extra;
  let json: string | undefined;
  const root = (name: string): unknown => {
    if (name === 'record') return (json ??= JSON.stringify(recordInput(record, opts.inputFields, opts.exclude)));
    if (extra !== undefined && Object.hasOwn(extra, name)) return extra[name];
    return Object.hasOwn(record, name) ? record[name] : undefined;
  };
  return [
    { role: 'system', content: renderedSystem },
    ...(opts.fewShot ?? []),
    { role: 'user', content: renderWith(template.user, root) },
  ];
}

// ---- overrides ------------------------------------------------------------------------------

const OverrideFile = z.object({
  version: z.string().min(1).max(64).default('override-1'),
  system: z.string().trim().min(1, 'the "# system" section is empty or missing'),
  user: z.string().trim().min(1, 'the "# user" section is empty or missing'),
});

export class PromptOverrideError extends Error {
  constructor(
    readonly file: string,
    message: string,
  ) {
    super(`${file}: ${message}`);
    this.name = 'PromptOverrideError';
  }
}

export function parseOverride(text: string, base: PromptTemplate, file = `${base.id}.md`): PromptTemplate {
  let body = text.replace(/^\uFEFF/, '').replace(/\r\n/g, '\n');
  const meta: Record<string, string> = {};
  const fm = /^---\n([\s\S]*?)\n---\n/.exec(body);
  if (fm) {
    for (const line of (fm[1] ?? '').split('\n')) {
      const m = /^\s*([\w-]+)\s*:\s*(.*?)\s*$/.exec(line);
      if (m) meta[m[1] as string] = (m[2] as string).replace(/^["']|["']$/g, '');
    }
    body = body.slice(fm[0].length);
  }
  const sections: Record<string, string[]> = {};
  let current: string | undefined;
  for (const line of body.split('\n')) {
    const h = /^#\s+(system|user)\s*$/i.exec(line);
    if (h) {
      current = (h[1] as string).toLowerCase();
      sections[current] = [];
    } else if (current) sections[current]?.push(line);
  }
  const parsed = OverrideFile.safeParse({
    version: meta.version,
    system: sections.system?.join('\n') ?? '',
    user: sections.user?.join('\n') ?? '',
  });
  if (!parsed.success) throw new PromptOverrideError(file, z.prettifyError(parsed.error));
  const unknownVars = placeholders(parsed.data.system).filter(
    (v) => !base.systemVars.includes(v.split('.')[0] as string),
  );
  if (unknownVars.length > 0) {
    throw new PromptOverrideError(
      file,
      `unknown placeholder(s) in the system prompt: ${unknownVars.map((v) => `{{${v}}}`).join(', ')} (allowed: ${base.systemVars.map((v) => `{{${v}}}`).join(', ')})`,
    );
  }
  return { ...base, version: parsed.data.version, system: parsed.data.system, user: parsed.data.user, source: file };
}

/** A template in the override format (what "Open Prompt Template…" writes for editing). */
export function templateFile(t: PromptTemplate): string {
  return [
    '---',
    `version: ${t.version}`,
    '---',
    `<!-- The ${t.id} prompt of Dataset Curator, used for every dataset in this folder and below. Edit the`,
    '     sections; the prompt hash covers their text and the version, so an edited prompt is cached and',
    '     journaled apart from the built-in one (an unedited copy behaves exactly like it). Delete the file',
    '     to go back to the built-in prompt.',
    `     System placeholders: ${t.systemVars.map((v) => `{{${v}}}`).join(', ')}.`,
    '     User placeholders: {{record}} (the record without its annotation fields) or any field, e.g. {{text}}. -->',
    '# system',
    t.system,
    '# user',
    t.user,
    '',
  ].join('\n');
}

/** The prompts folder of a dataset: the nearest `.curator/prompts` in its folder or above. */
export function findPromptsDir(file: string): string | undefined {
  let dir = dirname(resolve(file));
  for (;;) {
    const candidate = join(dir, '.curator', 'prompts');
    try {
      if (statSync(candidate).isDirectory()) return candidate;
    } catch {
      /* not here */
    }
    const up = dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
}

/** The template for a task: `<dir>/<task>.md` when it exists (validated), else the built-in one. */
export function loadTemplate(task: string, builtIn: PromptTemplate, dir?: string): PromptTemplate {
  if (!dir) return builtIn;
  const file = join(dir, `${task}.md`);
  if (!existsSync(file)) return builtIn;
  return parseOverride(readFileSync(file, 'utf8'), builtIn, file);
}

/**
 * A record's key for the journal: a hash of the messages the task sends for it (what the task
 * reads of the record: never the annotation fields a result writes, unless the prompt shows them,
 * as the rationale task shows the label it explains). So a result applied to its record keeps the
 * key, and an edit of what the model saw changes it.
 */
export function requestKey(messages: readonly ChatMessage[]): string {
  return `k2:${createHash('sha256').update(canonicalJson(messages)).digest('hex').slice(0, 32)}`;
}
