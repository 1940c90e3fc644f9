// vitest globalSetup: the end-to-end tests run dist/ (through bin/backprop-check.js and
// dist/index.js) while the unit tests import src/, so before any test runs dist/ is made current
// with src/ — rebuilt when scripts/build-if-stale.mjs finds it stale, or the run stops with why.
// `npm test` builds first, so here it only checks; `npx vitest run` after an edit builds.
import { spawnSync } from 'node:child_process';
// @ts-expect-error: a plain .mjs script, no declarations
import { staleReason } from '../../scripts/build-if-stale.mjs';
import { root } from './cli.js';

export interface Build { status: number | null; output: string }

/** `npm run build` in `dir`, its output captured for the message when it fails. */
function npmRunBuild(dir: string): Build {
  const r = spawnSync('npm', ['run', 'build'], { cwd: dir, encoding: 'utf8', maxBuffer: 1 << 26 });
  return { status: r.error ? null : r.status, output: r.error ? r.error.message : `${r.stdout}${r.stderr}` };
}

/**
 * Builds dist/ under `dir` when it is stale; throws (stopping the test run) when the build fails or
 * leaves dist/ stale. Returns why it built, or null when dist/ was current.
 */
export function ensureCurrentBuild(dir: string, build: (dir: string) => Build = npmRunBuild, say = (line: string) => process.stderr.write(line)): string | null {
  const reason: string | null = staleReason(dir);
  if (reason === null) return null;
  say(`backprop-check tests: building dist/ (${reason}), so that the end-to-end tests run the current source.\n`);
  const r = build(dir);
  if (r.status !== 0) {
    throw new Error(`dist/ is stale (${reason}) and npm run build failed (status ${r.status}), so the end-to-end tests would run an old build:\n${r.output}`);
  }
  const still: string | null = staleReason(dir);
  if (still !== null) throw new Error(`npm run build succeeded but dist/ is still stale (${still}): the end-to-end tests would run an old build.`);
  return reason;
}

export default function setup(): void {
  ensureCurrentBuild(root);
}
