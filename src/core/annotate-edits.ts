// The one annotation-edit API: a person's decision (relabel, accept, reject, review status, swapping
// a preference pair) as a pure function from a record to the new record, in the annotation layout
// of ./schema/annotation. Callers that need field edits take diffFields(record, result).
import type { AnnotationEdit } from './session/views';
import { acceptSuggestion, diffFields, rejectSuggestion, setReviewStatus, withHumanLabel, type FieldEdit } from './schema/annotation';
import { swapPreference } from './schema/preference';

export type { AnnotationEdit } from './session/views';

export function applyAnnotationEdit(record: Record<string, unknown>, req: AnnotationEdit, now = new Date()): Record<string, unknown> {
  switch (req.op) {
    case 'relabel':
      return withHumanLabel(record, req.label, { time: now.toISOString() });
    case 'accept':
      return acceptSuggestion(record, req.question, req.position, { time: now.toISOString() });
    case 'reject':
      return rejectSuggestion(record, req.question, { time: now.toISOString() });
    case 'setReviewStatus':
      return setReviewStatus(record, req.status);
    case 'swapPreference':
      return swapPreference(record, { time: now.toISOString() });
  }
}

/** The same edit as top-level field edits (for a store's setFields: only those fields' bytes change). */
export function annotationFieldEdits(record: Record<string, unknown>, req: AnnotationEdit, now = new Date()): FieldEdit[] {
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
