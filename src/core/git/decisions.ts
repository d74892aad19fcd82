// Several people's decisions on one question (docs/git.md): after a person decides, every person's
// latest decision is kept in `annotations.decisions.<question>` once two or more people decided.
// No Node imports: the editor's edit functions use it.
import { defaultFields, type FieldMap } from '../schema/annotation';

type Rec = Record<string, unknown>;
const isObj = (v: unknown): v is Rec => v !== null && typeof v === 'object' && !Array.isArray(v);
/** Equal as JSON values, whatever the order of object keys. */
function sameJson(a: unknown, b: unknown): boolean {
  const canon = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(canon)
      : isObj(v)
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .map((k) => [k, canon(v[k])]),
          )
        : v;
  return JSON.stringify(canon(a)) === JSON.stringify(canon(b));
}
const who = (d: unknown): string | undefined =>
  isObj(d) && typeof d.user === 'string' && d.user !== '' ? d.user : undefined;
const key = (d: unknown): string => who(d) ?? `value:${JSON.stringify(isObj(d) ? d.value : d)}`;

/**
 * After a decision changed `annotations.human.<question>` (before -> after), keeps every person's
 * decision: when another person had decided (or several already had), `annotations.decisions.<question>`
 * gets this person's decision beside theirs (one entry per person, their latest). A first decision,
 * or the same person deciding again, changes nothing more.
 */
export function keepEveryDecision(
  before: Rec,
  after: Rec,
  fields: FieldMap = defaultFields,
  question = fields.question,
): Rec {
  const a0 = isObj(before[fields.annotations]) ? (before[fields.annotations] as Rec) : {};
  const a1 = isObj(after[fields.annotations]) ? (after[fields.annotations] as Rec) : {};
  const prev = isObj(a0.human) ? a0.human[question] : undefined;
  const now = isObj(a1.human) ? a1.human[question] : undefined;
  if (now === undefined || sameJson(prev, now)) return after;
  const existing =
    isObj(a0.decisions) && Array.isArray(a0.decisions[question]) ? (a0.decisions[question] as unknown[]) : undefined;
  const someoneElse = prev !== undefined && who(prev) !== undefined && who(now) !== undefined && who(prev) !== who(now);
  if (!existing && !someoneElse) return after;
  const list = [...(existing ?? [prev])];
  const at = list.findIndex((d) => key(d) === key(now));
  if (at >= 0) list[at] = now;
  else list.push(now);
  const decisions = isObj(a1.decisions) ? { ...a1.decisions } : {};
  decisions[question] = list;
  return { ...after, [fields.annotations]: { ...a1, decisions } };
}
