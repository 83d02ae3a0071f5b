import express, { Router } from 'express';
import { createServer } from 'node:net';
import request from 'supertest';
import { createMetrics, type Metrics } from '../src/metrics';
import { testApp, testAppToken } from './support';


function appWith(metrics: Metrics) {
  const things = Router();
  things.get('/:id', (req, res) => {
    res.json({ id: req.params['id'] });
  });
  const routes = Router();
  routes.use('/things', things);
  routes.get('/boom', () => {
    throw new Error('boom');
  });
  return testApp(routes, { metrics });
}

/** Observation counts by "method route status" from the histogram's `_count` series. */
async function counts(metrics: Metrics): Promise<Record<string, number>> {
  const values = (await metrics.requestDuration.get()).values.filter((v) => v.metricName === 'http_request_duration_seconds_count');
  return Object.fromEntries(values.map((v) => [`${v.labels.method} ${v.labels.route} ${v.labels.status}`, v.value]));
}

/** Waits for the responses' `close` events, on which requests are observed. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('request latency', () => {
  it('when requests hit routes, then each is observed once under its route template (with the router base) and status class', async () => {
    const metrics = createMetrics('test');
    const app = appWith(metrics);
    await request(app).get('/things/1').set('dapr-api-token', testAppToken).expect(200);
    await request(app).get('/things/2').set('dapr-api-token', testAppToken).expect(200);
    await request(app).get('/boom').set('dapr-api-token', testAppToken).expect(500);
    await request(app).get('/healthz').expect(200);
    await settle();
    expect(await counts(metrics)).toEqual({ 'GET /things/:id 2xx': 2, 'GET /boom 5xx': 1, 'GET /healthz 2xx': 1 });
  });

  it('when no route takes a request, then it is observed as unmatched, never under its path', async () => {
    const metrics = createMetrics('test');
    const app = appWith(metrics);
    await request(app).get('/nowhere/123').set('dapr-api-token', testAppToken).expect(404);
    await request(app).get('/things/1').expect(401); // refused before routing
    await settle();
    expect(await counts(metrics)).toEqual({ 'GET unmatched 4xx': 2 });
  });

  it('when the middleware wraps an app of its own, then it observes the same way', async () => {
    const metrics = createMetrics('test');
    const app = express();
    app.use(metrics.middleware());
    app.get('/plain/:id', (_req, res) => {
      res.status(204).end();
    });
    await request(app).get('/plain/7').expect(204);
    await settle();
    expect(await counts(metrics)).toEqual({ 'GET /plain/:id 2xx': 1 });
  });
});

describe('the /metrics endpoint', () => {
  it('when scraped, then it shows the latency histogram, the cache counters and the process metrics; other paths are 404', async () => {
    const metrics = createMetrics('catalog');
    metrics.cacheRequests.inc({ cache: 'product', level: 'l1', result: 'hit' });
    metrics.requestDuration.observe({ method: 'GET', route: '/products/:id', status: '2xx' }, 0.004);
    const port = await freePort();
    const closeServer = await metrics.serve(port);
    try {
      const scrape = await fetch(`http://127.0.0.1:${port}/metrics`);
      expect(scrape.status).toBe(200);
      expect(scrape.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      const text = await scrape.text();
      expect(text).toContain('http_request_duration_seconds_bucket{le="0.005",service="catalog",method="GET",route="/products/:id",status="2xx"} 1');
      expect(text).toContain('cache_requests_total{cache="product",level="l1",result="hit",service="catalog"} 1');
      expect(text).toContain('process_cpu_seconds_total');
      expect(text).toContain('nodejs_eventloop_lag_seconds');
      expect((await fetch(`http://127.0.0.1:${port}/`)).status).toBe(404);
      expect((await fetch(`http://127.0.0.1:${port}/metrics`, { method: 'POST' })).status).toBe(405);
    } finally {
      await closeServer();
    }
    await expect(fetch(`http://127.0.0.1:${port}/metrics`)).rejects.toThrow();
  });

  it('when the port is taken, then serving fails instead of silently not listening', async () => {
    const metrics = createMetrics('test');
    const port = await freePort();
    const first = await metrics.serve(port);
    try {
      await expect(metrics.serve(port)).rejects.toThrow(/EADDRINUSE/);
    } finally {
      await first();
    }
  });
});

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}
