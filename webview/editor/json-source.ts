// The source text of every number in a record's line, by its path: a number that a double cannot
// hold (12345678901234567890, 0.1000000000000000055511151231257827) or written another way (1.0,
// 1e3) is shown as the file has it, not as JSON.parse turned it (12345678901234567000, 0.1, 1,
// 1000). A small scanner over the line; any surprise (the line is not the JSON the value came
// from) gives no sources, and the parsed values are shown as before.

/** The key of a path in the map: its parts joined by a separator no JSON key can hold unescaped. */
export function pathKey(path: readonly (string | number)[]): string {
  return path.map(String).join('\u0000');
}

/** Maps pathKey(path) to the number's literal, for every number in `raw`. Empty on any parse problem. */
export function numberSources(raw: string): Map<string, string> {
  const out = new Map<string, string>();
  let i = 0;
  const ws = () => {
    while (i < raw.length && (raw[i] === ' ' || raw[i] === '\t' || raw[i] === '\n' || raw[i] === '\r')) i++;
  };
  const fail = (): never => {
    throw new Error('not JSON');
  };
  const str = (): string => {
    if (raw[i] !== '"') fail();
    const start = i;
    i++;
    while (i < raw.length && raw[i] !== '"') i += raw[i] === '\\' ? 2 : 1;
    if (i >= raw.length) fail();
    i++;
    return JSON.parse(raw.slice(start, i)) as string;
  };
  const value = (path: (string | number)[], depth: number): void => {
    if (depth > 512) fail();
    ws();
    const ch = raw[i];
    if (ch === '{') {
      i++;
      ws();
      if (raw[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        ws();
        const k = str();
        ws();
        if (raw[i] !== ':') fail();
        i++;
        value([...path, k], depth + 1);
        ws();
        if (raw[i] === ',') {
          i++;
          continue;
        }
        if (raw[i] === '}') {
          i++;
          return;
        }
        fail();
      }
    }
    if (ch === '[') {
      i++;
      ws();
      if (raw[i] === ']') {
        i++;
        return;
      }
      for (let n = 0; ; n++) {
        value([...path, n], depth + 1);
        ws();
        if (raw[i] === ',') {
          i++;
          continue;
        }
        if (raw[i] === ']') {
          i++;
          return;
        }
        fail();
      }
    }
    if (ch === '"') {
      str();
      return;
    }
    const m = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(raw.slice(i, i + 400));
    if (m) {
      out.set(pathKey(path), m[0]);
      i += m[0].length;
      return;
    }
    for (const lit of ['true', 'false', 'null']) {
      if (raw.startsWith(lit, i)) {
        i += lit.length;
        return;
      }
    }
    fail();
  };
  try {
    value([], 0);
    return out;
  } catch {
    return new Map();
  }
}
