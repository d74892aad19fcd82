// JSON validation with a readable message and the error's line and column.

export interface JsonProblem {
  message: string;
  /** 0-based offset into the text, when the parser told us. */
  offset?: number;
  line?: number;
  column?: number;
}

export type JsonCheck = { ok: true; value: unknown } | { ok: false; problem: JsonProblem };

export function checkJson(text: string): JsonCheck {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (err) {
    const raw = err instanceof Error ? err.message : String(err);
    // V8: `... in JSON at position 12 (line 1 column 13)`; strip our own copy of the location.
    const message = raw.replace(/\s*\(line \d+ column \d+\)\s*$/, '').replace(/ in JSON at position \d+$/, '');
    const m = /at position (\d+)/.exec(raw);
    let offset = m ? Number(m[1]) : undefined;
    if (offset === undefined && /Unexpected end of JSON input/i.test(raw)) offset = text.length;
    if (offset === undefined) return { ok: false, problem: { message } };
    const before = text.slice(0, offset);
    const line = before.split('\n').length;
    const column = offset - (before.lastIndexOf('\n') + 1) + 1;
    return { ok: false, problem: { message, offset, line, column } };
  }
}

export function describeProblem(p: JsonProblem): string {
  return p.line !== undefined ? `${p.message} (line ${p.line}, column ${p.column})` : p.message;
}
