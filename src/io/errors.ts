// The one error type for a user's mistake. It carries where the mistake is (file and place: a JSON
// path, a CSV row and column, a tensor name, a flag), what was expected and what was found, and
// renders as one paragraph. The CLI turns it into exit status 2; anything else is our bug.

export class UserError extends Error {
  constructor(
    /** The file (or "command line", or the --exec command) the mistake is in. */
    readonly file: string,
    /** Where in it: "layers[2].activation", "row 17, column 3 (x2)", "tensor W2", "--epsilon"… */
    readonly place: string,
    readonly expected: string,
    readonly found: string,
    /** An optional sentence on what to do about it. */
    readonly hint?: string,
  ) {
    super(formatUserError(file, place, expected, found, hint));
    this.name = 'UserError';
  }
}

function formatUserError(file: string, place: string, expected: string, found: string, hint?: string): string {
  const where = place ? `${file}, ${place}` : file;
  return `${where}: expected ${expected}; found ${found}.${hint ? ' ' + hint : ''}`;
}

/** A short, quoted rendering of any JSON-ish value for error messages. */
export function show(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? value.slice(0, 57) + '...' : value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return `a list of ${value.length}`;
  if (typeof value === 'object') return 'an object';
  return typeof value;
}

const CONTROL: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * User text quoted in a message, on one line and of bounded length: control characters escaped as
 * JSON writes them (a newline would split the one-line message), and past `max` characters the
 * first `max` and the length ("… (10,000,000 characters)"), so that a 10 MB key is not echoed whole.
 */
export function clip(text: string, max = 60): string {
  const escape = (t: string) => t.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, (c) => CONTROL[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (text.length <= max) return escape(text);
  return `${escape(text.slice(0, max))}… (${text.length.toLocaleString('en-US')} characters)`;
}

/** A JSON path like layers[2].activation from path segments. */
export function jsonPath(segments: readonly (string | number)[]): string {
  let out = '';
  for (const s of segments) {
    if (typeof s === 'number' || /^\d+$/.test(s)) out += `[${clip(String(s))}]`;
    else out += out === '' ? clip(s) : `.${clip(s)}`;
  }
  return out === '' ? 'the top level' : out;
}
