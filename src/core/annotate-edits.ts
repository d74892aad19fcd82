// The curation editor's annotation actions (relabel, accept, reject, review status, swapping a
// preference pair) as pure
// functions from a record to the new record, in the annotation layout of ./schema/annotation.
import type { EditRequest } from '../shared/protocol';
import { acceptSuggestion, rejectSuggestion, setReviewStatus, withHumanLabel } from './schema/annotation';
import { swapPreference } from './schema/preference';
import { keepEveryDecision } from './git/decisions';

type AnnotationEdit = Exclude<EditRequest, { op: 'setField' } | { op: 'replaceRaw' }>;

export function applyAnnotationEdit(record: Record<string, unknown>, req: AnnotationEdit, now = new Date(), user?: string): Record<string, unknown> {
  // `user`: who decides (docs/git.md); a second person's decision is kept beside the first one's
  const when = { time: now.toISOString(), ...(user ? { user } : {}) };
  switch (req.op) {
    case 'relabel':
      return keepEveryDecision(record, withHumanLabel(record, req.label, when));
    case 'accept':
      return keepEveryDecision(record, acceptSuggestion(record, req.question, req.position, when), undefined, req.question);
    case 'reject':
      return keepEveryDecision(record, rejectSuggestion(record, req.question, when), undefined, req.question);
    case 'setReviewStatus':
      return setReviewStatus(record, req.status);
    case 'swapPreference':
      return swapPreference(record, { time: now.toISOString() });
  }
}
