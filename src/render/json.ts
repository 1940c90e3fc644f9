// The JSON report (docs/formats.md). Non-finite numbers (which JSON cannot hold) become null.
// The chart data of the HTML report (per-element values of failing tensors, activation
// histograms) is left out: it would bury the report under thousands of one-number lines.
import type { Report } from '../core/report.js';

export function renderJson(report: Report): string {
  return JSON.stringify(withoutChartData(report), (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 2) + '\n';
}

/** The report as --format json has it (the library API returns this too). */
export function withoutChartData(report: Report): Report {
  return {
    ...report,
    checks: report.checks.map(({ values: _values, ...check }) => check),
    health: { ...report.health, layers: report.health.layers.map(({ histogram: _histogram, ...layer }) => layer) },
  };
}
