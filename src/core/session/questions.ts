// The curation editor's side of declared questions (docs/questions.md): what a record's payload
// carries per question (the person's decision beside each model's suggestion, the candidates of a
// ranking, the text of a span question's field), and what a person's edit of an answer does to the
// record, as a pure function from the record to the next (the session writes it as one undoable
// edit). The values are worked out by src/core/questions (edit.ts, layout.ts), checked there.
import { keepEveryDecision } from '../git/decisions';
import { rejectSuggestion } from '../schema/annotation';
import { addSpan, moveCandidate, removeSpan, spanFromSelection, toggleLabel } from '../questions/edit';
import { acceptAnswer, answersOf, withAnswer, withoutAnswer, type When } from '../questions/layout';
import { candidateIds, type Question } from '../questions/schema';
import { rankingCandidates, ranksOf, spanFieldText, spansOf } from '../questions/values';
import type { AnnotationEdit, QuestionAnswersView, QuestionEdit } from './views';

type Rec = Record<string, unknown>;

/** A record's answers to each declared question, as the editor shows them. */
export function questionViews(record: Rec, questions: readonly Question[]): QuestionAnswersView[] {
  return questions.map((q) => {
    const a = answersOf(record, q);
    const view: QuestionAnswersView = {
      question: q,
      ...(a.human ? { human: a.human } : {}),
      suggestions: a.suggestions.map((s) => ({
        position: s.position,
        value: s.value,
        ...(s.problem !== undefined ? { problem: s.problem } : {}),
        ...(s.score !== undefined ? { score: s.score } : {}),
        ...(s.labelScores ? { labelScores: s.labelScores } : {}),
        ...(s.agent !== undefined ? { agent: s.agent } : {}),
        type: s.type,
        ...(s.rationale !== undefined ? { rationale: s.rationale } : {}),
        ...(s.task !== undefined ? { task: s.task } : {}),
      })),
      ...(a.current ? { current: a.current } : {}),
    };
    if (q.type === 'ranking') {
      const items = rankingCandidates(record, q);
      if (items) {
        const ids = candidateIds(q, items.length);
        view.candidates = items.map((value, i) => ({ id: ids[i] ?? String(i + 1), value }));
      }
    }
    if (q.type === 'span') {
      const text = spanFieldText(record, q.field);
      if (text !== undefined) view.text = text;
    }
    return view;
  });
}

/** The person's answer an edit starts from: theirs when submitted (or a draft), else none. */
function ownValue(record: Rec, q: Question): unknown {
  const h = answersOf(record, q).human;
  return h && h.status !== 'discarded' && h.problem === undefined ? h.value : undefined;
}

/** The question an edit names, among the declared ones; a clear error when it is not declared. */
export function questionNamed(questions: readonly Question[], name: string): Question {
  const q = questions.find((x) => x.name === name);
  if (!q)
    throw new Error(
      `"${name}" is not a question of this dataset${questions.length ? ` (its questions: ${questions.map((x) => x.name).join(', ')})` : ' (none is declared in .curator/questions.json)'}.`,
    );
  return q;
}

/**
 * The record after a person's edit of a declared question's answer, and the undo stack's name for
 * it. A value that does not fit the question (or the record) throws with the reason. Every
 * person's decision is kept when several decide (docs/git.md).
 */
export function applyQuestionEdit(
  record: Rec,
  questions: readonly Question[],
  req: QuestionEdit,
  when: When = {},
): { record: Rec; label: string } {
  const q = questionNamed(questions, req.question);
  const decided = (value: unknown, label: string) => ({
    record: keepEveryDecision(record, withAnswer(record, q, value, when), undefined, q.name),
    label,
  });
  switch (req.op) {
    case 'answer':
      return decided(req.value, `Answer ${q.name}`);
    case 'clearAnswer':
      return { record: withoutAnswer(record, q), label: `Clear ${q.name}` };
    case 'toggleLabel': {
      if (q.type !== 'multi-label') throw new Error(`${q.name} is a ${q.type} question, not a multi-label one.`);
      if (!q.labels.includes(req.label)) throw new Error(`"${req.label}" is not a label of ${q.name}.`);
      const now = ownValue(record, q);
      const list = Array.isArray(now) ? now.filter((x): x is string => typeof x === 'string') : undefined;
      return decided(toggleLabel(list, req.label, q.labels), `Toggle ${req.label} (${q.name})`);
    }
    case 'moveCandidate': {
      if (q.type !== 'ranking') throw new Error(`${q.name} is a ${q.type} question, not a ranking.`);
      const items = rankingCandidates(record, q);
      if (!items) throw new Error(`This record has nothing for ${q.name} to rank.`);
      const ids = candidateIds(q, items.length);
      if (!ids.includes(req.candidate)) throw new Error(`"${req.candidate}" is not a candidate of ${q.name}.`);
      const ranks = ranksOf(ownValue(record, q));
      const value = ranks ? [...ranks].map(([value, rank]) => ({ value, rank })) : undefined;
      return decided(
        moveCandidate(value, req.candidate, req.by, ids),
        `Move ${req.candidate} ${req.by < 0 ? 'up' : 'down'} (${q.name})`,
      );
    }
    case 'addSpan': {
      if (q.type !== 'span') throw new Error(`${q.name} is a ${q.type} question, not a span one.`);
      if (!q.labels.includes(req.label)) throw new Error(`"${req.label}" is not a span label of ${q.name}.`);
      const text = spanFieldText(record, q.field);
      if (text === undefined) throw new Error(`This record has no text field "${q.field}" to mark.`);
      const span = spanFromSelection(text, req.start, req.end, req.label);
      if (!span) throw new Error('Select some text first: the selection is empty.');
      return decided(addSpan(spansOf(ownValue(record, q)), span), `Mark ${req.label} (${q.name})`);
    }
    case 'removeSpan': {
      if (q.type !== 'span') throw new Error(`${q.name} is a ${q.type} question, not a span one.`);
      // The person's spans as they are, even when one no longer fits its text (so it can go).
      const h = answersOf(record, q).human;
      const spans = h && h.status !== 'discarded' ? spansOf(h.value) : undefined;
      if (!spans || req.position >= spans.length) throw new Error(`${q.name} has no span ${req.position + 1}.`);
      const rest = removeSpan(spans, req.position);
      return decided(rest, `Remove span ${req.position + 1} (${q.name})`);
    }
  }
}

/**
 * Accept and reject of a declared question (the `accept` and `reject` annotation edits): a
 * suggestion of any type accepted as the person's answer (checked against the record as it is
 * now), or the question's suggestions rejected (kept, the decision discarded). Undefined when the
 * edit is not about a declared question: the single label's edits stay applyAnnotationEdit's.
 */
export function applyDeclaredReview(
  record: Rec,
  questions: readonly Question[],
  req: AnnotationEdit,
  when: When = {},
): { record: Rec; label: string } | undefined {
  if (req.op !== 'accept' && req.op !== 'reject') return undefined;
  const q = questions.find((x) => x.name === req.question);
  if (!q) return undefined;
  const after =
    req.op === 'accept' ? acceptAnswer(record, q, req.position, when) : rejectSuggestion(record, q.name, when);
  return {
    record: keepEveryDecision(record, after, undefined, q.name),
    label: `${req.op === 'accept' ? 'Accept' : 'Reject'} suggestion (${q.name})`,
  };
}

/** An answer as one short line of text (hovers, CodeLens): labels joined, a ranking best first, spans with their text. */
export function answerText(q: Question, v: unknown): string {
  // JSON.stringify, typed as it behaves: undefined for undefined, a function or a symbol.
  const stringify = (x: unknown): string | undefined => JSON.stringify(x);
  const json = (x: unknown): string => (typeof x === 'string' ? x : (stringify(x) ?? String(x)));
  switch (q.type) {
    case 'multi-label':
      return Array.isArray(v) ? (v.length ? v.map(json).join(', ') : '(no label)') : json(v);
    case 'ranking': {
      const ranks = ranksOf(v);
      return ranks
        ? [...ranks]
            .sort((a, b) => a[1] - b[1])
            .map(([id]) => id)
            .join(' > ')
        : json(v);
    }
    case 'span': {
      const spans = spansOf(v);
      if (!spans) return json(v);
      return spans.length
        ? spans.map((s) => `${s.label} "${s.text ?? ''}" ${s.start}-${s.end}`).join('; ')
        : '(no span)';
    }
    case 'text': {
      const t = json(v).replace(/\s+/g, ' ');
      return t.length > 80 ? `${t.slice(0, 79)}…` : t;
    }
    default:
      return json(v);
  }
}
