// Strict JSON for user files. JSON.parse accepts duplicate keys (the last one silently wins, so a
// second "layers" replaces the first) and words its syntax errors differently in every Node
// version. This scanner walks the text once first: the first syntax error or duplicate key becomes
// a UserError with a line and column and a description of our own; only then does JSON.parse build
// the value.
import { clip, jsonPath, UserError } from './errors.js';

/** Deeper nesting than this is refused (no user file needs it, and it would exhaust the stack). */
const MAX_DEPTH = 512;

export function parseJsonText(text: string, file: string, what: string): unknown {
  if (text.trim() === '') throw new UserError(file, '', what, 'an empty file');
  new Scanner(text, file, what).document();
  return JSON.parse(text);
}

class Scanner {
  private pos = 0;

  constructor(private readonly text: string, private readonly file: string, private readonly what: string) {}

  document(): void {
    this.value([], 0);
    this.space();
    if (this.pos < this.text.length) this.fail(`${this.here()} after the end of the JSON value`);
  }

  private value(path: (string | number)[], depth: number): void {
    if (depth > MAX_DEPTH) this.fail(`lists or objects nested more than ${MAX_DEPTH} deep`);
    this.space();
    const ch = this.text[this.pos];
    if (ch === '{') return this.object(path, depth);
    if (ch === '[') return this.array(path, depth);
    if (ch === '"') { this.string(); return; }
    if (ch === '-' || (ch >= '0' && ch <= '9')) return this.number(path);
    const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(this.text.slice(this.pos, this.pos + 40))?.[0];
    if (word === 'true' || word === 'false' || word === 'null') {
      this.pos += word.length;
      return;
    }
    if (word === 'NaN' || word === 'Infinity') {
      this.fail(`${word}, which JSON cannot hold (Python's json.dump writes it for a non-finite value)`);
    }
    this.fail(`${word !== undefined ? `the word "${word}"` : this.here()} where a value was expected`);
  }

  private object(path: (string | number)[], depth: number): void {
    this.pos++;
    const seen = new Set<string>();
    this.space();
    if (this.text[this.pos] === '}') { this.pos++; return; }
    for (;;) {
      this.space();
      if (this.text[this.pos] !== '"') {
        const trailing = this.text[this.pos] === '}' ? ' (a trailing comma?)' : '';
        this.fail(`${this.here()} where a property name in double quotes was expected${trailing}`);
      }
      const at = this.pos;
      const key = JSON.parse(this.text.slice(at, this.string())) as string;
      if (seen.has(key)) {
        const { line, column } = this.lineColumn(at);
        throw new UserError(this.file, jsonPath([...path, key]), 'each property at most once',
          `"${clip(key)}" a second time (line ${line}, column ${column}), where JSON.parse would silently keep only the last one`);
      }
      seen.add(key);
      this.space();
      if (this.text[this.pos] !== ':') this.fail(`${this.here()} where ":" was expected after "${clip(key)}"`);
      this.pos++;
      this.value([...path, key], depth + 1);
      this.space();
      const next = this.text[this.pos];
      this.pos++;
      if (next === '}') return;
      if (next !== ',') { this.pos--; this.fail(`${this.here()} where "," or "}" was expected${this.missingComma()}`); }
    }
  }

  private array(path: (string | number)[], depth: number): void {
    this.pos++;
    this.space();
    if (this.text[this.pos] === ']') { this.pos++; return; }
    for (let i = 0; ; i++) {
      this.space();
      if (this.text[this.pos] === ']') this.fail('"]" where a value was expected (a trailing comma?)');
      this.value([...path, i], depth + 1);
      this.space();
      const next = this.text[this.pos];
      this.pos++;
      if (next === ']') return;
      if (next !== ',') { this.pos--; this.fail(`${this.here()} where "," or "]" was expected${this.missingComma()}`); }
    }
  }

  /** Scans a string starting at the opening quote; returns the position after the closing one. */
  private string(): number {
    const start = this.pos;
    this.pos++;
    for (;;) {
      if (this.pos >= this.text.length) {
        this.pos = start;
        this.fail('a string that is never closed (a missing ")');
      }
      const code = this.text.charCodeAt(this.pos);
      if (code === 0x22) { this.pos++; return this.pos; }
      if (code < 0x20) this.fail(code === 0x0a || code === 0x0d ? 'a line break inside a string (a missing closing quote?)' : 'a control character inside a string');
      if (code === 0x5c) {
        const esc = this.text[this.pos + 1];
        if (esc === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(this.text.slice(this.pos + 2, this.pos + 6))) this.fail('a \\u escape without four hex digits');
          this.pos += 6;
          continue;
        }
        if (esc === undefined || !'"\\/bfnrt'.includes(esc)) this.fail(`an unknown escape "\\${esc ?? ''}" in a string`);
        this.pos += 2;
        continue;
      }
      this.pos++;
    }
  }

  private number(path: (string | number)[]): void {
    const re = /-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
    re.lastIndex = this.pos;
    const m = re.exec(this.text);
    const token = /^[-+.\w]+/.exec(this.text.slice(this.pos, this.pos + 40))?.[0] ?? this.text[this.pos];
    if (!m || (m[0].length < token.length && /[\w.]/.test(this.text[this.pos + m[0].length]))) {
      this.fail(`the malformed number "${clip(token)}"`);
    }
    // JSON.parse reads a literal beyond float64's range (1e400) as ±Infinity, without a word.
    if (!Number.isFinite(Number(m[0]))) {
      const { line, column } = this.lineColumn(this.pos);
      throw new UserError(this.file, jsonPath(path), 'a number within float64\'s range (magnitude below 1.8e308)',
        `${clip(m[0])} (line ${line}, column ${column}), which would be read as ${m[0].startsWith('-') ? '-' : ''}Infinity`);
    }
    this.pos += m[0].length;
  }

  private space(): void {
    while (this.pos < this.text.length && ' \t\n\r'.includes(this.text[this.pos])) this.pos++;
  }

  /** What is at the current position, for a message. */
  private here(): string {
    if (this.pos >= this.text.length) return 'the end of the text';
    if (this.text[this.pos] === '"') return 'a string';
    return JSON.stringify(String.fromCodePoint(this.text.codePointAt(this.pos)!));
  }

  /** A value where a separator belongs: most likely a forgotten comma. */
  private missingComma(): string {
    return this.pos < this.text.length && /["{[\-0-9tfn]/.test(this.text[this.pos]) ? ' (a missing comma?)' : '';
  }

  private lineColumn(pos: number): { line: number; column: number } {
    const before = this.text.slice(0, pos).split('\n');
    return { line: before.length, column: before[before.length - 1].length + 1 };
  }

  private fail(found: string): never {
    const { line, column } = this.lineColumn(this.pos);
    throw new UserError(this.file, `line ${line}, column ${column}`, `${this.what} in valid JSON`, found);
  }
}
