#!/usr/bin/env node
// `npm run build`, but only when dist/ is older than what it is built from. This is the `prepare`
// script, which npm runs far more often than dist changes:
// - `npm install` in the clone (and again on every later `npm install`);
// - the first `npx backprop-check` in the clone: npm exec sees that the command is the project's
//   own bin, installs the project into its npx cache as a link (libnpmexec: "self-execution of a
//   local bin") and runs the link's `prepare`, a full 10–17 s build of a dist that is already there;
// - `npm pack` and `npm install ../backprop-check` (a linked directory).
// An install from git runs it in a fresh clone, which has no dist/, so it builds.
//
// dist/ is current when every required output exists and the oldest of them is newer than every
// input: each file and folder under src/ (a folder's mtime changes when a file in it is added,
// removed or renamed), scripts/bundle.mjs, package.json and tsconfig.json. dist/cli/bundle.js is
// written last by the build, so a build that failed part-way leaves dist/ stale. `npm run build`
// always builds.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** What the build writes and what the package needs of it. */
export const OUTPUTS = ['dist/cli/bundle.js', 'dist/cli/code-cache.cjs', 'dist/library.mjs', 'dist/cli/library.cjs', 'dist/index.js', 'dist/index.d.ts', 'dist/cli/row-worker.js'];
/** What the build reads besides node_modules: folders are walked. */
export const INPUTS = ['src', 'scripts/bundle.mjs', 'package.json', 'tsconfig.json'];

/** The newest mtime under `path` (itself included), with the path that has it. */
function newest(path) {
  const s = statSync(path);
  let best = { path, mtimeMs: s.mtimeMs };
  if (s.isDirectory()) {
    for (const name of readdirSync(path)) {
      const inner = newest(join(path, name));
      if (inner.mtimeMs > best.mtimeMs) best = inner;
    }
  }
  return best;
}

/** Why dist/ under `root` must be rebuilt, or null when it is current. */
export function staleReason(root) {
  let oldest = null;
  for (const out of OUTPUTS) {
    const s = statSync(join(root, out), { throwIfNoEntry: false });
    if (!s) return `${out} does not exist`;
    if (oldest === null || s.mtimeMs < oldest.mtimeMs) oldest = { path: out, mtimeMs: s.mtimeMs };
  }
  for (const input of INPUTS) {
    const n = newest(join(root, input));
    if (n.mtimeMs >= oldest.mtimeMs) return `${relative(root, n.path)} is newer than ${oldest.path}`;
  }
  return null;
}

function main() {
  const root = fileURLToPath(new URL('../', import.meta.url));
  const reason = staleReason(root);
  if (reason === null) {
    process.stderr.write('backprop-check: dist/ is up to date with src/, so it is not rebuilt (npm run build forces a build).\n');
    return 0;
  }
  process.stderr.write(`backprop-check: building dist/ (${reason}).\n`);
  // npm sets npm_execpath for a lifecycle script; run the same npm, else the one on PATH.
  const npm = process.env.npm_execpath;
  const r = npm
    ? spawnSync(process.execPath, [npm, 'run', 'build'], { cwd: root, stdio: 'inherit' })
    : spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
  if (r.error) {
    process.stderr.write(`backprop-check: could not run npm run build: ${r.error.message}\n`);
    return 1;
  }
  return r.status ?? 1;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) process.exitCode = main();
