// The human review queue in the toolbar: how many records wait (the host keeps the count live),
// whether the record on screen is one of them, and a click (or q / Shift+Q) to step through them.
// Records get there with "Send Low-Confidence Records to Review…"; reviewing one (relabel, accept,
// reject) takes it out, and the editor moves on to the next.
import type { AnnotationView, QueuePayload } from '../../src/shared/protocol';
import { el, formatCount, icon } from './dom';
import type { HostConnection } from './rpc';

/** Whether a record waits in a review queue: sent there, not reviewed yet (as the core's inReviewQueue). */
export function isQueued(a: AnnotationView | undefined): boolean {
  return a?.reviewQueue !== undefined && (a.reviewStatus ?? 'pending') === 'pending';
}

export class ReviewQueueBar {
  private readonly count = el('span', { 'data-testid': 'queue-count' });
  private readonly button = el(
    'button',
    {
      type: 'button',
      class: 'icon-button queue-button',
      'data-testid': 'queue-button',
      title: 'Next record in the review queue (q; Shift+Q: previous)',
      hidden: '',
    },
    icon('inbox'),
    ' ',
    this.count,
  );
  private readonly here = el(
    'span',
    { class: 'chip chip-status status-pending', 'data-testid': 'queue-current', hidden: '' },
    icon('inbox'),
    ' in review queue',
  );
  readonly element = el('span', { class: 'queue-bar' }, this.button, this.here);
  private last: QueuePayload | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private seq = 0;

  constructor(
    private readonly host: HostConnection,
    next: () => void,
  ) {
    this.button.addEventListener('click', next);
  }

  /** Records waiting (as last counted). */
  get total(): number {
    return this.last?.total ?? 0;
  }

  setCurrent(a: AnnotationView | undefined): void {
    this.here.hidden = !isQueued(a);
    if (a?.reviewQueue)
      this.here.title = `Sent to the review queue "${a.reviewQueue}"; relabel, accept or reject it to take it out`;
  }

  /**
   * Counts again (after a short pause, so a burst of edits asks once). `use`: the queue is being
   * used (q, the facet), so count it even in a big file; otherwise a big file not counted yet is
   * left alone (once counted, the host keeps the count up to date cheaply).
   */
  refresh(delay = 150, use = false): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.load(use || this.last?.counted === true), delay);
  }

  private async load(count: boolean): Promise<void> {
    const seq = ++this.seq;
    try {
      const q = await this.host.request('getQueue', { ifCheap: !count });
      if (seq !== this.seq) return;
      this.last = q;
      this.button.hidden = q.total === 0;
      this.count.textContent = `${formatCount(q.total)} to review`;
      this.button.setAttribute(
        'aria-label',
        `${q.total} record(s) in the review queue${q.queues.length ? ` (${q.queues.map((x) => `${x.queue}: ${x.count}`).join(', ')})` : ''}; next (q)`,
      );
    } catch {
      // The count is a convenience; the document's errors show elsewhere.
    }
  }
}
