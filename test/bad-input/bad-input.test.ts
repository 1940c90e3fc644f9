// The bad-input corpus. Every folder under cases/ is one mistake a user makes: the bad file(s) and
// a case.json with the command-line arguments (run from that folder; good inputs come from
// ../../shared), the file and place the message must name, and the exact message. Each case asserts
// exit status 2, nothing on stdout, no stack trace, one line on stderr that starts with
// "<file>, <place>: expected …; found …", and the whole message exactly.
//
// Cases marked "spawn" (one or more per kind of file, and every --exec case) spawn the built binary
// itself; the rest run through the same main() in one child process (harness.mjs), which keeps the
// corpus to seconds instead of one Node start-up per case.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { root, runCli, runNode, type CliOptions } from '../helpers/cli.js';

const here = new URL('.', import.meta.url).pathname;
const casesDir = join(here, 'cases');

interface Case {
  why: string;
  args: string[];
  env?: Record<string, string>;
  /** The file (or "command line") the message names first. */
  file: string;
  /** The place in it: a JSON path, a row and column, a tensor, a flag; "" when the whole file is wrong. */
  place: string;
  /** The whole message after "backprop-check: ". */
  message: string;
  /** Only these substrings, where the exact text depends on the machine (a shell's own words). */
  contains?: string[];
  /** Spawn bin/backprop-check.js for this case instead of running it through the harness. */
  spawn?: boolean;
  /** --exec cases: what the program itself writes to stderr, passed through before the message… */
  programStderr?: string;
  /** …or, where a shell words it (a missing command), that something is passed through before it. */
  passThrough?: boolean;
}

interface Outcome { status: number | null; stdout: string; stderr: string }

const names = readdirSync(casesDir).filter((n) => existsSync(join(casesDir, n, 'case.json'))).sort();
const cases = new Map(names.map((n) => [n, JSON.parse(readFileSync(join(casesDir, n, 'case.json'), 'utf8')) as Case]));
const outcomes = new Map<string, Outcome>();

/** In `cwd`, colour off; a case's env on top, and the CSV size limit only when the case sets it. */
const childOptions = (cwd: string, extra: Record<string, string> = {}): CliOptions =>
  ({ cwd, timeout: 300_000, env: { BACKPROP_CHECK_MAX_CSV_BYTES: undefined, ...extra } });

beforeAll(async () => {
  const spawned = names.filter((n) => cases.get(n)!.spawn);
  const inProcess = names.filter((n) => !cases.get(n)!.spawn);
  const harness = runNode([join(here, 'harness.mjs'), casesDir, ...inProcess], childOptions(root)).then((r) => {
    if (r.status !== 0) throw new Error(`the harness failed (status ${r.status}): ${r.stderr}`);
    for (const [name, outcome] of Object.entries(JSON.parse(r.stdout) as Record<string, Outcome>)) outcomes.set(name, outcome);
  });
  // One spawned case at a time beside the harness: the machine is small and shared.
  for (const name of spawned) {
    const c = cases.get(name)!;
    outcomes.set(name, await runCli(c.args, childOptions(join(casesDir, name), c.env)));
  }
  await harness;
}, 600_000);

describe('the bad-input corpus', () => {
  it('has at least 60 cases, each with a message to assert', () => {
    expect(cases.size).toBeGreaterThanOrEqual(60);
    for (const [name, c] of cases) expect(c.message ?? c.contains, name).toBeTruthy();
  });

  it.each(names)('%s', (name) => {
    const c = cases.get(name)!;
    const r = outcomes.get(name)!;
    expect(r.stdout, 'nothing on stdout').toBe('');
    expect(r.stderr, 'no stack trace').not.toMatch(/\n\s+at /);
    expect(r.status, `exit status 2 (${c.why}); stderr: ${r.stderr}`).toBe(2);
    // An --exec program's own stderr comes first, passed through as it was written.
    let ours = r.stderr;
    if (c.programStderr !== undefined) {
      expect(r.stderr.startsWith(c.programStderr), 'the program’s stderr, passed through').toBe(true);
      ours = r.stderr.slice(c.programStderr.length);
    } else if (c.passThrough) {
      ours = r.stderr.slice(r.stderr.lastIndexOf('\nbackprop-check: ') + 1);
    }
    expect(ours.startsWith('backprop-check: ') && ours.endsWith('\n') && ours.indexOf('\n') === ours.length - 1, `one line: ${ours}`).toBe(true);
    const message = ours.replace(/^backprop-check: /, '').replace(/\n$/, '');
    expect(message.startsWith(`${c.file}${c.place ? `, ${c.place}` : ''}: expected `), `names ${c.file} and ${c.place || 'no place'}: ${message}`).toBe(true);
    expect(message).toMatch(/: expected .+; found .+/);
    if (c.contains) for (const s of c.contains) expect(message).toContain(s);
    else expect(message).toBe(c.message);
  });
});
