// Several people (docs/git.md): who decided (the git identity, a setting or --annotator), several
// people's decisions on one question side by side, human-human agreement (Cohen's kappa per pair,
// Fleiss' kappa, Krippendorff's alpha) and "my queue" (the records a person has not decided).
//
//   "annotations": {
//     "human":     { "label": { "value": "positive", "user": "bob", "status": "submitted", "time": "…" } },  // the current decision (the latest)
//     "decisions": { "label": [                                                                              // every person's latest, when more than one decided
//       { "value": "negative", "user": "maria", "status": "submitted", "time": "…" },
//       { "value": "positive", "user": "bob", "status": "submitted", "time": "…" } ] } }
import { classificationMetrics } from '../metrics/agreement-core';
import { defaultFields, HumanDecision, type FieldMap } from '../schema/annotation';
import { isObj } from './records';

export { keepEveryDecision } from './decisions';

type Rec = Record<string, unknown>;

const who = (d: unknown): string | undefined =>
  isObj(d) && typeof d.user === 'string' && d.user !== '' ? d.user : undefined;

/** The people's submitted decisions of a record for a question, by person (unattributed ones left out). */
export function decisionsByPerson(
  record: Rec,
  fields: FieldMap = defaultFields,
  question = fields.question,
): Map<string, string> {
  const out = new Map<string, string>();
  const ann = isObj(record[fields.annotations]) ? (record[fields.annotations] as Rec) : {};
  const put = (raw: unknown) => {
    const d = HumanDecision.safeParse(raw);
    if (!d.success || d.data.status !== 'submitted' || !d.data.user) return;
    const v = d.data.value;
    const label =
      typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : JSON.stringify(v);
    out.set(d.data.user, label);
  };
  const list = isObj(ann.decisions) ? ann.decisions[question] : undefined;
  if (Array.isArray(list)) for (const d of list) put(d);
  if (isObj(ann.human)) {
    const h = ann.human[question];
    const u = who(h);
    if (u !== undefined && !out.has(u)) put(h);
  }
  return out;
}

export interface PairAgreement {
  a: string;
  b: string;
  /** Records both decided. */
  n: number;
  accuracy: number | null;
  kappa: number | null;
}

export interface AnnotatorsReport {
  /** Each person and how many records they decided. */
  people: { user: string; decided: number }[];
  /** Records with decisions of two people or more. */
  shared: number;
  /** Records where they differ. */
  disagreements: number;
  pairs: PairAgreement[];
  /** Fleiss' kappa over the records two or more people decided (raters per record may vary). */
  fleissKappa: number | null;
  /** Krippendorff's alpha, nominal (missing decisions allowed). */
  krippendorffAlpha: number | null;
}

/** Fleiss' kappa; each unit is the labels its raters gave (units with fewer than two are left out). */
export function fleissKappa(units: readonly (readonly string[])[]): number | null {
  const used = units.filter((u) => u.length >= 2);
  if (used.length === 0) return null;
  const totals = new Map<string, number>();
  let all = 0;
  let pBar = 0;
  for (const u of used) {
    const counts = new Map<string, number>();
    for (const l of u) counts.set(l, (counts.get(l) ?? 0) + 1);
    let agree = 0;
    for (const [l, c] of counts) {
      agree += c * (c - 1);
      totals.set(l, (totals.get(l) ?? 0) + c);
    }
    all += u.length;
    pBar += agree / (u.length * (u.length - 1));
  }
  pBar /= used.length;
  let pe = 0;
  for (const c of totals.values()) pe += (c / all) ** 2;
  return pe === 1 ? null : (pBar - pe) / (1 - pe);
}

/** Krippendorff's alpha for nominal data; each unit is the labels its coders gave (missing ones absent). */
export function krippendorffAlphaNominal(units: readonly (readonly string[])[]): number | null {
  const used = units.filter((u) => u.length >= 2);
  const nc = new Map<string, number>();
  let observed = 0; // sum over c != k of o_ck
  let n = 0;
  for (const u of used) {
    const counts = new Map<string, number>();
    for (const l of u) counts.set(l, (counts.get(l) ?? 0) + 1);
    let sq = 0;
    for (const [l, c] of counts) {
      sq += c * c;
      nc.set(l, (nc.get(l) ?? 0) + c);
    }
    observed += (u.length * u.length - sq) / (u.length - 1);
    n += u.length;
  }
  if (n < 2) return null;
  let sq = 0;
  for (const c of nc.values()) sq += c * c;
  const expected = n * n - sq; // sum over c != k of n_c n_k
  if (expected === 0) return null;
  return 1 - ((n - 1) * observed) / expected;
}

/** Human-human agreement over records: per pair of people, Fleiss' kappa and Krippendorff's alpha. */
export function annotatorsAgreement(rows: Iterable<ReadonlyMap<string, string>>): AnnotatorsReport {
  const decided = new Map<string, number>();
  const pairs = new Map<string, [string, string][]>();
  const units: string[][] = [];
  let disagreements = 0;
  for (const row of rows) {
    for (const u of row.keys()) decided.set(u, (decided.get(u) ?? 0) + 1);
    if (row.size < 2) continue;
    const labels = [...row.values()];
    units.push(labels);
    if (new Set(labels).size > 1) disagreements++;
    const people = [...row.keys()].sort();
    for (let i = 0; i < people.length; i++) {
      for (let j = i + 1; j < people.length; j++) {
        const k = `${people[i]}\u0000${people[j]}`;
        const list = pairs.get(k) ?? [];
        list.push([row.get(people[i]!)!, row.get(people[j]!)!]);
        pairs.set(k, list);
      }
    }
  }
  return {
    people: [...decided]
      .map(([user, n]) => ({ user, decided: n }))
      .sort((x, y) => y.decided - x.decided || (x.user < y.user ? -1 : 1)),
    shared: units.length,
    disagreements,
    pairs: [...pairs].map(([k, list]) => {
      const [a, b] = k.split('\u0000') as [string, string];
      const m = classificationMetrics(list);
      return { a, b, n: m.n, accuracy: m.accuracy, kappa: m.kappa };
    }),
    fleissKappa: fleissKappa(units),
    krippendorffAlpha: krippendorffAlphaNominal(units),
  };
}
