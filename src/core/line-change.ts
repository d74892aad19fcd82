// A line edit as the figures derived from a file's lines see it (the match indexes, the editor's
// label set): which line, and whether the lines after it moved. The store's edits have this shape.

export interface LineChange {
  type: 'replace' | 'insert' | 'delete';
  index: number;
}
