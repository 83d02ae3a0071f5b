import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

/** One load run's outcome, as wrk measured it. */
export interface LoadResult {
  requests: number;
  seconds: number;
  requestsPerSecond: number;
  p50Ms: number;
  /** Absent only when parsing a summary line from before p95 was printed. */
  p95Ms?: number;
  p99Ms: number;
  /** Responses with status ≥ 400 plus connect/read/write errors and timeouts; any of them spoils the run. */
  errors: number;
  /** The responses with status ≥ 400 among them (the rest are socket errors and timeouts). */
  statusErrors: number;
}

export interface LoadOptions {
  url: string;
  /** GET when absent; e.g. POST for a route that hands something out. Sent without a body. */
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  connections: number;
  seconds: number;
  threads?: number;
}

const marker = 'MERCATO_WRK ';

/** wrk's `done` hook prints exact percentiles as one JSON line, instead of its rounded human summary. */
export const wrkScript = `done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('${marker}{"requests":%d,"durationUs":%d,"p50Us":%.1f,"p95Us":%.1f,"p99Us":%.1f,"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95), latency:percentile(99),
    e.connect, e.read, e.write, e.status, e.timeout))
end
`;

const report = z.object({
  requests: z.number().int().nonnegative(),
  durationUs: z.number().positive(),
  p50Us: z.number().nonnegative(),
  p95Us: z.number().nonnegative().optional(),
  p99Us: z.number().nonnegative(),
  connect: z.number().int().nonnegative(),
  read: z.number().int().nonnegative(),
  write: z.number().int().nonnegative(),
  status: z.number().int().nonnegative(),
  timeout: z.number().int().nonnegative(),
});

/** Reads the line `wrkScript` prints; throws with wrk's own output when it is missing (wrong URL, wrk crashed). */
export function parseWrkOutput(stdout: string): LoadResult {
  const line = stdout.split('\n').find((l) => l.startsWith(marker));
  if (!line) throw new Error(`wrk printed no summary:\n${stdout.trim()}`);
  const r = report.parse(JSON.parse(line.slice(marker.length)));
  const seconds = r.durationUs / 1e6;
  const result: LoadResult = {
    requests: r.requests,
    seconds,
    requestsPerSecond: r.requests / seconds,
    p50Ms: r.p50Us / 1000,
    p99Ms: r.p99Us / 1000,
    errors: r.connect + r.read + r.write + r.status + r.timeout,
    statusErrors: r.status,
  };
  if (r.p95Us !== undefined) result.p95Ms = r.p95Us / 1000;
  return result;
}

export function wrkArgs(options: LoadOptions, scriptFile: string): string[] {
  const threads = Math.max(1, Math.min(options.threads ?? 2, options.connections));
  return [
    `-t${threads}`, `-c${options.connections}`, `-d${options.seconds}s`, '--timeout', '10s', '-s', scriptFile,
    ...Object.entries(options.headers ?? {}).flatMap(([name, value]) => ['-H', `${name}: ${value}`]),
    options.url,
  ];
}

/** Runs wrk once; the run is bounded by `seconds` (wrk stops itself) plus a margin after which it is killed. */
export async function runWrk(options: LoadOptions, workDir: string): Promise<LoadResult> {
  const scriptFile = path.join(workDir, 'report.lua');
  writeFileSync(scriptFile, options.method && options.method !== 'GET' ? `wrk.method = "${options.method}"\n${wrkScript}` : wrkScript);
  const child = spawn('wrk', wrkArgs(options, scriptFile), { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  const killer = setTimeout(() => child.kill('SIGKILL'), (options.seconds + 30) * 1000);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', resolve);
  }).finally(() => clearTimeout(killer));
  if (code !== 0) throw new Error(`wrk exited with ${code}:\n${out.trim()}`);
  return parseWrkOutput(out);
}
