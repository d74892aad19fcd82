// The one annotation-edit API: a person's decision (relabel, accept, reject, review status, swapping
// a preference pair) as a pure function from a record to the new record, in the annotation layout
// of ./schema/annotation. Callers that need field edits take diffFields(record, result).
import type { AnnotationEdit } from './session/views';
import {
  acceptSuggestion,
  diffFields,
  rejectSuggestion,
  setReviewStatus,
  withHumanLabel,
  type FieldEdit,
} from './schema/annotation';
import { swapPreference } from './schema/preference';
import { keepEveryDecision } from './git/decisions';

export type { AnnotationEdit } from './session/views';

export function applyAnnotationEdit(
  record: Record<string, unknown>,
  req: AnnotationEdit,
  now = new Date(),
  user?: string,
): Record<string, unknown> {
  // `user`: who decides (docs/git.md); a second person's decision is kept beside the first one's
  const when = { time: now.toISOString(), ...(user ? { user } : {}) };
  switch (req.op) {
    case 'relabel':
      return keepEveryDecision(record, withHumanLabel(record, req.label, when));
    case 'accept':
      return keepEveryDecision(
        record,
        acceptSuggestion(record, req.question, req.position, when),
        undefined,
        req.question,
      );
    case 'reject':
      return keepEveryDecision(record, rejectSuggestion(record, req.question, when), undefined, req.question);
    case 'setReviewStatus':
      return setReviewStatus(record, req.status);
    case 'swapPreference':
      return swapPreference(record, { time: now.toISOString() });
  }
}

/** The same edit as top-level field edits (for a store's setFields: only those fields' bytes change). */
export function annotationFieldEdits(
  record: Record<string, unknown>,
  req: AnnotationEdit,
  now = new Date(),
): FieldEdit[] {
  return diffFields(record, applyAnnotationEdit(record, req, now));
}

/** The undo stack's name for an annotation edit. */
export function annotationEditLabel(req: AnnotationEdit): string {
  switch (req.op) {
    case 'relabel':
      return `Relabel as ${req.label}`;
    case 'accept':
      return 'Accept suggestion';
    case 'reject':
      return 'Reject suggestion';
    case 'setReviewStatus':
      return `Mark ${req.status}`;
    case 'swapPreference':
      return 'Swap chosen and rejected';
  }
}
