// "layout": "rows" (SPEC.md, "Beyond dense layers"): a PyTorch-style net whose files store X
// (samples, features), W (inputs, units), b (units,) gets the report its columns files get, through
// --params, --grads, --data, the library's backprop function (the exec payload and answer) and
// --exec; a file in the other layout is refused once, with the "layout" line that fixes it.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { backward, correctPlan, transposed } from '../src/core/backprop.js';
import { forward } from '../src/core/forward.js';
import { initialise } from '../src/core/init.js';
import type { Grads, Params } from '../src/core/model.js';
import { Random } from '../src/core/random.js';
import type { Tensor } from '../src/core/tensor.js';
import type { ExecPayload } from '../src/io/exec.js';
import { parseSpec, withInputs } from '../src/io/spec.js';
import { run } from '../src/run.js';
import { writeNpz } from './helpers/npz.js';

const tmp = mkdtempSync(join(tmpdir(), 'bpc-layout-rows-'));
const spec = { input: 3, layers: [{ units: 5, activation: 'relu' }, { units: 4, activation: 'tanh' }, { units: 3, activation: 'softmax' }], loss: 'categorical_cross_entropy', init: { seed: 4 } };
const m = 10;

// Seeded data: X (3, m) in columns, a class index per sample.
const rng = new Random(11);
const X: Tensor = { shape: [3, m], data: Float64Array.from({ length: 3 * m }, () => rng.normal()) };
const classes = Float64Array.from({ length: m }, (_, s) => s % 3);
const Y: Tensor = { shape: [3, m], data: new Float64Array(3 * m) };
classes.forEach((c, s) => { Y.data[c * m + s] = 1; });
const model = withInputs(parseSpec(spec, 'net.json').model, 3);
const params = initialise(model);
const correct = backward(model, params, forward(model, params, X, Y), Y, correctPlan(model));
/** A classic slip: db2 twice what it should be. */
const buggy: Grads = correct.map((g, l) => (l === 1 ? { ...g, b: { shape: g.b.shape, data: g.b.data.map((v) => 2 * v) } } : g));

const list = (t: Tensor) => Array.from({ length: t.shape[0] }, (_, r) => Array.from(t.data.subarray(r * t.shape[1], (r + 1) * t.shape[1])));
const columnsJson = (set: Params, d = '') => Object.fromEntries(set.flatMap((g, l) => Object.entries(g).map(([name, t]) => [`${d}${name}${l + 1}`, list(t)])));
const rowsJson = (set: Params, d = '') => Object.fromEntries(set.flatMap((g, l) => Object.entries(g).map(([name, t]) => [`${d}${name}${l + 1}`, name === 'W' ? list(transposed(t)) : Array.from(t.data)])));
const write = (name: string, value: unknown) => {
  const file = join(tmp, name);
  writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value));
  return file;
};

const files = {
  columns: {
    net: write('net.json', spec),
    data: writeNpz(join(tmp, 'data.npz'), { X, Y: { shape: [m], data: classes } }),
    params: write('params.json', columnsJson(params)),
  },
  rows: {
    net: write('net_rows.json', { ...spec, layout: 'rows' }),
    data: writeNpz(join(tmp, 'data_rows.npz'), { X: transposed(X), Y: { shape: [m], data: classes } }),
    params: writeNpz(join(tmp, 'params_rows.npz'), Object.fromEntries(Object.entries(rowsJson(params)).map(([k, v]) => [k, { shape: Array.isArray(v[0]) ? [v.length, (v[0] as number[]).length] : [v.length], data: (v as number[] | number[][]).flat() }]))),
  },
};

/** What a report says, file names aside: every tensor's numbers and every finding's code and place. */
const said = (r: Awaited<ReturnType<typeof run>>) => ({ ok: r.ok, checks: r.checks, findings: r.findings.map((f) => [f.code, f.layer, f.param]) });

describe('a PyTorch-style net in the rows layout', () => {
  it.each([['correct', correct], ['buggy (db2 doubled)', buggy]] as const)('%s gradients: rows --params, --grads and --data give the columns files\' report', async (_what, grads) => {
    const columns = await run({ ...files.columns, grads: write(`grads_${_what[0]}.json`, columnsJson(grads, 'd')) });
    const rows = await run({ ...files.rows, grads: write(`grads_rows_${_what[0]}.json`, rowsJson(grads, 'd')) });
    expect(said(rows)).toEqual(said(columns));
    expect(columns.ok).toBe(grads === correct);
  });

  it('the backprop function reads X (samples, features), W (inputs, units), b (units,), and answers in rows', async () => {
    let seen: ExecPayload | null = null;
    const report = await run({ ...files.rows, backprop: (payload) => { seen = payload; return rowsJson(buggy, 'd'); } });
    const payload = seen as unknown as ExecPayload;
    expect(payload.X).toEqual(list(transposed(X)));
    expect(payload.Y).toEqual(list(transposed(Y)));
    expect(payload.params.W1).toEqual(list(transposed(params[0].W)));
    expect(payload.params.b1).toEqual(Array.from(params[0].b.data));
    expect(said(report)).toEqual(said(await run({ ...files.columns, grads: write('grads_b.json', columnsJson(buggy, 'd')) })));
  });

  it('--exec: the program reads the rows payload and prints its gradients in rows', async () => {
    const answer = write('answer.json', rowsJson(correct, 'd'));
    // The program checks what it was given before it answers: X (m, 3), W1 (3, 5), b1 (5,).
    const program = write('grad.mjs', `
      import { readFileSync } from 'node:fs';
      const p = JSON.parse(readFileSync(0, 'utf8'));
      const ok = p.X.length === ${m} && p.X[0].length === 3 && p.params.W1.length === 3 && p.params.W1[0].length === 5 && typeof p.params.b1[0] === 'number';
      if (!ok) { console.error('not the rows layout'); process.exit(1); }
      process.stdout.write(readFileSync(${JSON.stringify(answer)}, 'utf8'));`);
    const report = await run({ ...files.rows, exec: `node ${program}`, execStderr: null });
    expect(report.ok).toBe(true);
    expect(report.source).toBe('exec');
  });
});

describe('a file in the other layout', () => {
  const message = async (options: Parameters<typeof run>[0]) => {
    try {
      await run(options);
    } catch (err) {
      return (err as Error).message;
    }
    throw new Error('accepted');
  };

  it('columns --params under "layout": "rows": refused once, naming every W, with the layout line', async () => {
    expect(await message({ ...files.rows, params: files.columns.params })).toBe(
      `${files.columns.params}: expected weights stored as (inputs, units), as "layout": "rows" says (PyTorch, Keras and X @ W code): W1 (3, 5), W2 (5, 4), W3 (4, 3); ` +
      'found the (units, inputs) layout of deeplearning.ai code throughout: W1 (5, 3), W2 (4, 5), W3 (3, 4), their transposes. ' +
      'Set "layout": "columns" in net.json (or leave "layout" out: columns is the default), or store every W transposed.');
  });

  it('rows --data under the columns layout: X and Y named once, with the layout line', async () => {
    const data = writeNpz(join(tmp, 'data_rows_onehot.npz'), { X: transposed(X), Y: transposed(Y) });
    expect(await message({ ...files.columns, data })).toBe(
      `${data}: expected X (3, 10) and Y (3, 10), as the columns layout (net.json's default): X (features, samples), Y (outputs, samples); found X (10, 3) and Y (10, 3), the other layout. Add "layout": "rows" to net.json, or save X.T and Y.T.`);
  });

  it('one W of the other layout in rows: that tensor, with what it is', async () => {
    const one = write('one.json', { ...rowsJson(params), W2: list(params[1].W) });
    expect(await message({ ...files.rows, params: one })).toBe(
      `${one}, tensor W2: expected shape (5, 4), (inputs, units) as "layout": "rows" says; found shape (4, 5). That is the columns layout's (units, inputs): save W2.T, or set "layout": "columns" in net.json.`);
  });
});
