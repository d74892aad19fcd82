// The keyboard map: one table drives both the key handler's documentation and the help overlay.

export interface KeyHelp {
  keys: string[];
  what: string;
}

export const KEY_HELP: { group: string; items: KeyHelp[] }[] = [
  {
    group: 'Navigate',
    items: [
      { keys: ['j', '↓'], what: 'Next record (list: next row)' },
      { keys: ['k', '↑'], what: 'Previous record (list: previous row)' },
      { keys: ['Home', 'End'], what: 'First / last record' },
      { keys: ['g'], what: 'Go to line…' },
      { keys: ['n'], what: 'Next unreviewed (pending) record' },
      { keys: ['i'], what: 'Next invalid line' },
      { keys: ['l'], what: 'Toggle list mode (Enter opens the selected row)' },
      { keys: ['m'], what: 'List only the matches of the search (again: every record)' },
      { keys: ['s'], what: 'Toggle statistics' },
      { keys: ['c'], what: 'Toggle the agreement report (live as you relabel)' },
      { keys: ['d'], what: 'Toggle duplicate clusters' },
    ],
  },
  {
    group: 'Review queue',
    items: [
      { keys: ['q'], what: 'Next record in the review queue' },
      { keys: ['Shift+Q'], what: 'Previous record in the review queue' },
      { keys: ['1', '…', '9', 'a', 'r'], what: 'Reviewing a queued record takes it out and moves to the next' },
    ],
  },
  {
    group: 'Curate',
    items: [
      { keys: ['1', '…', '9'], what: 'Relabel with the n-th label' },
      { keys: ['a'], what: "Accept the model's suggestion" },
      { keys: ['r'], what: "Reject the model's suggestion" },
      { keys: ['x'], what: 'Swap chosen and rejected (preference pairs)' },
      { keys: ['e'], what: 'Edit the raw JSON line' },
      { keys: ['Click'], what: 'Edit a field in place (Enter saves, Escape cancels)' },
      { keys: ['Ctrl+Z'], what: 'Undo (VS Code)' },
    ],
  },
  {
    group: 'Search',
    items: [
      { keys: ['/'], what: 'Focus the search bar' },
      { keys: ['Enter', 'F3'], what: 'Next match' },
      { keys: ['Shift+Enter', 'Shift+F3'], what: 'Previous match' },
      { keys: ['Esc'], what: 'Leave the search bar / close a dialog' },
    ],
  },
  { group: 'Help', items: [{ keys: ['?'], what: 'Show this help' }] },
];
