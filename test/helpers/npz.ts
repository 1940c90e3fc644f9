// .npz archives as np.savez writes them (a zip of little-endian, C-order .npy members), for tests
// that hand backprop-check NumPy data: float64 by default, or float32.
import { zipSync } from 'fflate';
import { writeFileSync } from 'node:fs';

export interface Array64 {
  shape: number[];
  data: ArrayLike<number>;
}

/** One .npy (version 1.0): magic, version, the header dict padded to 64 bytes, the data in C order. */
export function npy(a: Array64, descr: '<f8' | '<f4' = '<f8'): Uint8Array {
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${a.shape.join(', ')}${a.shape.length === 1 ? ',' : ''}), }`;
  let header = dict + ' ';
  while ((10 + header.length + 1) % 64 !== 0) header += ' ';
  header += '\n';
  const head = new TextEncoder().encode(header);
  const bytes = descr === '<f8' ? 8 : 4;
  const out = new Uint8Array(10 + head.length + a.data.length * bytes);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  const view = new DataView(out.buffer);
  view.setUint16(8, head.length, true);
  out.set(head, 10);
  for (let i = 0; i < a.data.length; i++) {
    if (bytes === 8) view.setFloat64(10 + head.length + 8 * i, a.data[i], true);
    else view.setFloat32(10 + head.length + 4 * i, a.data[i], true);
  }
  return out;
}

/** Writes np.savez(file, **arrays). */
export function writeNpz(file: string, arrays: Record<string, Array64>, descr: '<f8' | '<f4' = '<f8'): string {
  writeFileSync(file, zipSync(Object.fromEntries(Object.entries(arrays).map(([name, a]) => [`${name}.npy`, npy(a, descr)]))));
  return file;
}
