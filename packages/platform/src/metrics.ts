import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { RequestHandler } from 'express';
import { collectDefaultMetrics, Counter, Histogram, Registry } from 'prom-client';

/** Cache layers and outcomes, the label values of `cache_requests_total`. */
export type CacheLevel = 'l1' | 'l2';
export type CacheResult = 'hit' | 'miss' | 'error';

/**
 * One service's Prometheus metrics (prom-client): request latency, cache hits and misses per level, and Node's own
 * process metrics. Served on a port of its own (`METRICS_PORT`, on the app's loopback), never through the sidecar or the
 * ingress: in a cluster Prometheus scrapes the pod's port directly. docs/runtime.md, "Metrics".
 */
export interface Metrics {
  registry: Registry;
  /** `http_request_duration_seconds{method, route, status}`; `route` is the route template, `status` its class (2xx…). */
  requestDuration: Histogram<'method' | 'route' | 'status'>;
  /** `cache_requests_total{cache, level, result}`: one count per lookup in a cache level (cache.ts). */
  cacheRequests: Counter<'cache' | 'level' | 'result'>;
  /**
   * Records one finished request; the platform's app calls it from the request line's own `close` listener. `route`
   * names the template when Express did not route the request (the lean lane, lean-routes.ts).
   */
  observeRequest(req: IncomingMessage, res: ServerResponse, durationMs: number, route?: string): void;
  /** The same record as a middleware, for an Express app the platform did not build. */
  middleware(): RequestHandler;
  /** Serves `GET /metrics` on `host:port`; resolves once listening, with the function that closes it. */
  serve(port: number, host?: string): Promise<() => Promise<void>>;
}

/** Latency buckets in seconds: sub-millisecond cache hits up to the ingress's timeouts. */
const latencyBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

const statusClasses = ['1xx', '2xx', '3xx', '4xx', '5xx'];
const statusClassOf = (status: number): string => statusClasses[Math.floor(status / 100) - 1] ?? 'other';

/**
 * The route template, never the path itself (ids in paths would make a series per item): the matched route joined with
 * the base of the router it is mounted on, or `unmatched` (404s, requests refused before routing).
 */
export function routeLabel(req: IncomingMessage & { baseUrl?: string }): string {
  const route = (req as { route?: { path?: unknown } }).route;
  if (!route || route.path === undefined) return 'unmatched';
  return `${req.baseUrl ?? ''}${String(route.path)}`;
}

export function createMetrics(serviceName: string): Metrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service: serviceName });
  collectDefaultMetrics({ register: registry });

  const requestDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Time from a request reaching the app to its response finishing, by method, route template and status class',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: latencyBuckets,
    registers: [registry],
  });
  const cacheRequests = new Counter({
    name: 'cache_requests_total',
    help: 'Cache lookups by cache, level (l1 in-process, l2 shared state store) and result (hit, miss, error)',
    labelNames: ['cache', 'level', 'result'] as const,
    registers: [registry],
  });

  const observeRequest = (req: IncomingMessage, res: ServerResponse, durationMs: number, route?: string): void => {
    requestDuration.observe({ method: req.method ?? '', route: route ?? routeLabel(req), status: statusClassOf(res.statusCode) }, durationMs / 1000);
  };

  return {
    registry,
    requestDuration,
    cacheRequests,
    observeRequest,
    middleware: () => (req, res, next) => {
      const started = performance.now();
      res.once('close', () => observeRequest(req, res, performance.now() - started));
      next();
    },
    serve: (port, host = '127.0.0.1') => serveMetrics(registry, port, host),
  };
}

/** A bare node:http server: `GET /metrics` and nothing else, so it shares none of the app's middleware or routes. */
function serveMetrics(registry: Registry, port: number, host: string): Promise<() => Promise<void>> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found; try /metrics\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('Method not allowed\n');
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(req.method === 'HEAD' ? undefined : text),
      (error: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`Metrics could not be collected: ${String(error)}\n`),
    );
  });
  // A scrape is one short request; no keep-alive connection should hold shutdown up.
  server.keepAliveTimeout = 1000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(
        () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      );
    });
  });
}
