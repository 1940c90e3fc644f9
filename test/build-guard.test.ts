// The globalSetup (test/helpers/build.ts) that keeps the end-to-end tests on the current source:
// dist/ older than a touched source file is rebuilt before any test runs, and a build that fails
// stops the run with why, instead of the end-to-end tests silently running the old dist/.
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureCurrentBuild, type Build } from './helpers/build.js';
import { OUTPUTS } from '../scripts/build-if-stale.mjs';

const INPUTS = ['src', 'src/core', 'src/core/check.ts', 'scripts/bundle.mjs', 'package.json', 'tsconfig.json'];

describe('the stale-build guard', () => {
  let tree: string;
  const at = (path: string, seconds: number) => utimesSync(join(tree, path), seconds, seconds);
  /** A build that writes every output now, as npm run build does. */
  const builds: string[] = [];
  const build = (dir: string): Build => {
    builds.push(dir);
    for (const out of OUTPUTS) writeFileSync(join(dir, out), '');
    return { status: 0, output: '' };
  };

  const quiet = () => true;

  beforeAll(() => {
    tree = mkdtempSync(join(tmpdir(), 'bpc-guard-'));
    for (const d of ['src/core', 'scripts', 'dist/cli']) mkdirSync(join(tree, d), { recursive: true });
    for (const f of ['src/core/check.ts', 'scripts/bundle.mjs', 'package.json', 'tsconfig.json', ...OUTPUTS]) writeFileSync(join(tree, f), '');
  });
  afterAll(() => rmSync(tree, { recursive: true, force: true }));

  /** Inputs at t = 1000 s, outputs at t = 2000 s. */
  function current(): void {
    for (const p of INPUTS) at(p, 1000);
    for (const p of OUTPUTS) at(p, 2000);
    builds.length = 0;
  }

  it('leaves a current dist/ alone', () => {
    current();
    expect(ensureCurrentBuild(tree, build, quiet)).toBeNull();
    expect(builds).toEqual([]);
  });

  it('rebuilds when a source file was touched after the build', () => {
    current();
    at('src/core/check.ts', 3000);
    expect(ensureCurrentBuild(tree, build, quiet)).toBe('src/core/check.ts is newer than dist/cli/bundle.js');
    expect(builds).toEqual([tree]);
    expect(ensureCurrentBuild(tree, build, quiet)).toBeNull();
  });

  it('stops the run when the build fails, saying why dist/ was stale and what the build printed', () => {
    current();
    at('src/core/check.ts', 3000);
    expect(() => ensureCurrentBuild(tree, () => ({ status: 2, output: 'error TS2322: nope' }), quiet))
      .toThrow('dist/ is stale (src/core/check.ts is newer than dist/cli/bundle.js) and npm run build failed (status 2), so the end-to-end tests would run an old build:\nerror TS2322: nope');
  });

  it('stops the run when a build that succeeded left dist/ stale', () => {
    current();
    at('src/core/check.ts', 3000);
    expect(() => ensureCurrentBuild(tree, () => ({ status: 0, output: '' }), quiet))
      .toThrow('npm run build succeeded but dist/ is still stale (src/core/check.ts is newer than dist/cli/bundle.js)');
  });
});
