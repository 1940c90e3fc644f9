// The findings registry: every code has its record (category, severities, --explain text), and
// every code a finding can carry is registered — the catalogue's mistake records and every code
// written in the source.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { categoryOf, explain, FINDING_CODES, isFindingCode, severitiesOf } from '../src/core/findings/registry.js';
import { MISTAKE_KINDS } from '../src/core/diagnose/mutations.js';

const LABEL = { root: 'a root cause', propagated: 'propagated', health: 'health', numerics: 'numerics', input: 'input' };

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []);
}

describe('findings registry', () => {
  it('gives every code a category, its severities and an --explain text', () => {
    expect(new Set(FINDING_CODES).size).toBe(FINDING_CODES.length);
    for (const code of FINDING_CODES) {
      const category = categoryOf(code)!;
      expect(LABEL[category], code).toBeDefined();
      expect(severitiesOf(code).length, code).toBeGreaterThan(0);
      for (const s of severitiesOf(code)) expect(['error', 'warning', 'info']).toContain(s);
      expect(explain(code), code).toMatch(new RegExp(`^${code}: .+ \\(${LABEL[category]}\\)\\n\\n[^]+\\n$`));
    }
    expect(isFindingCode('nope')).toBe(false);
    expect(severitiesOf('nope')).toEqual([]);
  });

  it('registers the code of every catalogued mistake, as a root cause that may be latent', () => {
    for (const kind of MISTAKE_KINDS) {
      expect(isFindingCode(kind.code), kind.id).toBe(true);
      expect(categoryOf(kind.code), kind.id).toBe('root');
      // A mistake that does not make its layer fail on this data is reported as a warning.
      expect(severitiesOf(kind.code), kind.id).toEqual(expect.arrayContaining(['error', 'warning']));
    }
  });

  it('registers every code the source writes into a finding', () => {
    const written = new Set<string>();
    for (const file of sources(join(__dirname, '..', 'src'))) {
      for (const m of readFileSync(file, 'utf8').matchAll(/\bcode: '([a-z][a-z0-9-]*)'/g)) written.add(m[1]);
    }
    expect(written.size).toBeGreaterThan(10);
    expect([...written].filter((c) => !isFindingCode(c))).toEqual([]);
  });
});
