// data.csv → X (features × samples) and Y (outputs × samples), through csv-parse (or, for plain
// numeric text, JSON.parse of each line, which reads the same numbers ~5× faster). A header is
// detected when any field of the first row is not a number. Targets are the last columns unless --target
// names them; how many depends on the loss (see docs/formats.md, "data.csv").
import { createRequire } from 'node:module';
import type { Model } from '../core/model.js';
import type { Tensor } from '../core/tensor.js';
import { clip, UserError } from './errors.js';
import { readText } from './spec.js';

/** Files larger than this are refused before they are read (BACKPROP_CHECK_MAX_CSV_BYTES overrides it). */
export const MAX_CSV_BYTES = 256 * 1024 * 1024;

/** The size limit in force: the environment's BACKPROP_CHECK_MAX_CSV_BYTES when it is a whole number. */
export function maxCsvBytes(env: NodeJS.ProcessEnv = process.env): number {
  const v = env.BACKPROP_CHECK_MAX_CSV_BYTES;
  return v !== undefined && /^\d+$/.test(v.trim()) ? Number(v) : MAX_CSV_BYTES;
}

/** More columns than this are refused before the text is parsed (784 is MNIST; each column is an input of the first layer). */
export const MAX_CSV_COLUMNS = 100_000;
/** More fields (rows × columns) than this are refused before the text is parsed: 400 MB as float64, more as parsed rows. */
export const MAX_CSV_CELLS = 50_000_000;

/**
 * Counts the first line's fields and the lines, without parsing: a 100 MB line of "0," would
 * otherwise be parsed into 5e7 numbers (seconds and gigabytes) before its width is refused. The
 * count stops as soon as it is over the limit. (Commas inside quotes count here too: an
 * overestimate only for files that quote their numbers, and only at this size.)
 */
function refuseTooManyCells(text: string, file: string): void {
  let start = 0;
  while (start < text.length && /[\s]/.test(text[start])) start++;
  let end = text.indexOf('\n', start);
  if (end < 0) end = text.length;
  let columns = 1;
  for (let at = text.indexOf(',', start); at >= 0 && at < end; at = text.indexOf(',', at + 1)) {
    if (++columns > MAX_CSV_COLUMNS) {
      throw new UserError(file, 'row 1', `at most ${MAX_CSV_COLUMNS.toLocaleString('en-US')} columns (features and targets)`, `more than that in a line of ${(end - start).toLocaleString('en-US')} characters`,
        'Check on fewer features: a few hundred columns find the same bugs.');
    }
  }
  const maxLines = Math.floor(MAX_CSV_CELLS / columns);
  let lines = 1;
  for (let at = text.indexOf('\n'); at >= 0; at = text.indexOf('\n', at + 1)) {
    if (++lines > maxLines) {
      throw new UserError(file, '', `at most ${MAX_CSV_CELLS.toLocaleString('en-US')} fields (rows × columns)`, `more than ${maxLines.toLocaleString('en-US')} lines of ${columns.toLocaleString('en-US')} columns`,
        'Check a random subset of the rows instead: gradients of a few hundred samples find the same bugs.');
    }
  }
}

// csv-parse reads what plainTable does not (quotes, comments, CRLF, ragged rows, numbers JSON cannot
// spell); it is loaded then and only then, as mathjs is (core/formula.ts), and left out of the
// command-line bundle.
function csvParse(text: string): CsvRecord[] {
  const { parse } = createRequire(import.meta.url)('csv-parse/sync') as typeof import('csv-parse/sync');
  return parse(text, CSV_OPTIONS) as unknown as CsvRecord[];
}

const bytes = (n: number) => (n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(0)} MiB` : `${n} bytes`);

/** How data.csv is read: blank lines and '#' comments skipped, fields trimmed, every row as wide as the first. */
export const CSV_OPTIONS = { info: true, skip_empty_lines: true, trim: true, relax_column_count: false, comment: '#' } as const;

/** One row of data.csv with the 1-based line it is on, as csv-parse's `info: true` gives it (other info omitted). */
export interface CsvRecord {
  record: string[];
  info: { lines: number };
}

/** data.csv read: the header's names (null without a header), the rows of numbers and the line each is on. */
export interface Table {
  header: string[] | null;
  /** Every column, the dropped ones (--ignore-columns) holding NaN where they are not numbers. */
  rows: number[][];
  lines: number[];
  /** 0-based columns that --ignore-columns drops, ascending (absent when it drops none). */
  ignored?: number[];
}

/** What the first row and --ignore-columns decide: whether that row is a header, and which columns are dropped. */
export interface Layout {
  header: boolean;
  ignored: number[];
}

/** Without --ignore-columns: a header when any field of the first row is not a number. */
const plainLayout = (first: string[]): Layout => ({ header: first.some((f) => !isNumber(f)), ignored: [] });

// Outside the plain dialect: a quote, a comment, a CR (CRLF or old Mac line ends), VT (which
// csv-parse trims on the right only), FF, or any non-ASCII character (a BOM, Unicode spaces).
const NOT_PLAIN = /[^\x00-\x7f]|["#\r\f\v]/;

/**
 * The table csvTable reads from `text`, found without csv-parse, or null when the text is outside the
 * plain dialect: NOT_PLAIN, a row that is not a list of finite JSON numbers, or a row wider or
 * narrower than the first. csvTable then reads it and words any error. Each row is one
 * JSON.parse("[" + line + "]"): ~15 ms for the 1 MB, 784-column bench file where csv-parse took ~190.
 *
 * Why the two agree (csv-parse 6, lib/api/index.js): with no quote and no comment every '\n' ends a
 * record and every ',' ends a field. A field loses leading space, tab, CR, LF and FF and trailing
 * JavaScript whitespace, which without CR, FF, VT or non-ASCII is spaces and tabs on both sides, the
 * whitespace JSON allows around a number. A line of only spaces and tabs is empty to csv-parse too.
 * A JSON number (-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?) is a number to isNumber, and JSON.parse and
 * Number() read it to the same double (both round correctly). Lines are numbered from 1, blank ones
 * included, as csv-parse's info.lines counts them.
 */
export function plainTable(text: string, layout: (first: string[]) => Layout = plainLayout): Table | null {
  if (NOT_PLAIN.test(text)) return null;
  const lines = text.split('\n');
  let header: string[] | null = null;
  let ignored: number[] = [];
  let width = -1;
  const rows: number[][] = [], at: number[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === '') continue;
    if (width === -1) {
      const first = line.split(',').map((f) => f.trim());
      const decided = layout(first);
      ignored = decided.ignored;
      if (decided.header) {
        header = first;
        width = header.length;
        continue;
      }
    }
    // Not JSON numbers: numbers JSON cannot spell (+1, .5, 5.), which csvTable reads, or text in a
    // dropped column, read here as csvTable reads it.
    const row = jsonNumbers(line) ?? (ignored.length > 0 ? withDropped(line, ignored) : null);
    if (row === null) return null;
    if (width === -1) width = row.length;
    if (row.length !== width) return null;
    rows.push(row);
    at.push(i + 1);
  }
  return rows.length === 0 ? null : { header, rows, lines: at, ...(ignored.length > 0 ? { ignored } : {}) };
}

/**
 * A line whose fields outside the dropped columns are finite JSON numbers, or null. The dropped
 * fields are read as csvTable reads them (a number, else NaN): without quotes or comments, csv-parse's
 * fields are exactly the text between commas, trimmed of spaces and tabs.
 */
function withDropped(line: string, ignored: number[]): number[] | null {
  const fields = line.split(',');
  const row = new Array<number>(fields.length);
  for (let c = 0; c < fields.length; c++) {
    const f = fields[c].trim();
    if (ignored.includes(c)) {
      row[c] = isNumber(f) ? Number(f) : NaN;
      continue;
    }
    let v: unknown;
    try {
      v = JSON.parse(f);
    } catch {
      return null;
    }
    if (typeof v !== 'number' || !Number.isFinite(v)) return null;
    row[c] = v;
  }
  return row;
}

/** The finite numbers of a line like " 1, -2.5e-3 ,0", or null when it is anything else. */
function jsonNumbers(line: string): number[] | null {
  let parsed: unknown;
  try {
    parsed = JSON.parse(`[${line}]`);
  } catch {
    return null;
  }
  const row = parsed as unknown[];
  for (let c = 0; c < row.length; c++) if (typeof row[c] !== 'number' || !Number.isFinite(row[c])) return null;
  return row as number[];
}

/** data.csv through csv-parse, with every error worded: the reference that plainTable short-cuts. */
export function csvTable(text: string, file: string, layout: (first: string[]) => Layout = plainLayout): Table {
  let records: CsvRecord[];
  try {
    records = csvParse(text);
  } catch (err) {
    const e = err as Error & { lines?: number; code?: string };
    const line = e.lines !== undefined ? `line ${e.lines}` : 'the CSV text';
    if (e.code === 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH') {
      const m = /got (\d+) on line (\d+)/i.exec(e.message);
      const expectedFields = /expect(?:ed)? (\d+)/i.exec(e.message);
      throw new UserError(file, m ? `row ${m[2]}` : line, `${expectedFields?.[1] ?? 'the same number of'} fields, like the first row`, `${m?.[1] ?? 'a different number of'} fields`);
    }
    const quote: Record<string, string> = {
      CSV_QUOTE_NOT_CLOSED: 'an opening quote (") that is never closed',
      CSV_INVALID_CLOSING_QUOTE: 'a quote (") inside an unquoted field or text right after a closing quote',
      CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE: 'text right after a closing quote (")',
    };
    throw new UserError(file, line, 'well-formed CSV', quote[e.code ?? ''] ?? e.message.replace(/^Invalid \w+:\s*/, '').replace(/\s+/g, ' '));
  }
  if (records.length === 0) throw new UserError(file, '', 'a header row (optional) and at least one row of numbers', text.trim() === '' ? 'an empty file' : 'no rows, only comments');

  const first = records[0].record;
  const { header: isHeader, ignored } = layout(first);
  const header = isHeader ? first : null;
  const data = header ? records.slice(1) : records;
  if (data.length === 0) throw new UserError(file, '', 'at least one row of numbers after the header', 'only a header');
  const names = columnNames(header, first.length);
  const dropped = new Set(ignored);
  const rows = data.map(({ record, info }) =>
    record.map((field, c) => {
      if (dropped.has(c)) return isNumber(field) ? Number(field) : NaN;
      if (!isNumber(field)) {
        const place = `row ${info.lines}, column ${c + 1} (${clip(names[c])})`;
        const shown = field === '' ? 'an empty field' : JSON.stringify(field.slice(0, 40));
        // A column without a single number, over two rows or more (row 1 included when it is a header
        // only because of this column), is text (an id, a name), not a typo in one row.
        const rowsOfText = data.length + (header !== null && headerOnlyBy(c, first, ignored) ? 1 : 0);
        if (field !== '' && rowsOfText >= 2 && data.every((r) => r.record[c] !== '' && !isNumber(r.record[c]))) throw textColumn(file, place, shown, c, names, header, ignored, records[0]);
        throw new UserError(file, place, 'a number', shown);
      }
      const v = Number(field);
      if (!Number.isFinite(v)) throw new UserError(file, `row ${info.lines}, column ${c + 1} (${clip(names[c])})`, 'a finite number', field);
      return v;
    }),
  );
  return { header, rows, lines: data.map((r) => r.info.lines), ...(ignored.length > 0 ? { ignored } : {}) };
}

/** Whether column c's field is the only reason the first row was read as a header (every other kept field is a number). */
function headerOnlyBy(c: number, first: string[], ignored: number[]): boolean {
  return first.every((f, i) => i === c || ignored.includes(i) || isNumber(f));
}

/**
 * A column that holds no number on any row: says so, and how to drop it. When the first row was
 * taken as a header only because of text in such columns (its other fields are numbers), it is
 * most likely data: dropping the column by number reads it as data.
 */
function textColumn(file: string, place: string, shown: string, c: number, names: string[], header: string[] | null, ignored: number[], firstRecord: CsvRecord): UserError {
  const first = firstRecord.record;
  const name = names[c];
  const headerOnlyByText = header !== null && headerOnlyBy(c, first, ignored);
  const byName = header !== null && !headerOnlyByText && /^[\w.-]+$/.test(name) && names.indexOf(name) === c && !/^\d+$/.test(name);
  const ref = byName ? name : String(c + 1);
  const drop = ignored.length === 0 ? `--ignore-columns ${ref}` : `adding ${ref} to --ignore-columns`;
  const what = headerOnlyByText
    ? `Row ${firstRecord.info.lines} was read as a header only because of ${JSON.stringify(first[c].slice(0, 40))} (its other fields are numbers): ` +
      `if it is data and column ${c + 1} an id or a name, ${drop} drops the column and reads row ${firstRecord.info.lines} as data.`
    : `backprop-check reads only numbers: if it is an id or a name, drop it ${ignored.length === 0 ? 'with ' : 'by '}${drop}.`;
  return new UserError(file, place, 'a number', `${shown}, and column ${c + 1} holds no number on any row`, `${what} Labels must be numbers (0/1, or class indices 0…K−1).`);
}

/** The header's names, or "column 1", "column 2", … without one. */
function columnNames(header: string[] | null, columns: number): string[] {
  return header ?? Array.from({ length: columns }, (_, i) => `column ${i + 1}`);
}

export interface Dataset {
  X: Tensor;
  Y: Tensor;
  /** Column names (from the header, or x1…, y1…). */
  featureNames: string[];
  targetNames: string[];
}

/**
 * `statedShape` is net.json's image "input" [C, H, W], when it states one: then statedInputs is
 * C·H·W, the feature columns each row holds in C, H, W order.
 */
export function loadData(file: string, model: Model, statedInputs: number | undefined, target?: string, ignore?: string, statedShape?: readonly number[]): Dataset {
  const limit = maxCsvBytes();
  const text = readText(file, 'a CSV data file', {
    maxBytes: limit,
    tooLarge: (size, more) => new UserError(file, '', `a CSV file of at most ${bytes(limit)}`, `${more ? 'more than ' : ''}${bytes(size)}`, 'Check a random subset of the rows instead: gradients of a few hundred samples find the same bugs.'),
  });
  refuseTooManyCells(text, file);
  const layout = (first: string[]) => {
    const decided = columnLayout(first, ignore, file);
    // A column both dropped and a target is refused before any field is read as a number.
    if (target !== undefined && decided.ignored.length > 0) {
      const names = columnNames(decided.header ? first : null, first.length);
      const clash = namedColumns(target, names, file).find((c) => decided.ignored.includes(c));
      if (clash !== undefined) {
        throw new UserError('command line', `--ignore-columns "${ignore}"`, 'columns that are not targets', `column ${clash + 1} (${names[clash]}), which --target "${target}" also names`);
      }
    }
    return decided;
  };
  const { header, rows: values, lines, ignored = [] } = plainTable(text, layout) ?? csvTable(text, file, layout);
  const names = columnNames(header, values[0].length);
  if (header) refuseRepeatedNames(header, file);
  // The columns that remain after --ignore-columns, in file order; targets and features are taken from them.
  const kept = names.map((_, i) => i).filter((i) => !ignored.includes(i));
  const columns = kept.length;
  if (ignore !== undefined && columns < 2) {
    throw new UserError('command line', `--ignore-columns "${ignore}"`, 'at least one feature column and one target column left', `${columns} of ${names.length} columns left`);
  }

  const outputs = model.layers[model.layers.length - 1].units;
  const targetCols = target !== undefined ? namedColumns(target, names, file) : lastColumns(values, kept, outputs, model, statedInputs, file, ignore !== undefined, statedShape);
  const featureCols = kept.filter((i) => !targetCols.includes(i));
  if (featureCols.length === 0) throw new UserError(file, 'the header', 'at least one feature column before the target column(s)', `${columns} column(s), all of them targets`);
  if (statedInputs !== undefined && featureCols.length !== statedInputs) {
    const says = statedShape ? `C·H·W for net.json's "input": [${statedShape.join(', ')}]` : 'as net.json\'s "input" says';
    throw new UserError(file, 'the columns', `${statedInputs} feature column(s), ${says}, plus the target column(s)`, `${featureCols.length} feature column(s) (${columns} columns in all${dropped(ignored.length)})`);
  }

  const m = values.length;
  const X: Tensor = { shape: [featureCols.length, m], data: new Float64Array(featureCols.length * m) };
  featureCols.forEach((col, f) => { for (let s = 0; s < m; s++) X.data[f * m + s] = values[s][col]; });
  const Y = targetMatrix(values, targetCols, lines, names, outputs, model, file);
  return {
    X, Y,
    featureNames: featureCols.map((c) => names[c]),
    targetNames: targetCols.map((c) => names[c]),
  };
}

/** ", after --ignore-columns dropped 2", or nothing when none was dropped. */
function dropped(n: number): string {
  return n === 0 ? '' : `, after --ignore-columns dropped ${n}`;
}

/** At most a dozen column names for a message; the middle of a 784-column header is left out. */
function someNames(names: string[]): string {
  return names.length <= 12 ? names.join(', ') : `${names.slice(0, 10).join(', ')}, …, ${names[names.length - 1]}`;
}

/**
 * --ignore-columns "id" or "1,7" (names or 1-based numbers, like --target) against data.csv's first
 * row: which columns are dropped, and whether that row is a header. It is a header when a field
 * outside the columns dropped by number is not a number, so an id column ("a17") does not turn the
 * first row of a file without a header into one.
 */
export function columnLayout(first: string[], ignore: string | undefined, file: string): Layout {
  if (ignore === undefined) return plainLayout(first);
  const flag = `--ignore-columns "${ignore}"`;
  const entries = ignore.split(',').map((t) => t.trim());
  if (entries.some((t) => t === '')) {
    throw new UserError('command line', flag, 'column names or 1-based column numbers, separated by commas', ignore.trim() === '' ? 'nothing' : 'an empty entry');
  }
  const n = first.length;
  const inRange = (t: string) => /^\d+$/.test(t) && Number(t) >= 1 && Number(t) <= n;
  const byNumber = new Set(entries.filter(inRange).map((t) => Number(t) - 1));
  const header = first.some((f, c) => !byNumber.has(c) && !isNumber(f));
  const names = columnNames(header ? first : null, n);
  const chosen = new Map<number, string>();
  for (const t of entries) {
    const byName = header ? names.indexOf(t) : -1;
    const c = byName >= 0 ? byName : inRange(t) ? Number(t) - 1 : -1;
    if (c < 0) {
      const expected = header
        ? `column names of ${file} (${someNames(names)}) or column numbers from 1 to ${n}`
        : `column numbers from 1 to ${n} (${file} has no header row, so its columns have no names)`;
      const found = /^\d+$/.test(t) ? (Number(t) === 0 ? 'column 0 (columns are numbered from 1)' : `"${t}", but ${file} has only ${n} columns`)
        : header ? `"${t}", which is neither` : `the name "${t}"`;
      throw new UserError('command line', flag, expected, found);
    }
    const before = chosen.get(c);
    if (before !== undefined) {
      throw new UserError('command line', flag, 'each column at most once', `column ${c + 1} (${names[c]}) twice: "${before}" and "${t}"`);
    }
    chosen.set(c, t);
  }
  return { header, ignored: [...chosen.keys()].sort((a, b) => a - b) };
}

function isNumber(field: string): boolean {
  return field !== '' && /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$|^[+-]?(Infinity|inf|nan|NaN)$/i.test(field);
}

/** Column names for a message: all of them, or the first ten and how many more. */
function listed(names: string[]): string {
  const shown = names.slice(0, 10).map((n) => clip(n)).join(', ');
  return names.length > 10 ? `${shown}, … (${names.length} columns)` : shown;
}

/** A name that heads two columns is ambiguous wherever a column is named (--target), and a target may hide among the features. */
function refuseRepeatedNames(header: string[], file: string): void {
  const first = new Map<string, number>();
  header.forEach((name, c) => {
    const earlier = first.get(name);
    if (earlier !== undefined) {
      throw new UserError(file, 'the header', 'each column name at most once', `"${clip(name)}" twice (columns ${earlier + 1} and ${c + 1})`, 'Rename one of them.');
    }
    first.set(name, c);
  });
}

/** --target "label" or "y1,y2" or 1-based indices "3,4"; a column named twice is a mistake. */
function namedColumns(target: string, names: string[], file: string): number[] {
  const cols = target.split(',').map((t) => t.trim()).map((t) => {
    const byName = names.indexOf(t);
    if (byName >= 0) return byName;
    if (/^\d+$/.test(t) && Number(t) >= 1 && Number(t) <= names.length) return Number(t) - 1;
    throw new UserError('command line', `--target "${clip(target)}"`, `column names of ${file} (${listed(names)}) or column numbers from 1 to ${names.length}`, `"${clip(t)}", which is neither`);
  });
  const twice = cols.findIndex((c, i) => cols.indexOf(c) !== i);
  if (twice >= 0) {
    throw new UserError('command line', `--target "${clip(target)}"`, 'each target column once', `column ${cols[twice] + 1} (${clip(names[cols[twice]])}) twice`);
  }
  return cols;
}

/**
 * The target columns when --target is absent: the last K (of those --ignore-columns keeps) for K
 * outputs; for categorical cross-entropy either one class-index column or K one-hot columns.
 */
function lastColumns(values: number[][], kept: number[], outputs: number, model: Model, statedInputs: number | undefined, file: string, ignoring: boolean, statedShape?: readonly number[]): number[] {
  const columns = kept.length;
  const last = (k: number) => kept.slice(columns - k);
  const counted = `${columns} column(s)${ignoring ? ` after --ignore-columns (${values[0].length} in the file)` : ''}`;
  const categorical = model.loss.targets === 'one-hot' && outputs > 1;
  let k = outputs;
  if (statedInputs !== undefined) {
    k = columns - statedInputs;
    const fits = k === outputs || (categorical && k === 1);
    if (!fits) {
      const want = categorical ? `1 (class index) or ${outputs} (one-hot)` : `${outputs}`;
      const says = statedShape ? `C·H·W for net.json's "input": [${statedShape.join(', ')}]` : `net.json says "input": ${statedInputs}`;
      throw new UserError(file, 'the columns', `${statedInputs} feature column(s) (${says}) and ${want} target column(s): ${statedInputs + outputs} columns${categorical ? ` or ${statedInputs + 1}` : ''}`, counted);
    }
  } else if (categorical) {
    // One-hot when the last K columns look like it; else a class index in the last column.
    const tail = last(outputs);
    const oneHot = columns > outputs && values.every((row) => {
      const t = tail.map((c) => row[c]);
      return t.every((v) => v === 0 || v === 1) && t.reduce((s: number, v: number) => s + v, 0) === 1;
    });
    k = oneHot ? outputs : 1;
  }
  if (columns - k < 1) {
    throw new UserError(file, 'the columns', `at least one feature column and ${k} target column(s)`, counted);
  }
  return last(k);
}

function targetMatrix(
  values: number[][], targetCols: number[], lines: number[], names: string[], outputs: number, model: Model, file: string,
): Tensor {
  const m = values.length;
  const Y: Tensor = { shape: [outputs, m], data: new Float64Array(outputs * m) };
  const loss = model.loss;
  const place = (s: number, c: number) => `row ${lines[s]}, column ${c + 1} (${clip(names[c])})`;
  if (targetCols.length === 1 && outputs > 1) {
    if (loss.targets !== 'one-hot') {
      throw new UserError(file, 'the columns', `${outputs} target columns, one per output unit`, '1 target column');
    }
    const col = targetCols[0];
    for (let s = 0; s < m; s++) {
      const v = values[s][col];
      if (!Number.isInteger(v) || v < 0 || v >= outputs) {
        throw new UserError(file, place(s, col), `a class index 0..${outputs - 1} (the output layer has ${outputs} units)`, String(v),
          v === outputs ? 'Class indices start at 0: subtract 1 if yours count from 1.' : undefined);
      }
      Y.data[v * m + s] = 1;
    }
    return Y;
  }
  if (targetCols.length !== outputs) {
    throw new UserError('command line', `--target "${clip(targetCols.map((c) => names[c]).join(','))}"`, `${outputs} target column(s), one per output unit${loss.targets === 'one-hot' ? ', or one class index' : ''}`, `${targetCols.length} column(s)`);
  }
  targetCols.forEach((col, k) => {
    for (let s = 0; s < m; s++) {
      const v = values[s][col];
      if (loss.targets === 'probability' && (v < 0 || v > 1)) {
        throw new UserError(file, place(s, col), `a label 0 or 1 (or a soft label in [0, 1]) for ${loss.title.toLowerCase()}`, String(v));
      }
      if (loss.targets === 'one-hot' && (v < 0 || v > 1)) {
        throw new UserError(file, place(s, col), `a one-hot (or probability) target in [0, 1] for ${loss.title.toLowerCase()}`, String(v));
      }
      Y.data[k * m + s] = v;
    }
  });
  return Y;
}
