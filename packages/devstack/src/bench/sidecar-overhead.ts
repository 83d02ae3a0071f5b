#!/usr/bin/env node
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fetchToken } from '../keycloak';
import { startStack, type Stack } from '../stack';

/**
 * What the Dapr hop costs: one category read three ways in the same run —
 *   baseline: straight to the app (app token + bearer, no sidecar),
 *   sidecar:  through daprd's invocation API (bearer check in the app pipeline),
 *   ingress:  nginx → daprd → app, as clients see it.
 * Loops are bounded in count and time and only touch loopback.
 */
const requestsPerCase = Number(process.env['BENCH_REQUESTS'] ?? 2000);
const concurrency = Number(process.env['BENCH_CONCURRENCY'] ?? 8);
const maxSecondsPerCase = Number(process.env['BENCH_MAX_SECONDS'] ?? 30);

interface Result {
  name: string;
  requests: number;
  seconds: number;
  p50: number;
  p95: number;
  failures: number;
}

async function measure(name: string, url: string, headers: Record<string, string>): Promise<Result> {
  for (let i = 0; i < 50; i++) await fetch(url, { headers }).then((r) => r.arrayBuffer()); // warm-up
  const latencies: number[] = [];
  let failures = 0;
  let issued = 0;
  const started = performance.now();
  const deadline = started + maxSecondsPerCase * 1000;
  const worker = async () => {
    while (issued < requestsPerCase && performance.now() < deadline) {
      issued++;
      const t0 = performance.now();
      const response = await fetch(url, { headers });
      await response.arrayBuffer();
      latencies.push(performance.now() - t0);
      if (response.status !== 200) failures++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return { name, requests: latencies.length, seconds, p50: at(0.5), p95: at(0.95), failures };
}

function printTable(title: string, results: Result[]) {
  const base = results[0]!;
  const rps = (r: Result) => r.requests / r.seconds;
  process.stdout.write(`\n${title}; ${concurrency} concurrent clients, up to ${requestsPerCase} requests or ${maxSecondsPerCase}s per case\n`);
  process.stdout.write('case                           req/s    p50 ms   p95 ms   failures   latency ×baseline   throughput ×baseline\n');
  for (const r of results) {
    process.stdout.write(
      `${r.name.padEnd(30)} ${rps(r).toFixed(0).padStart(6)}   ${r.p50.toFixed(2).padStart(6)}   ${r.p95.toFixed(2).padStart(6)}   ${String(r.failures).padStart(8)}   ${(r.p50 / base.p50).toFixed(2).padStart(17)}   ${(rps(r) / rps(base)).toFixed(2).padStart(20)}\n`,
    );
  }
}

async function main() {
  let stack: Stack | undefined;
  try {
    process.stdout.write('[bench] starting the platform (real Redis, FerretDB, Keycloak, Dapr, nginx)…\n');
    stack = await startStack({ runDir: path.join(tmpdir(), `mercato-bench-${process.pid}`), persistent: false, logLevel: 'warn' });
    const token = await fetchToken(stack.keycloakUrl, { username: 'editor', password: 'editor' });
    const sidecar = stack.sidecars['categories']!;
    const bearer = { authorization: `Bearer ${token}` };
    const created = await fetch(`${stack.ingressUrl}/api/categories`, {
      method: 'POST',
      headers: { ...bearer, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Benchmark', slug: 'benchmark' }),
    });
    if (created.status !== 201) throw new Error(`seeding failed: ${created.status} ${await created.text()}`);

    const scenarios = [
      { title: 'GET one category (FerretDB lookup by slug)', appPath: '/categories/benchmark' },
      { title: 'GET the OpenAPI document (no database: the cost of the hops alone)', appPath: '/categories/openapi.json' },
    ];
    let failed = false;
    for (const scenario of scenarios) {
      const results = [
        await measure('baseline: app directly', `http://127.0.0.1:${sidecar.appPort}${scenario.appPath}`, {
          ...bearer,
          'dapr-api-token': sidecar.appApiToken,
        }),
        await measure('daprd invoke (bearer check)', `http://127.0.0.1:${sidecar.httpPort}/v1.0/invoke/categories/method${scenario.appPath}`, {
          ...bearer,
          'dapr-api-token': sidecar.apiToken,
        }),
        await measure('ingress: nginx → daprd → app', `${stack.ingressUrl}/api${scenario.appPath}`, bearer),
      ];
      printTable(scenario.title, results);
      failed ||= results.some((r) => r.failures > 0);
    }
    if (failed) process.exitCode = 1;
  } finally {
    await stack?.stop();
    if (stack) rmSync(stack.runDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`[bench] failed: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
