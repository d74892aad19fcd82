// JSON.stringify as it behaves at run time: undefined for undefined, a function or a symbol (and a
// replacer that drops the value), where the lib's type says string. For callers that turn any
// value into text and must handle that case.

export function jsonText(value: unknown, replacer?: (key: string, value: unknown) => unknown): string | undefined {
  return JSON.stringify(value, replacer);
}
