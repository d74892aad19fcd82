// The keyboard map: one table of actions binds the keys (app.ts runs an action by its id) and is
// what the help overlay shows. An action's one-character key can be rebound or turned off by the
// `datasetCurator.editor.keys` setting (WCAG 2.1.4); its other keys (arrows, Home, End, Enter)
// stay. The ids with a key are the setting's (package.json lists them; a unit test compares).

export type ActionId =
  | 'help'
  | 'search'
  | 'goto'
  | 'toggleList'
  | 'onlyMatches'
  | 'toggleStats'
  | 'toggleAgreement'
  | 'toggleDuplicates'
  | 'next'
  | 'previous'
  | 'nextInView'
  | 'previousInView'
  | 'first'
  | 'last'
  | 'pageDown'
  | 'pageUp'
  | 'openRow'
  | 'back'
  | 'nextUnreviewed'
  | 'nextInvalid'
  | 'queueNext'
  | 'queuePrevious'
  | `relabel${1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9}`
  | 'accept'
  | 'reject'
  | 'swap'
  | 'editRaw'
  | 'nextQuestion'
  | 'previousQuestion'
  | 'moveUp'
  | 'moveDown';

export interface KeyAction {
  id: ActionId;
  /** The one-character key (rebindable, can be turned off). */
  key?: string;
  /** Keys that are not characters (not rebound). */
  fixed?: string[];
  group: string;
  /** For the help; actions with the same `what` share a row (1 … 9). Without: not listed. */
  what?: string;
}

const relabels = ([1, 2, 3, 4, 5, 6, 7, 8, 9] as const).map((n): KeyAction => ({
  id: `relabel${n}`,
  key: String(n),
  group: 'Curate',
  what: 'Relabel with the n-th label',
}));

export const KEY_ACTIONS: readonly KeyAction[] = [
  { id: 'next', key: 'j', fixed: ['↓'], group: 'Navigate', what: 'Next record (list: next row)' },
  { id: 'previous', key: 'k', fixed: ['↑'], group: 'Navigate', what: 'Previous record (list: previous row)' },
  { id: 'nextInView', fixed: ['→'], group: 'Navigate' },
  { id: 'previousInView', fixed: ['←'], group: 'Navigate' },
  { id: 'first', fixed: ['Home'], group: 'Navigate', what: 'First / last record' },
  { id: 'last', fixed: ['End'], group: 'Navigate', what: 'First / last record' },
  { id: 'pageDown', fixed: ['PageDown'], group: 'Navigate' },
  { id: 'pageUp', fixed: ['PageUp'], group: 'Navigate' },
  { id: 'openRow', fixed: ['Enter'], group: 'Navigate' },
  { id: 'back', fixed: ['Escape'], group: 'Navigate' },
  { id: 'goto', key: 'g', group: 'Navigate', what: 'Go to line…' },
  { id: 'nextUnreviewed', key: 'n', group: 'Navigate', what: 'Next unreviewed (pending) record' },
  { id: 'nextInvalid', key: 'i', group: 'Navigate', what: 'Next invalid line' },
  { id: 'toggleList', key: 'l', group: 'Navigate', what: 'Toggle list mode (Enter opens the selected row)' },
  { id: 'onlyMatches', key: 'm', group: 'Navigate', what: 'List only the matches of the search (again: every record)' },
  { id: 'toggleStats', key: 's', group: 'Navigate', what: 'Toggle statistics' },
  { id: 'toggleAgreement', key: 'c', group: 'Navigate', what: 'Toggle the agreement report (live as you relabel)' },
  { id: 'toggleDuplicates', key: 'd', group: 'Navigate', what: 'Toggle duplicate clusters' },
  { id: 'queueNext', key: 'q', group: 'Review queue', what: 'Next record in the review queue' },
  { id: 'queuePrevious', key: 'Q', group: 'Review queue', what: 'Previous record in the review queue' },
  ...relabels,
  { id: 'accept', key: 'a', group: 'Curate', what: "Accept the model's suggestion" },
  { id: 'reject', key: 'r', group: 'Curate', what: "Reject the model's suggestion" },
  { id: 'swap', key: 'x', group: 'Curate', what: 'Swap chosen and rejected (preference pairs)' },
  { id: 'editRaw', key: 'e', group: 'Curate', what: 'Edit the raw JSON line' },
  { id: 'nextQuestion', key: ']', group: 'Questions', what: 'Focus the next question (declared questions)' },
  { id: 'previousQuestion', key: '[', group: 'Questions', what: 'Focus the previous question' },
  { id: 'moveUp', key: 'u', group: 'Questions', what: 'Ranking: move the selected candidate up (better)' },
  { id: 'moveDown', key: 'b', group: 'Questions', what: 'Ranking: move the selected candidate down (worse)' },
  { id: 'search', key: '/', group: 'Search', what: 'Focus the search bar' },
  { id: 'help', key: '?', group: 'Help', what: 'Show this help' },
];

/** Rows of the help that are not actions of the key map (handled by the search bar, VS Code, a click). */
const NOTES: { group: string; keys: string[] | ((k: KeyMap) => string[]); what: string }[] = [
  {
    group: 'Review queue',
    keys: (k) => [...k.keysOf(...relabels.map((r) => r.id)), ...k.keysOf('accept', 'reject')],
    what: 'Reviewing a queued record takes it out and moves to the next',
  },
  { group: 'Curate', keys: ['Click'], what: 'Edit a field in place (Enter saves, Escape cancels)' },
  {
    group: 'Questions',
    keys: (k) => k.keysOf(...relabels.map((r) => r.id)),
    what: 'On the focused question: pick the n-th label, toggle it (multi-label), rate n, select the n-th candidate (ranking), mark the selected text with the n-th span label',
  },
  {
    group: 'Questions',
    keys: (k) => k.keysOf('accept', 'reject'),
    what: "On the focused question: accept the top model suggestion / reject the models' suggestions",
  },
  { group: 'Questions', keys: ['Esc'], what: 'Leave a text answer (saved when you leave it)' },
  { group: 'Curate', keys: ['Ctrl+Z'], what: 'Undo (VS Code)' },
  { group: 'Search', keys: ['Enter', 'F3'], what: 'Next match' },
  { group: 'Search', keys: ['Shift+Enter', 'Shift+F3'], what: 'Previous match' },
  { group: 'Search', keys: ['Esc'], what: 'Leave the search bar / close a dialog' },
];

/** The keys a DOM KeyboardEvent.key names for the fixed keys' labels. */
const FIXED_KEYS: Record<string, string> = { '↓': 'ArrowDown', '↑': 'ArrowUp', '→': 'ArrowRight', '←': 'ArrowLeft' };

/** The ids the setting may rebind (those with a one-character key). */
export const REBINDABLE: readonly ActionId[] = KEY_ACTIONS.filter((a) => a.key !== undefined).map((a) => a.id);

export interface KeyMap {
  /** The action a key press runs (KeyboardEvent.key), if any. */
  action(key: string): ActionId | undefined;
  /** The keys of actions, for labels and the help (one-character keys first). */
  keysOf(...ids: ActionId[]): string[];
  /** The setting's entries that were not used, with why. */
  problems: string[];
}

/**
 * The key map with the setting's overrides: an action to its new one-character key, or "" to turn
 * its key off. A key taken by an override leaves the action that had it by default.
 */
export function keyMap(overrides: Readonly<Record<string, string>> = {}): KeyMap {
  const problems: string[] = [];
  const key = new Map<ActionId, string | undefined>(KEY_ACTIONS.map((a) => [a.id, a.key]));
  const taken = new Set<string>();
  for (const [id, k] of Object.entries(overrides)) {
    if (!(REBINDABLE as readonly string[]).includes(id)) problems.push(`"${id}" is not an action with a key`);
    // one code point, as a KeyboardEvent's key for one character (an astral symbol counts once)
    else if (k !== '' && Array.from(k).length !== 1)
      problems.push(`"${id}": "${k}" is not one character (or "" to turn the key off)`);
    else {
      key.set(id as ActionId, k === '' ? undefined : k);
      if (k !== '') taken.add(k);
    }
  }
  for (const a of KEY_ACTIONS)
    if (a.key !== undefined && !(a.id in overrides) && taken.has(a.key)) key.set(a.id, undefined);
  const byKey = new Map<string, ActionId>();
  for (const a of KEY_ACTIONS) {
    const k = key.get(a.id);
    if (k !== undefined) byKey.set(k, a.id);
    for (const f of a.fixed ?? []) byKey.set(FIXED_KEYS[f] ?? f, a.id);
  }
  return {
    action: (k) => byKey.get(k),
    keysOf: (...ids) =>
      ids
        .flatMap((id) => [key.get(id), ...(KEY_ACTIONS.find((a) => a.id === id)?.fixed ?? [])])
        .filter((k): k is string => k !== undefined),
    problems,
  };
}

export interface HelpRow {
  keys: string[];
  what: string;
}

/** The help overlay's rows, by group, with the keys in effect (an action whose key is off: none). */
export function helpRows(k: KeyMap): { group: string; items: HelpRow[] }[] {
  const groups: { group: string; items: HelpRow[] }[] = [];
  const groupOf = (name: string) => {
    let g = groups.find((x) => x.group === name);
    if (!g) groups.push((g = { group: name, items: [] }));
    return g;
  };
  for (const a of KEY_ACTIONS) {
    if (!a.what) continue;
    const g = groupOf(a.group);
    const row = g.items.find((r) => r.what === a.what);
    if (row) row.keys.push(...k.keysOf(a.id));
    else g.items.push({ keys: k.keysOf(a.id), what: a.what });
  }
  for (const n of NOTES)
    groupOf(n.group).items.push({ keys: typeof n.keys === 'function' ? n.keys(k) : n.keys, what: n.what });
  for (const g of groups) for (const r of g.items) r.keys = shorten(r.keys);
  return groups.filter((g) => g.group !== 'Help').concat(groups.filter((g) => g.group === 'Help'));
}

/** Runs of consecutive digits as "1 … 9"; a capital letter as Shift+letter. */
function shorten(keys: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < keys.length; i++) {
    let j = i;
    while (/^\d$/.test(keys[i]!) && j + 1 < keys.length && keys[j + 1] === String(Number(keys[j]) + 1)) j++;
    if (j - i >= 2) {
      out.push(keys[i]!, '…', keys[j]!);
      i = j;
    } else out.push(/^[A-Z]$/.test(keys[i]!) ? `Shift+${keys[i]}` : keys[i]!);
  }
  return out;
}
