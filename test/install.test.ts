// Installing backprop-check into one's own project, as the README's CI recipe does: `npm pack`, then
// `npm install ./backprop-check-0.1.0.tgz` in a scratch project, then `npx backprop-check` there.
// The runtime dependencies come from npm's cache when they are in it (--prefer-offline), else from
// the registry. Also: what the tarball holds, and when `prepare` rebuilds dist/.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script, no declarations
import { OUTPUTS, staleReason } from '../scripts/build-if-stale.mjs';

const root = new URL('..', import.meta.url).pathname;
const version: string = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;

describe('npm pack → npm install ./backprop-check.tgz → npx backprop-check', () => {
  let dir: string, project: string, files: string[];
  const fixture = (name: string) => [join(root, `fixtures/${name}/net.json`), join(root, `fixtures/${name}/data.csv`)];
  const env = { ...process.env, NO_COLOR: '1', FORCE_COLOR: undefined };
  const npx = (args: string[]) => spawnSync('npx', ['--no-install', 'backprop-check', ...args], { cwd: project, encoding: 'utf8', env });

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'bpc-install-'));
    // Packs dist/ as it is (npm test has just built it): with prepare, a stale dist/ would be rebuilt
    // here while other test files run the binary from it.
    const packed = JSON.parse(execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
    files = packed[0].files.map((f: { path: string }) => f.path);
    project = join(dir, 'project');
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'scratch', version: '1.0.0', private: true }));
    execFileSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', join(dir, `backprop-check-${version}.tgz`)], { cwd: project, stdio: 'ignore' });
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('the tarball holds the built command line and library, and no sources, tests, fixtures or dev-only builds', () => {
    for (const f of ['bin/backprop-check.js', 'bin/package.json', 'dist/cli/code-cache.cjs', 'dist/library.mjs', 'dist/cli/library.cjs', 'dist/cli/library.cjs.cache', 'dist/cli/bundle.js', 'dist/index.js', 'dist/index.d.ts', 'dist/cli/row-worker.js', 'package.json', 'README.md']) expect(files).toContain(f);
    const unneeded = files.filter((f) => /^(src|test|tools|fixtures|scripts|docs|build)\/|^dist\/cli\/(main|exit-status)\.|(?<!cli\/bundle)\.js\.map$/.test(f));
    expect(unneeded).toEqual([]);
  });

  it('fixtures/seed (the buggy backward formulas) exits 1 and names the failing tensors', () => {
    const r = npx(fixture('seed'));
    expect(r.stderr).toBe('');
    expect(r.status).toBe(1);
    expect(r.stdout).toContain('✗ 8 of 8 tensors fail');
  });

  it('fixtures/xor (correct backprop) exits 0', () => {
    const r = npx([...fixture('xor'), '--format', 'junit']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('<testsuite name="backprop-check" tests="4" failures="0"');
  });

  it('the library imports from the installed package', () => {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e',
      `import { check } from 'backprop-check'; const r = await check({ net: ${JSON.stringify(fixture('xor')[0])}, data: ${JSON.stringify(fixture('xor')[1])} }); console.log(r.ok, r.checks.length);`],
    { cwd: project, encoding: 'utf8', env });
    expect(r.stderr).toBe('');
    expect(r.stdout).toBe('true 4\n');
  });
});

describe('prepare (scripts/build-if-stale.mjs) rebuilds dist/ only when it is older than its inputs', () => {
  let tree: string;
  const at = (path: string, seconds: number) => utimesSync(join(tree, path), seconds, seconds);

  beforeAll(() => {
    tree = mkdtempSync(join(tmpdir(), 'bpc-stale-'));
    for (const d of ['src/core', 'scripts', 'dist/cli']) mkdirSync(join(tree, d), { recursive: true });
    for (const f of ['src/cli.ts', 'src/core/check.ts', 'scripts/bundle.mjs', 'package.json', 'tsconfig.json', ...OUTPUTS]) writeFileSync(join(tree, f), '');
  });
  afterAll(() => rmSync(tree, { recursive: true, force: true }));

  /** Inputs (files and folders) at t = 1000 s, outputs at t = 2000 s. */
  function current(): void {
    for (const p of ['src', 'src/core', 'src/cli.ts', 'src/core/check.ts', 'scripts/bundle.mjs', 'package.json', 'tsconfig.json']) at(p, 1000);
    for (const p of OUTPUTS) at(p, 2000);
  }

  it('is current when every output is newer than every input', () => {
    current();
    expect(staleReason(tree)).toBeNull();
  });

  it.each([
    ['src/core/check.ts', 'src/core/check.ts is newer than dist/cli/bundle.js'],
    ['src/core', 'src/core is newer than dist/cli/bundle.js'],
    ['scripts/bundle.mjs', 'scripts/bundle.mjs is newer than dist/cli/bundle.js'],
    ['package.json', 'package.json is newer than dist/cli/bundle.js'],
    ['tsconfig.json', 'tsconfig.json is newer than dist/cli/bundle.js'],
  ])('is stale when %s changed after the build', (input, reason) => {
    current();
    at('dist/cli/bundle.js', 1500);
    at(input, 1600);
    expect(staleReason(tree)).toBe(reason);
  });

  it('is stale when the build stopped before the bundle (dist/cli/bundle.js older than the sources)', () => {
    current();
    at('dist/cli/bundle.js', 900);
    expect(staleReason(tree)).toBe('src is newer than dist/cli/bundle.js');
  });

  it('is stale when an output is missing (a fresh clone, or an install from git)', () => {
    current();
    rmSync(join(tree, 'dist/cli/row-worker.js'));
    expect(staleReason(tree)).toBe('dist/cli/row-worker.js does not exist');
    cpSync(join(tree, 'dist/index.js'), join(tree, 'dist/cli/row-worker.js'));
  });
});
