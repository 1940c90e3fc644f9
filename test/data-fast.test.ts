// The fast path for plain data.csv text (plainTable) against csv-parse itself (csvTable), the
// reference it short-cuts: for any text, either plainTable declines (null, and csv-parse reads the
// text) or it yields exactly csvTable's header, numbers and line numbers. Texts are generated in and
// around the plain dialect; the examples pin the cases that must go to csv-parse.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { columnLayout, csvTable, loadData, plainTable, type Table } from '../src/io/data.js';
import { parseSpec } from '../src/io/spec.js';

/** What csv-parse makes of the text (csvTable); 'error' when it refuses it. */
function reference(text: string): Table | 'error' {
  try {
    return csvTable(text, 'data.csv');
  } catch {
    return 'error';
  }
}

/** Numbers as people write them, and the non-numbers a header or a bad field holds. */
const numberText = fc.oneof(
  fc.double({ noNaN: true }).map(String),
  fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }).map((x) => x.toExponential(3)),
  fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e3, max: 1e3 }).map((x) => x.toFixed(2)),
  fc.integer({ min: -1000, max: 1000 }).map(String),
  fc.constantFrom('0', '-0', '+1', '.5', '5.', '-.25', '1e5', '1E-3', '2.5e+2', 'Infinity', '-inf', 'NaN', 'nan', '0x1F', '1_000'),
);
const wordText = fc.constantFrom('x1', 'x2', 'label', 'y', 'a b', 'c\td', '', 'é', 'say "hi"', '#note', '\\n');
const field = fc.tuple(
  fc.constantFrom('', '', ' ', '  ', '\t', ' \t'),
  fc.oneof({ weight: 5, arbitrary: numberText }, { weight: 1, arbitrary: wordText }),
  fc.constantFrom('', '', ' ', '\t', '\t '),
).map(([before, text, after]) => before + text + after);

/** A line of data: `width` fields, one more or one fewer for a ragged row. */
const dataLine = (width: number) =>
  fc.oneof(
    { weight: 12, arbitrary: fc.array(field, { minLength: width, maxLength: width }) },
    { weight: 1, arbitrary: fc.array(field, { minLength: Math.max(1, width - 1), maxLength: width + 1 }) },
  ).map((fields) => fields.join(','));
const blankLine = fc.constantFrom('', '', ' ', '  ', '\t', ' \t ');

/** A whole text: an optional header, data lines with blank lines among them, a final newline or not. */
const plainish = fc.integer({ min: 1, max: 5 }).chain((width) =>
  fc.record({
    header: fc.option(fc.array(fc.constantFrom('x1', 'x2', ' y ', 'label', '\tz'), { minLength: width, maxLength: width }).map((h) => h.join(','))),
    lines: fc.array(fc.oneof({ weight: 4, arbitrary: dataLine(width) }, { weight: 1, arbitrary: blankLine }), { maxLength: 8 }),
    end: fc.constantFrom('', '\n', '\n\n', '\n  '),
  }).map(({ header, lines, end }) => [...(header !== null ? [header] : []), ...lines].join('\n') + end),
);

/** The same texts with something outside the plain dialect put in somewhere. */
const foreign = fc.constantFrom('"', '#', '\r', '\r\n', '\f', '\v', '\u00a0', '\uFEFF', 'é', '" "');
const spoiled = fc.tuple(plainish, foreign, fc.nat()).map(([text, bad, at]) => {
  const i = at % (text.length + 1);
  return text.slice(0, i) + bad + text.slice(i);
});

describe('plainTable agrees with csv-parse', () => {
  it('on texts in and around the plain dialect: null, or exactly the header, numbers and line numbers of csv-parse', () => {
    let taken = 0;
    fc.assert(
      fc.property(fc.oneof({ weight: 3, arbitrary: plainish }, { weight: 1, arbitrary: spoiled }), (text) => {
        const fast = plainTable(text);
        if (fast === null) return;
        expect(fast).toEqual(reference(text));
        taken++;
      }),
      { seed: 42, numRuns: 2000 },
    );
    expect(taken).toBeGreaterThan(100); // the fast path is exercised, not only declined
  });

  it('with --ignore-columns 1: null, or exactly what csv-parse reads (header decided without column 1)', () => {
    const layout = (first: string[]) => columnLayout(first, '1', 'data.csv');
    const ignoring = (text: string): Table | 'error' => {
      try {
        return csvTable(text, 'data.csv', layout);
      } catch {
        return 'error';
      }
    };
    let taken = 0;
    fc.assert(
      fc.property(fc.oneof({ weight: 3, arbitrary: plainish }, { weight: 1, arbitrary: spoiled }), (text) => {
        const fast = plainTable(text, layout);
        if (fast === null) return;
        expect(fast).toEqual(ignoring(text));
        expect(fast.ignored).toEqual([0]);
        taken++;
      }),
      { seed: 42, numRuns: 1000 },
    );
    expect(taken).toBeGreaterThan(50);
  });

  it('reads a text id column that --ignore-columns drops without csv-parse, as csv-parse reads it', () => {
    const layout = (first: string[]) => columnLayout(first, 'id', 'data.csv');
    const text = 'id,x,y\na17, 1 ,0\n+5,2,1\n,3,0\n';
    const fast = plainTable(text, layout);
    expect(fast).toEqual({ header: ['id', 'x', 'y'], rows: [[NaN, 1, 0], [5, 2, 1], [NaN, 3, 0]], lines: [2, 3, 4], ignored: [0] });
    expect(fast).toEqual(csvTable(text, 'data.csv', layout));
    // A bad field in a kept column still goes to csv-parse, which words the error.
    expect(plainTable('id,x,y\na17,+1,0\n', layout)).toBeNull();
    expect(plainTable('id,x,y\na17,abc,0\n', layout)).toBeNull();
  });

  it('declines every text with a quote, a comment, CR, FF, VT or a non-ASCII character', () => {
    fc.assert(fc.property(spoiled, (text) => { expect(plainTable(text)).toBeNull(); }), { seed: 42, numRuns: 500 });
  });

  it('takes every plain text of JSON numbers whose rows are as wide as the first (so the fast path is really used)', () => {
    const json = fc.oneof(
      fc.double({ noNaN: true, noDefaultInfinity: true }).map(String),
      fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e6, max: 1e6 }).map((x) => x.toExponential(3)),
      fc.integer({ min: -1000, max: 1000 }).map(String),
    );
    const padded = fc.tuple(fc.constantFrom('', ' ', '\t'), json, fc.constantFrom('', ' ', '\t ')).map(([a, x, b]) => a + x + b);
    const even = fc.integer({ min: 1, max: 5 }).chain((width) =>
      fc.tuple(
        fc.option(fc.array(fc.constantFrom('x1', 'x2', ' y ', 'label'), { minLength: width, maxLength: width }).map((h) => h.join(','))),
        fc.array(fc.oneof(fc.array(padded, { minLength: width, maxLength: width }).map((f) => f.join(',')), blankLine), { maxLength: 8 }),
        fc.boolean(),
      ).map(([header, lines, newline]) => [...(header !== null ? [header] : []), ...lines].join('\n') + (newline ? '\n' : '')))
      .filter((text) => reference(text) !== 'error');
    fc.assert(fc.property(even, (text) => { expect(plainTable(text)).toEqual(reference(text)); }), { seed: 42, numRuns: 1000 });
  });
});

describe('plainTable, examples', () => {
  it('skips empty and whitespace-only lines, and numbers rows by their line in the file (as csv-parse does)', () => {
    const text = '\n  \nx, y\n\t\n 1 ,2\t\n\n3,4';
    const expected: Table = { header: ['x', 'y'], rows: [[1, 2], [3, 4]], lines: [5, 7] };
    expect(reference(text)).toEqual(expected);
    expect(plainTable(text)).toEqual(expected);
  });

  it('declines what it cannot read alone: no rows, numbers JSON cannot spell, ragged rows, CRLF, quotes, comments, NaN', () => {
    for (const text of ['', '\n', ' \n\t\n  ', 'x,y\n']) expect(plainTable(text)).toBeNull();
    expect(plainTable('+1,.5\n2,3\n')).toBeNull();
    expect(plainTable('x,y\n1,5.\n')).toBeNull();
    expect(plainTable('x,y\n1,2\n3\n')).toBeNull();
    expect(plainTable('x,y\r\n1,2\r\n')).toBeNull();
    expect(plainTable('"x","y"\n1,2\n')).toBeNull();
    expect(plainTable('# two moons\nx,y\n1,2\n')).toBeNull();
    expect(plainTable('x,y\n1,NaN\n')).toBeNull();
    expect(plainTable('x,y\n1,1e400\n')).toBeNull();
    expect(plainTable('x,y\n1,[2]\n')).toBeNull();
  });

  const BENCH = '/tmp/backprop-check-bench/784-128-64-10/data.csv';
  it.skipIf(!existsSync(BENCH))('the 1 MB benchmark file (64 rows × 794 columns) reads the same both ways', () => {
    const text = readFileSync(BENCH, 'utf8');
    const fast = plainTable(text);
    expect(fast?.rows).toHaveLength(64);
    expect(fast).toEqual(reference(text));
  });

  it('a generated 64 × 794 file of doubles reads the same both ways', () => {
    const rows = fc.sample(fc.array(fc.double({ noNaN: true, noDefaultInfinity: true, min: -3, max: 3 }), { minLength: 794, maxLength: 794 }), { seed: 42, numRuns: 64 });
    const text = rows.map((r) => r.join(',')).join('\n') + '\n';
    const fast = plainTable(text);
    expect(fast?.rows).toHaveLength(64);
    expect(fast).toEqual(reference(text));
  });
});

describe('loadData through either path', () => {
  const dir = mkdtempSync(join(tmpdir(), 'backprop-check-data-fast-'));
  const spec = parseSpec({ layers: [{ units: 3, activation: 'tanh' }, { units: 1, activation: 'sigmoid' }], loss: 'binary_cross_entropy' }, 'net.json');
  const load = (name: string, text: string) => {
    const file = join(dir, name);
    writeFileSync(file, text);
    return loadData(file, spec.model, spec.statedInputs);
  };

  it('CRLF and quoted files (csv-parse) give the same data set as the plain file (fast path)', () => {
    const plain = load('plain.csv', 'x1,x2,y\n0.5,-1,1\n2,3e-1,0\n');
    expect(load('crlf.csv', 'x1,x2,y\r\n0.5,-1,1\r\n2,3e-1,0\r\n')).toEqual(plain);
    expect(load('quoted.csv', '"x1","x2","y"\n0.5,-1,1\n2,3e-1,0\n')).toEqual(plain);
  });

  it('a ragged plain file still gets csv-parse\'s wording of the error', () => {
    const file = join(dir, 'ragged.csv');
    writeFileSync(file, 'x1,x2,y\n1,2,1\n3,0\n');
    expect(() => loadData(file, spec.model, spec.statedInputs)).toThrow(`${file}, row 3: expected 3 fields, like the first row; found 2 fields.`);
  });
});
