// The one place a result becomes an exit status. 0: every check passed. 1: a tensor failed, or
// nothing could be checked (report.ok is false), or with --strict a health finding of severity
// warning or error. 2: bad input or usage (a UserError). 3: a bug in backprop-check. 130: Ctrl-C.
import { healthFails } from '../core/diagnose/index.js';
import type { Report } from '../core/report.js';

export const EXIT = { pass: 0, fail: 1, usage: 2, internal: 3, interrupted: 130 } as const;

/** The exit status of a check that ran to its end or was interrupted. */
export function reportStatus(report: Report, strict: boolean): number {
  if (report.partial) return EXIT.interrupted;
  return report.ok && !(strict && healthFails(report)) ? EXIT.pass : EXIT.fail;
}
