// The curation editor's annotation actions (relabel, accept, reject, review status, swapping a
// preference pair) as pure
// functions from a record to the new record, in the annotation layout of ./schema/annotation.
import type { EditRequest } from '../shared/protocol';
import { acceptSuggestion, rejectSuggestion, setReviewStatus, withHumanLabel } from './schema/annotation';
import { swapPreference } from './schema/preference';

type AnnotationEdit = Exclude<EditRequest, { op: 'setField' } | { op: 'replaceRaw' }>;

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
