// The real-bug corpus (test/real-bugs/, tools/real-bugs.ts): backprop that people published with a
// bug in it (course forums, GitHub issues and pull requests, Q&A sites), reproduced in NumPy with
// their formulas, and each one's fix. Run through the built command line as its user would run it,
// at least 90% of the bugs must be named (an expected code at the expected layer, as an error) and
// no fix may get a root-cause finding. On failure the whole table is printed.
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { REAL_BUG_RATE, realBugs, realBugTable, renderRealBugs } from '../tools/real-bugs.js';
import { isFindingCode } from '../src/core/findings/registry.js';
import { pythonWith } from './helpers/python.js';

describe('the real-bug corpus', () => {
  const cases = realBugs();

  it('holds at least 20 published bugs, each with its source, the quoted lines, the bug, the expected codes and its files', () => {
    expect(cases.length).toBeGreaterThanOrEqual(20);
    for (const c of cases) {
      expect(c.source, c.id).toMatch(/^https?:\/\//);
      expect(c.quote.trim().length, c.id).toBeGreaterThan(0);
      expect(c.bug.trim().length, c.id).toBeGreaterThan(0);
      // An empty list is a bug no finding code names yet (it counts as not named, never as a pass).
      expect(Array.isArray(c.expect.codes), c.id).toBe(true);
      for (const code of c.expect.codes) expect(isFindingCode(code), `${c.id}: ${code} is not a finding code`).toBe(true);
      expect(c.expect.layer, c.id).toBeGreaterThanOrEqual(1);
      // A net.json case ships its files; a --model case serves itself from case.py.
      for (const arg of [...c.args, ...c.fixedArgs]) {
        if (/\.(json|npz|csv)$/.test(arg)) expect(existsSync(join(c.dir, arg)), `${c.id}: ${arg}`).toBe(true);
      }
    }
  });

  it('names at least 90% of the bugs and gives no fix a root cause', () => {
    const rows = realBugTable(pythonWith('numpy', 'The real-bug corpus\'s --model cases'));
    const table = renderRealBugs(rows);
    const falseAlarms = rows.filter((r) => !r.clean).map((r) => r.bug.id);
    expect(falseAlarms, table.text).toEqual([]);
    expect(table.named, table.text).toBeGreaterThanOrEqual(Math.ceil(REAL_BUG_RATE * table.total));
  }, 900_000);
});
