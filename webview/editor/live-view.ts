// A view whose content the host recomputes when the document changes (the agreement report, the
// duplicate clusters): marked stale on every change and, when it is on screen, reloaded after a
// short pause, so a burst of edits (a relabel, an undo, a job's results) asks the host once.
export abstract class LiveView {
  protected stale = true;
  private timer: ReturnType<typeof setTimeout> | undefined;

  abstract load(force?: boolean): Promise<void>;

  /** The document changed. */
  invalidate(visible: boolean): void {
    this.stale = true;
    if (!visible) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.load(), 120);
  }
}
