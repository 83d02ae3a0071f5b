#!/usr/bin/env node
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fetchToken } from '../keycloak';
import { internalServices, platformServices, type ServiceSpec } from '../services';
import { startStack, type Stack } from '../stack';
import { measureTarget, type BenchContext, type BenchSettings, type Benchmark, type Measurement } from './framework';
import { ceilingProcesses, ceilingTarget, helloSpec } from './hello';
import { benchmarks } from './registry';
import { formatReport } from './report';

/**
 * `npm run bench [-- name…]`: starts the real platform once (plus the hello-world ceiling app and whatever the chosen
 * benchmarks add), runs the chosen benchmarks (all when none is named) and prints each one's table against the ceiling
 * measured in the same run. Load comes from wrk, on loopback, each run bounded in time.
 */
const positive = (name: string, fallback: number): number => {
  const raw = process.env[name];
  const value = raw === undefined ? fallback : Number(raw);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${name} must be a positive number, not "${raw}"`);
  return value;
};

const say = (message: string) => process.stdout.write(`[bench] ${message}\n`);

function choose(names: readonly string[]): Benchmark[] {
  if (names.length === 0) return [...benchmarks];
  const unknown = names.filter((n) => !benchmarks.some((b) => b.name === n));
  if (unknown.length > 0) {
    throw new Error(`unknown benchmark ${unknown.join(', ')}; known: ${benchmarks.map((b) => b.name).join(', ')}`);
  }
  return benchmarks.filter((b) => names.includes(b.name));
}

async function main(): Promise<number> {
  const args = process.argv.slice(2);
  if (args.includes('--list')) {
    for (const b of benchmarks) process.stdout.write(`${b.name.padEnd(12)} ${b.description}\n`);
    return 0;
  }
  const chosen = choose(args);
  const settings: BenchSettings = {
    seconds: positive('BENCH_SECONDS', 10),
    warmupSeconds: positive('BENCH_WARMUP_SECONDS', 2),
    runs: Math.round(positive('BENCH_RUNS', 3)),
    connections: Math.round(positive('BENCH_CONNECTIONS', 16)),
    threads: Math.round(positive('BENCH_THREADS', 2)),
  };
  const services = new Map<string, ServiceSpec>();
  // The internal apps too (the actor host): with it every service counts people's requests, as a real platform does.
  for (const s of [...platformServices, ...internalServices, helloSpec, ...chosen.flatMap((b) => b.services ?? [])]) services.set(s.appId, s);

  const [load1] = loadavg();
  say(
    `${chosen.map((b) => b.name).join(', ')}: wrk, ${settings.connections} connections, median of ${settings.runs} × ${settings.seconds} s ` +
      `(after ${settings.warmupSeconds} s warm-up); ${cpus().length} cores, load average ${load1?.toFixed(2)} at start`,
  );
  const workDir = mkdtempSync(path.join(tmpdir(), 'mercato-bench-'));
  // mkdtemp makes it 0700; nginx's workers (user `nobody` when started as root) must reach their temp folder inside it
  // to buffer a request body over 16 KB (an audit batch), or every such request fails.
  chmodSync(workDir, 0o755);
  let stack: Stack | undefined;
  let failed = false;
  let broken = false;
  try {
    say('starting the platform (Redis, FerretDB, Keycloak, Dapr, nginx, the apps)…');
    stack = await startStack({
      runDir: path.join(workDir, 'stack'),
      persistent: false,
      services: [...services.values()],
      // The services' own default: one request line per request stays on while measuring, as in production.
      logLevel: 'http',
      progress: (m) => say(m),
    });
    const running = stack;
    const bearer = async (username = 'viewer') => ({
      authorization: `Bearer ${await fetchToken(running.keycloakUrl, { username, password: username })}`,
    });
    let ceiling: Promise<Measurement> | undefined;
    const context: BenchContext = {
      stack: running,
      settings,
      measure: (target, options) => measureTarget(running, settings, workDir, target, options),
      ceiling: () => (ceiling ??= measureTarget(running, settings, workDir, ceilingTarget(running, () => bearer()), { cpuOf: ceilingProcesses })),
      bearer,
      progress: (m) => say(`  ${m}`),
    };
    for (const benchmark of chosen) {
      say(`running ${benchmark.name}…`);
      try {
        const report = await benchmark.run(context);
        const errors = report.rows.reduce((sum, r) => sum + r.errors, 0);
        const statusErrors = report.rows.reduce((sum, r) => sum + r.statusErrors, 0);
        process.stdout.write(`\n${formatReport(benchmark.name, benchmark.description, report, await context.ceiling())}\n\n`);
        if (errors > 0) {
          say(`${benchmark.name}: ${errors} requests failed: ${statusErrors} answered status ≥ 400, ${errors - statusErrors} socket errors or timeouts`);
        }
        broken ||= errors > 0;
        failed ||= errors > 0 || (report.checks ?? []).some((c) => !c.pass);
      } catch (error) {
        failed = true;
        broken = true;
        say(`${benchmark.name} failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
  } finally {
    await stack?.stop();
    // A run with failed requests keeps its processes' logs (sidecar crashes, refused tokens) for a look afterwards.
    if (broken && stack) say(`logs kept in ${path.join(stack.runDir, 'logs')}`);
    else rmSync(workDir, { recursive: true, force: true });
  }
  return failed ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    say(`failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  },
);
