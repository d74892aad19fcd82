// Where a valid record's annotation fields break the annotation layout (./annotation.ts): a label
// that is an object, a judge score that is a string, a suggestion without its shape... readAnnotation
// skips such parts silently; this says what they are, for the text editor's Problems panel and
// `curate validate`-style reports. Pure.
import type { z } from 'zod';
import { Annotations, FieldMap, HumanDecision, Judge, Suggestion, defaultFields } from './annotation';

type Rec = Record<string, unknown>;
const isObj = (v: unknown): v is Rec => v !== null && typeof v === 'object' && !Array.isArray(v);

function kind(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

function issues(prefix: string, error: z.ZodError): string[] {
  return error.issues.map((i) => {
    const where = [prefix, ...i.path.map(String)].join('.');
    return `${where}: ${i.message.replace(/^Invalid input: /, '')}`;
  });
}

/** The layout problems of a record, each as "path: what is wrong"; empty when it fits. */
export function annotationProblems(record: Rec, fields: FieldMap = defaultFields): string[] {
  const out: string[] = [];
  const label = record[fields.label];
  if (label !== undefined && label !== null && !['string', 'number', 'boolean'].includes(typeof label)) {
    out.push(`${fields.label}: expected a string, found ${kind(label)}`);
  }
  const rationale = record[fields.rationale];
  if (rationale !== undefined && rationale !== null && typeof rationale !== 'string') {
    out.push(`${fields.rationale}: expected a string, found ${kind(rationale)}`);
  }
  const judge = record[fields.judge];
  if (judge !== undefined && judge !== null) {
    const j = Judge.safeParse(judge);
    if (!j.success)
      out.push(
        ...(isObj(judge)
          ? issues(fields.judge, j.error)
          : [`${fields.judge}: expected an object, found ${kind(judge)}`]),
      );
  }
  const ann = record[fields.annotations];
  if (ann !== undefined && ann !== null) {
    if (!isObj(ann)) out.push(`${fields.annotations}: expected an object, found ${kind(ann)}`);
    else {
      // Per part, so that one bad suggestion is named precisely and the rest still checked.
      const { suggestions, human, ...rest } = ann;
      const r = Annotations.safeParse(rest);
      if (!r.success) out.push(...issues(fields.annotations, r.error));
      if (suggestions !== undefined) {
        if (!isObj(suggestions))
          out.push(`${fields.annotations}.suggestions: expected an object of lists, found ${kind(suggestions)}`);
        else
          for (const [q, list] of Object.entries(suggestions)) {
            if (!Array.isArray(list)) {
              out.push(`${fields.annotations}.suggestions.${q}: expected a list, found ${kind(list)}`);
              continue;
            }
            list.forEach((s, k) => {
              const p = Suggestion.safeParse(s);
              if (!p.success) out.push(...issues(`${fields.annotations}.suggestions.${q}.${k}`, p.error));
            });
          }
      }
      if (human !== undefined) {
        if (!isObj(human)) out.push(`${fields.annotations}.human: expected an object, found ${kind(human)}`);
        else
          for (const [q, h] of Object.entries(human)) {
            const p = HumanDecision.safeParse(h);
            if (!p.success) out.push(...issues(`${fields.annotations}.human.${q}`, p.error));
          }
      }
    }
  }
  return out;
}
