// Label sources as people say them, shared by the agreement report (a late view) and the page.

/** A label source as people say it. */
export function sourceName(s: string): string {
  if (s === 'human') return 'Human decisions';
  if (s === 'suggestion') return 'Model suggestions';
  if (s === 'label') return 'Current labels';
  if (s.startsWith('field:')) return `Gold (${s.slice('field:'.length)})`;
  return s;
}
