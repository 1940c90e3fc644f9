// Tensors of any rank: a .npy of rank 3 or 4 is read with its shape (C or Fortran order), an
// archive keeps it, and every renderer shows a rank-4 shape. Dense layers still need 2-D: that
// refusal is npz.test.ts's (threed.npz, scalar.npz).
import { zipSync } from 'fflate';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { clone, cols, rows, shapeText, size, zeros } from '../src/core/tensor.js';
import { parseNpy } from '../src/io/npy.js';
import { readNpz } from '../src/io/npz.js';
import { renderHtml } from '../src/render/html.js';
import { renderJson } from '../src/render/json.js';
import { renderJunit } from '../src/render/junit.js';
import { renderMarkdown } from '../src/render/markdown.js';
import { renderTable } from '../src/render/table.js';
import { run } from '../src/run.js';

/** A little-endian float64 .npy (version 1.0), data in storage order. */
function npy(shape: number[], stored: number[], fortran = false): Uint8Array {
  const dict = `{'descr': '<f8', 'fortran_order': ${fortran ? 'True' : 'False'}, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  let header = dict + ' ';
  while ((10 + header.length + 1) % 64 !== 0) header += ' ';
  header += '\n';
  const head = new TextEncoder().encode(header);
  const out = new Uint8Array(10 + head.length + stored.length * 8);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  const view = new DataView(out.buffer);
  view.setUint16(8, head.length, true);
  out.set(head, 10);
  stored.forEach((v, i) => view.setFloat64(10 + head.length + i * 8, v, true));
  return out;
}

const src = { file: 'k.npz', place: 'tensor K1' };

describe('the tensor type', () => {
  it('knows its size, copies its shape and data, and shows any rank', () => {
    const t = zeros([3, 3, 16, 8]);
    expect(size(t.shape)).toBe(1152);
    expect(t.data.length).toBe(1152);
    expect(size([])).toBe(1);
    const c = clone(t);
    c.data[0] = 1;
    expect(t.data[0]).toBe(0);
    expect(c.shape).toEqual([3, 3, 16, 8]);
    expect(c.shape).not.toBe(t.shape);
    expect([rows(zeros([4, 2])), cols(zeros([4, 2])), cols(zeros([5]))]).toEqual([4, 2, 1]);
    expect([shapeText([64, 32]), shapeText([3, 3, 16, 8]), shapeText([5])]).toEqual(['64×32', '3×3×16×8', '5']);
  });
});

describe('.npy of rank 3 and 4', () => {
  const values = Array.from({ length: 24 }, (_, i) => i / 4 - 3);

  it('a C-order 3-D array reads back with its shape and values', () => {
    const t = parseNpy(npy([2, 3, 4], values), src);
    expect(t.shape).toEqual([2, 3, 4]);
    expect(Array.from(t.data)).toEqual(values);
  });

  it('a Fortran-order 4-D array is converted to row-major: (i, j, k, l) sits at i + 2·(j + 3·(k + 2·l))', () => {
    const shape = [2, 3, 2, 2];
    const fortran = new Array<number>(24);
    for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) for (let k = 0; k < 2; k++) for (let l = 0; l < 2; l++) {
      fortran[i + 2 * (j + 3 * (k + 2 * l))] = values[((i * 3 + j) * 2 + k) * 2 + l];
    }
    const t = parseNpy(npy(shape, fortran, true), src);
    expect(t.shape).toEqual(shape);
    expect(Array.from(t.data)).toEqual(values);
  });

  it('a 0-D array reads as one value of shape ()', () => {
    const t = parseNpy(npy([], [2.5]), src);
    expect(t.shape).toEqual([]);
    expect(Array.from(t.data)).toEqual([2.5]);
  });

  it('a non-finite element of a 4-D array is named by its full index', () => {
    const bad = values.slice();
    bad[((1 * 3 + 2) * 2 + 0) * 2 + 1] = NaN;
    expect(() => parseNpy(npy([2, 3, 2, 2], bad), src)).toThrow('k.npz, tensor K1[1][2][0][1]: expected a finite number; found NaN.');
  });

  it('an .npz member of rank 4 is read with its shape beside 2-D ones', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bpc-rank-'));
    const file = join(dir, 'k.npz');
    writeFileSync(file, zipSync({ 'K1.npy': npy([3, 2, 2, 2], values), 'W1.npy': npy([4, 6], values) }));
    const raw = readNpz(file, 'params');
    expect(raw.get('K1')!.shape).toEqual([3, 2, 2, 2]);
    expect(Array.from(raw.get('K1')!.data)).toEqual(values);
    expect(raw.get('W1')!.shape).toEqual([4, 6]);
  });
});

describe('reports of a rank-4 tensor', () => {
  it('the table, Markdown, HTML, JUnit and JSON show the shape 3×3×16×8', async () => {
    const report = await run({ net: 'fixtures/xor/net.json', data: 'fixtures/xor/data.csv' });
    const first = report.checks[0];
    const kernel = { ...first, param: 'K1', shape: [3, 3, 16, 8], status: 'fail' as const };
    const r = { ...report, ok: false, checks: [kernel, ...report.checks.slice(1)] };
    expect(renderTable(r, false, 200)).toContain('3×3×16×8');
    expect(renderMarkdown(r)).toContain('| 1 | K1 | 3×3×16×8 |');
    expect(renderHtml(r)).toContain('<td><code>K1</code></td><td>3×3×16×8</td>');
    expect(renderJunit(r)).toContain('K1 (layer 1, shape 3×3×16×8)');
    expect(JSON.parse(renderJson(r)).checks[0].shape).toEqual([3, 3, 16, 8]);
  });
});
