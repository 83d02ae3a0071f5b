import type { BenchReport, Check, Measurement } from './framework';
import { median, percent } from './stats';
import type { LoadResult } from './wrk';

const fixed = (value: number, digits: number) => (Number.isFinite(value) ? value.toFixed(digits) : '–');

/** The table every benchmark prints: one row per measurement, its requests/s also as a share of the ceiling. */
export function formatTable(rows: readonly Measurement[], ceiling: Measurement): string[] {
  const width = Math.max(4, ...rows.map((r) => r.name.length));
  const header = `${'case'.padEnd(width)}  conns    req/s   p50 ms   p99 ms   of ceiling${rows.some((r) => r.errors > 0) ? '   errors' : ''}`;
  return [
    header,
    ...rows.map((r) =>
      [
        r.name.padEnd(width),
        String(r.connections).padStart(5),
        fixed(r.requestsPerSecond, 0).padStart(8),
        fixed(r.p50Ms, 2).padStart(8),
        fixed(r.p99Ms, 2).padStart(8),
        percent(r.requestsPerSecond, ceiling.requestsPerSecond).padStart(12),
        r.errors > 0 ? String(r.errors).padStart(8) : '',
      ]
        .join(' ')
        .trimEnd(),
    ),
  ];
}

export const formatCheck = (check: Check): string => `${check.pass ? 'PASS' : 'FAIL'}  ${check.name}: ${check.detail}`;

/** A benchmark's whole block of output. */
export function formatReport(name: string, description: string, report: BenchReport, ceiling: Measurement): string {
  return [
    `== ${name}: ${description}`,
    ...formatTable(report.rows, ceiling),
    ...(report.notes ?? []),
    ...(report.checks ?? []).map(formatCheck),
  ].join('\n');
}

/**
 * A target "at least `min` of the ceiling's requests/s". A row measured with the ceiling `beside` it is judged by the
 * median of its paired runs' shares (each run against the ceiling run just before it); otherwise against `ceiling`.
 */
export function shareCheck(name: string, measured: Measurement, ceiling: Measurement, min: number): Check {
  const paired = measured.besideRuns;
  if (paired && paired.length === measured.runs.length && paired.length > 0) {
    const shares = measured.runs.map((run, i) => run.requestsPerSecond / (paired[i] as LoadResult).requestsPerSecond);
    const share = median(shares);
    return {
      name,
      pass: share >= min,
      detail:
        `${percent(share, 1)}, the median of ${shares.length} runs each against a ceiling run just before it ` +
        `(${shares.map((s) => percent(s, 1)).join(', ')}; the ceiling ${paired.map((r) => fixed(r.requestsPerSecond, 0)).join(', ')} req/s) ` +
        `(target ≥ ${percent(min, 1)})`,
    };
  }
  const share = measured.requestsPerSecond / ceiling.requestsPerSecond;
  return { name, pass: share >= min, detail: `${percent(share, 1)} of ${fixed(ceiling.requestsPerSecond, 0)} req/s (target ≥ ${percent(min, 1)})` };
}
