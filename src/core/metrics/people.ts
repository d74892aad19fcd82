// Agreement between people (docs/git.md "Several people"): each person's submitted decision on a
// question (annotations.decisions.<question>, annotations.human.<question>), Cohen's kappa per pair
// of people, Fleiss' kappa and Krippendorff's alpha (nominal) over the records two or more decided.
// One implementation for `curate annotators`, `curate agreement` and the curation editor's live
// agreement report: PeopleCounter counts rows of decisions (and takes them back) as the agreement
// accumulator counts records. Dependency-free (the store's worker threads load it).
//
//   "annotations": {
//     "human":     { "label": { "value": "positive", "user": "bob", "status": "submitted", "time": "…" } },  // the current decision (the latest)
//     "decisions": { "label": [                                                                              // every person's latest, when more than one decided
//       { "value": "negative", "user": "maria", "status": "submitted", "time": "…" },
//       { "value": "positive", "user": "bob", "status": "submitted", "time": "…" } ] } }
import type { FieldMap } from '../schema/annotation';
import { classificationMetricsOfCounts } from './agreement-core';

type Rec = Record<string, unknown>;
const isObj = (v: unknown): v is Rec => v !== null && typeof v === 'object' && !Array.isArray(v);
const STATUSES = new Set(['submitted', 'discarded', 'draft']);

/** A decision as the schema reads it (HumanDecision): its person and its value as a label, when it is a submitted one with a person. */
function submittedBy(raw: unknown): [string, string] | undefined {
  if (!isObj(raw)) return undefined;
  const { user, status = 'submitted', time, value } = raw;
  if (user !== undefined && typeof user !== 'string') return undefined;
  if (time !== undefined && typeof time !== 'string') return undefined;
  if (typeof status !== 'string' || !STATUSES.has(status)) return undefined;
  if (status !== 'submitted' || !user || value === undefined) return undefined;
  const label =
    typeof value === 'string'
      ? value
      : typeof value === 'number' || typeof value === 'boolean'
        ? String(value)
        : JSON.stringify(value);
  return [user, label];
}

/** The people's submitted decisions of a record for a question, by person (unattributed ones left out). */
export function decisionsByPerson(
  record: Rec,
  fields: Pick<FieldMap, 'annotations' | 'question'> = { annotations: 'annotations', question: 'label' },
  question = fields.question,
): Map<string, string> {
  const out = new Map<string, string>();
  const ann = isObj(record[fields.annotations]) ? (record[fields.annotations] as Rec) : {};
  const list = isObj(ann.decisions) ? ann.decisions[question] : undefined;
  if (Array.isArray(list))
    for (const d of list) {
      const p = submittedBy(d);
      if (p) out.set(p[0], p[1]);
    }
  if (isObj(ann.human)) {
    const h = ann.human[question];
    const u = isObj(h) && typeof h.user === 'string' && h.user !== '' ? h.user : undefined;
    if (u !== undefined && !out.has(u)) {
      const p = submittedBy(h);
      if (p) out.set(p[0], p[1]);
    }
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
  /** Every pair of people who decided a record both, sorted by name. */
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

/** Human-human agreement over records (one row per record: each person's decision). */
export function annotatorsAgreement(rows: Iterable<ReadonlyMap<string, string>>): AnnotatorsReport {
  const counted: [ReadonlyMap<string, string>, number][] = [];
  for (const row of rows) counted.push([row, 1]);
  return annotatorsAgreementOfCounts(counted);
}

/** The same from counted rows: [row, how many records have it]. */
export function annotatorsAgreementOfCounts(
  rows: Iterable<readonly [ReadonlyMap<string, string>, number]>,
): AnnotatorsReport {
  const decided = new Map<string, number>();
  const pairs = new Map<string, Map<string, [string, string, number]>>();
  const units: string[][] = [];
  let disagreements = 0;
  for (const [row, times] of rows) {
    if (times <= 0) continue;
    for (const u of row.keys()) decided.set(u, (decided.get(u) ?? 0) + times);
    if (row.size < 2) continue;
    const labels = [...row.values()];
    for (let t = 0; t < times; t++) units.push(labels);
    if (new Set(labels).size > 1) disagreements += times;
    const people = [...row.keys()].sort();
    for (let i = 0; i < people.length; i++) {
      for (let j = i + 1; j < people.length; j++) {
        const a = row.get(people[i]!)!;
        const b = row.get(people[j]!)!;
        const k = `${people[i]}\u0000${people[j]}`;
        let m = pairs.get(k);
        if (!m) pairs.set(k, (m = new Map<string, [string, string, number]>()));
        const lk = `${a}\u0000${b}`;
        const had = m.get(lk);
        m.set(lk, [a, b, (had?.[2] ?? 0) + times]);
      }
    }
  }
  return {
    people: [...decided]
      .map(([user, n]) => ({ user, decided: n }))
      .sort((x, y) => y.decided - x.decided || (x.user < y.user ? -1 : 1)),
    shared: units.length,
    disagreements,
    pairs: [...pairs]
      .sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0))
      .map(([k, counts]) => {
        const [a, b] = k.split('\u0000') as [string, string];
        const m = classificationMetricsOfCounts(counts.values());
        return { a, b, n: m.n, accuracy: m.accuracy, kappa: m.kappa };
      }),
    fleissKappa: fleissKappa(units),
    krippendorffAlpha: krippendorffAlphaNominal(units),
  };
}

/**
 * Counts the people's decisions on a question over records: `add(record, +1)` counts a record,
 * `add(record, -1)` takes it back. Rows are kept as (distinct row, how many records), so a file
 * where one person decided a million records holds one row.
 */
export class PeopleCounter {
  private readonly rows = new Map<string, number>();

  constructor(
    readonly question: string,
    readonly annotations = 'annotations',
  ) {}

  add(record: Rec, sign: 1 | -1 = 1): void {
    const row = decisionsByPerson(record, { annotations: this.annotations, question: this.question });
    if (row.size === 0) return;
    const key = JSON.stringify([...row].sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0)));
    const n = (this.rows.get(key) ?? 0) + sign;
    if (n === 0) this.rows.delete(key);
    else this.rows.set(key, n);
  }

  /** The counts as plain JSON (a worker thread posts them). */
  state(): [string, number][] {
    return [...this.rows];
  }

  merge(state: readonly (readonly [string, number])[]): void {
    for (const [k, by] of state) {
      const n = (this.rows.get(k) ?? 0) + by;
      if (n === 0) this.rows.delete(k);
      else this.rows.set(k, n);
    }
  }

  report(): AnnotatorsReport {
    return annotatorsAgreementOfCounts(
      [...this.rows].map(([k, n]) => [new Map(JSON.parse(k) as [string, string][]), n] as const),
    );
  }
}
