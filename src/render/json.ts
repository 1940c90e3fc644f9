// The JSON report of SPEC.md. Non-finite numbers (which JSON cannot hold) become null.
import type { Report } from '../core/report.js';

export function renderJson(report: Report): string {
  return JSON.stringify(report, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) + '\n';
}
