// Finding a test's processes in /proc, to prove that nothing a user's program started outlives a
// check (test/exec-lifetime.test.ts, test/session-lifetime.test.ts).
import { readdirSync, readFileSync } from 'node:fs';

/** Live processes (not zombies) whose command line (argv) passes `test`. */
export function running(test: (cmd: string[]) => boolean): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').filter(Boolean);
      const state = readFileSync(`/proc/${name}/stat`, 'utf8').replace(/^.*\) /s, '')[0];
      if (state !== 'Z' && test(cmd)) found.push(Number(name));
    } catch { /* gone meanwhile */ }
  }
  return found;
}

/** Processes whose command line is exactly `sleep <seconds>`: a test sleeps for a number no other test uses. */
export const sleeping = (seconds: string): number[] => running((cmd) => cmd.length === 2 && /(^|\/)sleep$/.test(cmd[0]) && cmd[1] === seconds);

/** Waits (a SIGKILL takes effect soon, not at once) until `find` finds none, for up to 10 s. */
export async function goneSoon(find: () => number[]): Promise<boolean> {
  for (let i = 0; i < 100 && find().length > 0; i++) await new Promise((r) => setTimeout(r, 100));
  return find().length === 0;
}

/** Waits until `condition` holds, for up to 15 s. */
export async function until(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 300 && !condition(); i++) await new Promise((r) => setTimeout(r, 50));
}
