// data.csv → X (features × samples) and Y (outputs × samples), by SPEC.md's "data.csv": header
// detection, which columns are targets (label, class index, one-hot, K real columns, --target),
// and exact error messages. Files are written to a temporary directory.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadData } from '../src/io/data.js';
import { UserError } from '../src/io/errors.js';
import { parseSpec } from '../src/io/spec.js';

const dir = mkdtempSync(join(tmpdir(), 'backprop-check-data-'));
let count = 0;
/** Writes `text` to a fresh file and returns its path. */
function csv(text: string): string {
  const file = join(dir, `data${++count}.csv`);
  writeFileSync(file, text);
  return file;
}

type LossName = 'binary_cross_entropy' | 'categorical_cross_entropy' | 'mean_squared_error';
const OUTPUT: Record<LossName, string> = { binary_cross_entropy: 'sigmoid', categorical_cross_entropy: 'softmax', mean_squared_error: 'linear' };
/** A spec with `outputs` output units for the loss, and "input" only when given. */
function spec(loss: LossName, outputs: number, input?: number) {
  const raw = { ...(input !== undefined ? { input } : {}), layers: [{ units: 3, activation: 'tanh' }, { units: outputs, activation: OUTPUT[loss] }], loss };
  return parseSpec(raw, 'net.json');
}
function load(text: string, loss: LossName, outputs: number, input?: number, target?: string) {
  const s = spec(loss, outputs, input);
  return loadData(csv(text), s.model, s.statedInputs, target);
}
/** The UserError message, with the temporary file's path written as data.csv. */
function failure(text: string, loss: LossName, outputs: number, input?: number, target?: string): string {
  try {
    load(text, loss, outputs, input, target);
  } catch (err) {
    expect(err).toBeInstanceOf(UserError);
    return (err as Error).message.split(join(dir, `data${count}.csv`)).join('data.csv');
  }
  throw new Error('the data was accepted');
}
const rows = (m: { shape: readonly number[]; data: Float64Array }) =>
  Array.from({ length: m.shape[0] }, (_, r) => Array.from(m.data.subarray(r * m.shape[1], (r + 1) * m.shape[1])));

describe('header detection and layout', () => {
  it('a first row with a non-number is a header; X is features × samples', () => {
    const d = load('x1,x2,label\n0.5,-1,1\n2,3e-1,0\n', 'binary_cross_entropy', 1);
    expect(d.featureNames).toEqual(['x1', 'x2']);
    expect(d.targetNames).toEqual(['label']);
    expect(rows(d.X)).toEqual([[0.5, 2], [-1, 0.3]]);
    expect(rows(d.Y)).toEqual([[1, 0]]);
  });

  it('one non-number is enough (x, 2, y is a header)', () => {
    const d = load('x,2,y\n1,2,0\n', 'binary_cross_entropy', 1);
    expect(d.featureNames).toEqual(['x', '2']);
    expect(d.X.shape[1]).toBe(1);
  });

  it('an all-number first row is data, and the columns get numbered names', () => {
    const d = load('1,2,0\n3,4,1\n', 'binary_cross_entropy', 1);
    expect(d.featureNames).toEqual(['column 1', 'column 2']);
    expect(d.targetNames).toEqual(['column 3']);
    expect(rows(d.X)).toEqual([[1, 3], [2, 4]]);
  });

  it('skips comment lines, blank lines and spaces around fields', () => {
    const d = load('# two moons\nx1, x2, y\n\n 1 , 2 , 1\n# more\n3,4,0\n', 'binary_cross_entropy', 1);
    expect(rows(d.X)).toEqual([[1, 3], [2, 4]]);
    expect(rows(d.Y)).toEqual([[1, 0]]);
  });
});

describe('targets', () => {
  it('binary cross-entropy: one label column, 0/1 or soft', () => {
    expect(rows(load('x,y\n1,0.25\n2,1\n', 'binary_cross_entropy', 1).Y)).toEqual([[0.25, 1]]);
  });

  it('mean squared error: K real columns', () => {
    const d = load('a,b,y1,y2\n1,2,-3.5,4\n5,6,7,8\n', 'mean_squared_error', 2);
    expect(d.targetNames).toEqual(['y1', 'y2']);
    expect(rows(d.Y)).toEqual([[-3.5, 7], [4, 8]]);
    expect(rows(d.X)).toEqual([[1, 5], [2, 6]]);
  });

  it('categorical cross-entropy: a class index becomes a one-hot column of Y', () => {
    const d = load('x1,x2,class\n1,2,2\n3,4,0\n5,6,1\n', 'categorical_cross_entropy', 3);
    expect(d.targetNames).toEqual(['class']);
    expect(rows(d.Y)).toEqual([[0, 1, 0], [0, 0, 1], [1, 0, 0]]);
  });

  it('categorical cross-entropy: K one-hot columns are recognised without "input"', () => {
    const d = load('x1,x2,c0,c1,c2\n1,2,0,0,1\n3,4,1,0,0\n', 'categorical_cross_entropy', 3);
    expect(d.featureNames).toEqual(['x1', 'x2']);
    expect(rows(d.Y)).toEqual([[0, 1], [0, 0], [1, 0]]);
  });

  it('categorical cross-entropy: with "input", the column count decides', () => {
    // 4 columns, input 3: one class-index column (the 0/1 features do not look like one-hot targets).
    const d = load('1,0,0,2\n0,1,0,1\n', 'categorical_cross_entropy', 3, 3);
    expect(rows(d.X)).toEqual([[1, 0], [0, 1], [0, 0]]);
    expect(rows(d.Y)).toEqual([[0, 0], [0, 1], [1, 0]]);
    // Probability targets in K columns.
    expect(rows(load('1,0.2,0.3,0.5\n', 'categorical_cross_entropy', 3, 1).Y)).toEqual([[0.2], [0.3], [0.5]]);
  });

  it('--target names columns, by name or 1-based number; the rest are features, in order', () => {
    const byName = load('y,x1,x2\n1,2,3\n0,5,6\n', 'binary_cross_entropy', 1, undefined, 'y');
    expect(byName.featureNames).toEqual(['x1', 'x2']);
    expect(rows(byName.Y)).toEqual([[1, 0]]);
    expect(rows(byName.X)).toEqual([[2, 5], [3, 6]]);
    const byNumber = load('t1,x,t2\n1,2,3\n', 'mean_squared_error', 2, undefined, '3, 1');
    expect(byNumber.targetNames).toEqual(['t2', 't1']);
    expect(rows(byNumber.Y)).toEqual([[3], [1]]);
  });
});

describe('error messages', () => {
  it.each([
    ['an empty file', '', 'data.csv: expected a header row (optional) and at least one row of numbers; found an empty file.'],
    ['only comments', '# nothing\n', 'data.csv: expected a header row (optional) and at least one row of numbers; found no rows, only comments.'],
    ['only a header', 'x1,x2,y\n', 'data.csv: expected at least one row of numbers after the header; found only a header.'],
    ['a word in a row', 'x1,x2,y\n1,2,1\n3,abc,0\n', 'data.csv, row 3, column 2 (x2): expected a number; found "abc".'],
    ['an empty field', 'x1,x2,y\n1,,1\n', 'data.csv, row 2, column 2 (x2): expected a number; found an empty field.'],
    ['an infinite value', 'x1,x2,y\n1,Infinity,1\n', 'data.csv, row 2, column 2 (x2): expected a finite number; found Infinity.'],
    ['a row too short', 'x1,x2,y\n1,2,1\n3,0\n', 'data.csv, row 3: expected 3 fields, like the first row; found 2 fields.'],
    ['a label of 2 for binary cross-entropy', 'x1,x2,y\n1,2,1\n3,4,2\n',
      'data.csv, row 3, column 3 (y): expected a label 0 or 1 (or a soft label in [0, 1]) for binary cross-entropy; found 2.'],
  ])('%s', (_what, text, expected) => {
    expect(failure(text, 'binary_cross_entropy', 1)).toBe(expected);
  });

  it('a class index out of range, fractional, or counted from 1', () => {
    expect(failure('x,c\n1,3\n', 'categorical_cross_entropy', 3)).toBe(
      'data.csv, row 2, column 2 (c): expected a class index 0..2 (the output layer has 3 units); found 3. Class indices start at 0: subtract 1 if yours count from 1.');
    expect(failure('x,c\n1,1.5\n', 'categorical_cross_entropy', 3)).toBe(
      'data.csv, row 2, column 2 (c): expected a class index 0..2 (the output layer has 3 units); found 1.5.');
    expect(failure('x,c\n1,-1\n', 'categorical_cross_entropy', 3)).toBe(
      'data.csv, row 2, column 2 (c): expected a class index 0..2 (the output layer has 3 units); found -1.');
  });

  it('a one-hot target outside [0, 1]', () => {
    expect(failure('x,c0,c1\n1,0,1\n2,2,0\n', 'categorical_cross_entropy', 2, 1)).toBe(
      'data.csv, row 3, column 2 (c0): expected a one-hot (or probability) target in [0, 1] for categorical cross-entropy; found 2.');
  });

  it('"input" disagreeing with the columns', () => {
    expect(failure('x1,x2,y\n1,2,1\n', 'binary_cross_entropy', 1, 3)).toBe(
      'data.csv, the columns: expected 3 feature column(s) (net.json says "input": 3) and 1 target column(s): 4 columns; found 3 column(s).');
    expect(failure('x1,x2,y\n1,2,1\n', 'categorical_cross_entropy', 3, 1)).toBe(
      'data.csv, the columns: expected 1 feature column(s) (net.json says "input": 1) and 1 (class index) or 3 (one-hot) target column(s): 4 columns or 2; found 3 column(s).');
  });

  it('too few columns for the outputs', () => {
    expect(failure('y1,y2\n1,2\n', 'mean_squared_error', 2)).toBe('data.csv, the columns: expected at least one feature column and 2 target column(s); found 2 column(s).');
  });

  it('--target naming no column, or the wrong number of them', () => {
    expect(failure('x1,x2,y\n1,2,1\n', 'binary_cross_entropy', 1, undefined, 'label')).toBe(
      'command line, --target "label": expected column names of data.csv (x1, x2, y) or column numbers from 1 to 3; found "label", which is neither.');
    expect(failure('x1,x2,y\n1,2,1\n', 'binary_cross_entropy', 1, undefined, '4')).toBe(
      'command line, --target "4": expected column names of data.csv (x1, x2, y) or column numbers from 1 to 3; found "4", which is neither.');
    expect(failure('x1,x2,y\n1,2,1\n', 'binary_cross_entropy', 1, undefined, 'x2,y')).toBe(
      'command line, --target "x2,y": expected 1 target column(s), one per output unit; found 2 column(s).');
  });

  it('a missing file', () => {
    const s = spec('binary_cross_entropy', 1);
    const missing = join(dir, 'absent.csv');
    expect(() => loadData(missing, s.model, undefined)).toThrow(`${missing}: expected a CSV data file; found no such file.`);
  });
});

/** load and failure with --ignore-columns. */
function loadIgnoring(text: string, ignore: string, loss: LossName = 'binary_cross_entropy', outputs = 1, input?: number, target?: string) {
  const s = spec(loss, outputs, input);
  return loadData(csv(text), s.model, s.statedInputs, target, ignore);
}
function failureIgnoring(text: string, ignore: string | undefined, loss: LossName = 'binary_cross_entropy', outputs = 1, input?: number, target?: string): string {
  try {
    const s = spec(loss, outputs, input);
    loadData(csv(text), s.model, s.statedInputs, target, ignore);
  } catch (err) {
    expect(err).toBeInstanceOf(UserError);
    return (err as Error).message.split(join(dir, `data${count}.csv`)).join('data.csv');
  }
  throw new Error('the data was accepted');
}

describe('--ignore-columns', () => {
  it('drops a text id column by name; features and targets come from the rest', () => {
    const d = loadIgnoring('id,x1,x2,label\na17,0.5,-1,1\nb2,2,0.3,0\n', 'id');
    expect(d.featureNames).toEqual(['x1', 'x2']);
    expect(d.targetNames).toEqual(['label']);
    expect(rows(d.X)).toEqual([[0.5, 2], [-1, 0.3]]);
    expect(rows(d.Y)).toEqual([[1, 0]]);
  });

  it('drops a numeric column by number (the fast path), and several at once, in any order', () => {
    const d = loadIgnoring('1001,0.5,7,-1,1\n1002,2,8,0.3,0\n', '3, 1');
    expect(d.featureNames).toEqual(['column 2', 'column 4']);
    expect(rows(d.X)).toEqual([[0.5, 2], [-1, 0.3]]);
    expect(rows(d.Y)).toEqual([[1, 0]]);
  });

  it('an id column dropped by number does not make the first row of a file without a header a header', () => {
    const d = loadIgnoring('a17,0.5,-1,1\nb2,2,0.3,0\n', '1');
    expect(d.X.shape[1]).toBe(2);
    expect(d.featureNames).toEqual(['column 2', 'column 3']);
    expect(rows(d.X)).toEqual([[0.5, 2], [-1, 0.3]]);
  });

  it('a trailing id column: the targets are the last columns that are kept', () => {
    const d = loadIgnoring('x1,x2,label,id\n0.5,-1,1,a\n2,0.3,0,b\n', 'id');
    expect(d.targetNames).toEqual(['label']);
    expect(rows(d.Y)).toEqual([[1, 0]]);
    const oneHot = loadIgnoring('x1,c0,c1,c2,id\n1,0,0,1,7\n3,1,0,0,8\n', 'id', 'categorical_cross_entropy', 3);
    expect(oneHot.featureNames).toEqual(['x1']);
    expect(rows(oneHot.Y)).toEqual([[0, 1], [0, 0], [1, 0]]);
    const stated = loadIgnoring('x1,x2,label,id\n0.5,-1,1,a\n', '4', 'binary_cross_entropy', 1, 2);
    expect(stated.featureNames).toEqual(['x1', 'x2']);
  });

  it('works beside --target, whose numbers count the file’s columns', () => {
    const d = loadIgnoring('id,y,x1,x2\na,1,2,3\nb,0,5,6\n', 'id', 'binary_cross_entropy', 1, undefined, '2');
    expect(d.targetNames).toEqual(['y']);
    expect(d.featureNames).toEqual(['x1', 'x2']);
  });

  it.each([
    ['an unknown name', 'id,x1,y\na,1,1\n', 'name', 'command line, --ignore-columns "name": expected column names of data.csv (id, x1, y) or column numbers from 1 to 3; found "name", which is neither.'],
    ['a number past the last column', 'id,x1,y\na,1,1\n', '4', 'command line, --ignore-columns "4": expected column names of data.csv (id, x1, y) or column numbers from 1 to 3; found "4", but data.csv has only 3 columns.'],
    ['column 0', 'id,x1,y\na,1,1\n', '0', 'command line, --ignore-columns "0": expected column names of data.csv (id, x1, y) or column numbers from 1 to 3; found column 0 (columns are numbered from 1).'],
    ['a name in a file without a header', '7,1,1\n8,2,0\n', 'id', 'command line, --ignore-columns "id": expected column numbers from 1 to 3 (data.csv has no header row, so its columns have no names); found the name "id".'],
    ['a column twice', 'id,x1,x2,y\na,1,2,1\n', 'id,1', 'command line, --ignore-columns "id,1": expected each column at most once; found column 1 (id) twice: "id" and "1".'],
    ['an empty entry', 'id,x1,y\na,1,1\n', 'id,', 'command line, --ignore-columns "id,": expected column names or 1-based column numbers, separated by commas; found an empty entry.'],
    ['nothing', 'id,x1,y\na,1,1\n', ' ', 'command line, --ignore-columns " ": expected column names or 1-based column numbers, separated by commas; found nothing.'],
    ['too few columns left', 'id,x1,y\na,1,1\n', 'id,x1', 'command line, --ignore-columns "id,x1": expected at least one feature column and one target column left; found 1 of 3 columns left.'],
  ])('refuses %s', (_what, text, ignore, message) => {
    expect(failureIgnoring(text, ignore)).toBe(message);
  });

  it('refuses a column that is dropped and a target, before reading any field', () => {
    expect(failureIgnoring('id,x1,label\na,1,yes\n', 'label', 'binary_cross_entropy', 1, undefined, 'label')).toBe(
      'command line, --ignore-columns "label": expected columns that are not targets; found column 3 (label), which --target "label" also names.');
  });

  it('counts the columns that are kept when "input" disagrees', () => {
    expect(failureIgnoring('id,x1,x2,y\na,1,2,1\n', 'id', 'binary_cross_entropy', 1, 3)).toBe(
      'data.csv, the columns: expected 3 feature column(s) (net.json says "input": 3) and 1 target column(s): 4 columns; found 3 column(s) after --ignore-columns (4 in the file).');
  });
});

describe('a column of text', () => {
  it('is refused, never taken as a feature, with or without "input", naming the column and how to drop it', () => {
    const message = 'data.csv, row 2, column 1 (id): expected a number; found "a17", and column 1 holds no number on any row. ' +
      'backprop-check reads only numbers: if it is an id or a name, drop it with --ignore-columns id. Labels must be numbers (0/1, or class indices 0…K−1).';
    expect(failureIgnoring('id,x1,x2,y\na17,1,2,1\na18,3,4,0\n', undefined)).toBe(message);
    expect(failureIgnoring('id,x1,x2,y\na17,1,2,1\na18,3,4,0\n', undefined, 'binary_cross_entropy', 1, 3)).toBe(message);
  });

  it('a header detected only because of the text column: says row 1 is probably data, and how to read it as data', () => {
    expect(failureIgnoring('a17,1,2,1\na18,3,4,0\n', undefined)).toBe(
      'data.csv, row 2, column 1 (a17): expected a number; found "a18", and column 1 holds no number on any row. ' +
      'Row 1 was read as a header only because of "a17" (its other fields are numbers): if it is data and column 1 an id or a name, ' +
      '--ignore-columns 1 drops the column and reads row 1 as data. Labels must be numbers (0/1, or class indices 0…K−1).');
  });

  it('a second text column beside one already dropped: add it', () => {
    expect(failureIgnoring('id,x,name,y\na,1,b,0\nc,2,d,1\n', 'id')).toBe(
      'data.csv, row 2, column 3 (name): expected a number; found "b", and column 3 holds no number on any row. ' +
      'backprop-check reads only numbers: if it is an id or a name, drop it by adding name to --ignore-columns. Labels must be numbers (0/1, or class indices 0…K−1).');
  });

  it('a word in an otherwise numeric column keeps the plain message (a typo, not a text column), and so does one row alone', () => {
    expect(failureIgnoring('x1,x2,y\n1,2,1\n3,abc,0\n', undefined)).toBe('data.csv, row 3, column 2 (x2): expected a number; found "abc".');
    expect(failureIgnoring('x1,x2,y\n1,abc,1\n', undefined)).toBe('data.csv, row 2, column 2 (x2): expected a number; found "abc".');
    expect(failureIgnoring('x1,x2,y\n1,abc,1\n2,,0\n', undefined)).toBe('data.csv, row 2, column 2 (x2): expected a number; found "abc".');
  });
});
