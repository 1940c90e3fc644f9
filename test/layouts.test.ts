// Files in the (inputs, units) layout, extra gradients in a grads file, and --ignore-columns, through
// run() and the built command line. fixtures/layouts holds a 3-3-3 net, whose W's are all square, with
// PyTorch gradients of code that stores W as (inputs, units), saved both ways (scripts/layout_fixtures.py).
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../src/run.js';
import { runCli } from './helpers/cli.js';

const dir = 'fixtures/layouts';
const files = { net: `${dir}/net.json`, data: `${dir}/data.csv` };
const tmp = mkdtempSync(join(tmpdir(), 'bpc-layouts-'));

describe('square weights, whose shapes cannot tell the layout', () => {
  it('files in the (units, inputs) layout pass, with no layout finding', async () => {
    const r = await run({ ...files, params: `${dir}/params.json`, grads: `${dir}/grads.json` });
    expect(r.ok).toBe(true);
    expect(r.findings.some((f) => f.code === 'other-layout')).toBe(false);
  });

  it('right weights with transposed gradients fail, and the diagnosis names transposed-gradient (unchanged)', async () => {
    const r = await run({ ...files, params: `${dir}/params.json`, grads: `${dir}/grads_rows.json` });
    expect(r.ok).toBe(false);
    expect(r.findings.filter((f) => f.code === 'transposed-gradient').map((f) => f.layer).sort()).toEqual([1, 2]);
    expect(r.findings.some((f) => f.code === 'other-layout')).toBe(false);
  });

  it('both files in the (inputs, units) layout: the check fails as read, and a first finding says the files pass read the other way', async () => {
    const r = await run({ ...files, params: `${dir}/params_rows.json`, grads: `${dir}/grads_rows.json` });
    expect(r.ok).toBe(false);
    expect(r.findings[0]).toEqual({
      code: 'other-layout', severity: 'error',
      message: `Every W is square, so the shapes of ${dir}/params_rows.json and ${dir}/grads_rows.json cannot tell how they are stored. Read as (inputs, units), the layout of Keras and X @ W code, ` +
        'with W1, W2, dW1 and dW2 transposed, every tensor passes: the files use that layout, and the failures above come from reading them transposed.',
      fix: 'Store every W and dW transposed: np.savez(path, W1=W1.T, W2=W2.T, …), or in JSON {k: (v.T if k.startswith(("W", "dW")) else v).tolist() for k, v in d.items()}; or add "layout": "rows" to net.json.',
      evidence: { tensors: 'W1, W2, dW1, dW2' },
    });
    // The diagnosis of the files as they were read is kept beside it.
    expect(r.findings.length).toBeGreaterThan(1);
  });

  it('a real bug in files of that layout gets no layout finding (read either way, it fails)', async () => {
    const grads = JSON.parse(readFileSync(`${dir}/grads_rows.json`, 'utf8')) as Record<string, number[] | number[][]>;
    const file = join(tmp, 'grads_rows_bug.json');
    writeFileSync(file, JSON.stringify({ ...grads, db1: (grads.db1 as number[]).map((v) => 2 * v) }));
    const r = await run({ ...files, params: `${dir}/params_rows.json`, grads: file });
    expect(r.ok).toBe(false);
    expect(r.findings.some((f) => f.code === 'other-layout')).toBe(false);
  });
});

describe('extra gradients in a --grads file', () => {
  it('are accepted with an info note, shown by --format json and the table', async () => {
    const grads = JSON.parse(readFileSync(`${dir}/grads.json`, 'utf8')) as Record<string, unknown>;
    const file = join(tmp, 'grads_dict.json');
    writeFileSync(file, JSON.stringify({ ...grads, dA1: [[0, 0], [0, 0], [0, 0]], dA0: [[0]] }));
    const json = await runCli([files.net, files.data, '--params', `${dir}/params.json`, '--grads', file, '--format', 'json']);
    expect(json.status).toBe(0);
    const report = JSON.parse(json.stdout) as { findings: { code: string; severity: string; message: string }[] };
    expect(report.findings).toContainEqual(expect.objectContaining({
      code: 'extra-gradients', severity: 'info',
      message: `${file} also holds dA1, dA0: gradients of activations or pre-activations (as a deeplearning.ai grads dict keeps them), not of parameters. They were accepted and not checked.`,
    }));
    const table = await runCli([files.net, files.data, '--params', `${dir}/params.json`, '--grads', file]);
    expect(table.status).toBe(0);
    expect(table.stdout).toContain(`info extra-gradients: ${file} also holds dA1, dA0`);
  });

  it('from the library’s backprop function too', async () => {
    const grads = JSON.parse(readFileSync(`${dir}/grads.json`, 'utf8')) as Record<string, number[][]>;
    const r = await run({ ...files, params: `${dir}/params.json`, backprop: () => ({ dZ2: [[0]], ...grads }) });
    expect(r.ok).toBe(true);
    expect(r.findings.find((f) => f.code === 'extra-gradients')?.message).toBe(
      'The backprop function’s answer also holds dZ2: gradients of activations or pre-activations (as a deeplearning.ai grads dict keeps them), not of parameters. It was accepted and not checked.');
  });

  it('--explain tells what the codes mean', async () => {
    const extra = await runCli(['--explain', 'extra-gradients']);
    expect(extra.status).toBe(0);
    expect(extra.stdout).toMatch(/^extra-gradients: gradients that are not parameters' \(input\)\n\n/);
    const layout = await runCli(['--explain', 'other-layout']);
    expect(layout.status).toBe(0);
    expect(layout.stdout).toMatch(/^other-layout: square weights stored as \(inputs, units\) \(input\)\n\n/);
  });
});

describe('--ignore-columns on the command line', () => {
  it('drops an id column by name', async () => {
    const data = join(tmp, 'with-id.csv');
    const rows = readFileSync('test/bad-input/shared/data.csv', 'utf8').trim().split('\n').slice(1);
    writeFileSync(data, 'id,x1,x2,label\n' + rows.map((r, i) => `a${i + 17},${r}`).join('\n') + '\n');
    const r = await runCli(['test/bad-input/shared/net.json', data, '--ignore-columns', 'id', '--format', 'json']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const plain = await runCli(['test/bad-input/shared/net.json', 'test/bad-input/shared/data.csv', '--format', 'json']);
    // The same rows without the id column: the same check.
    const cost = (s: string) => (JSON.parse(s) as { loss: number }).loss;
    expect(cost(r.stdout)).toBe(cost(plain.stdout));
  });
});
