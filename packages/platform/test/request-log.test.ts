import express, { Router } from 'express';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import helmet from 'helmet';
import request from 'supertest';
import { apiSecurityHeaders, fixedHeaders } from '../src/http';
import { createLogger, createStdoutSink, type LineSink, type LogLevel } from '../src/logger';
import { testApp, testAppToken } from './support';

const traceId = '0af7651916cd43dd8448eb211c80319c';
const traceparent = `00-${traceId}-b7ad6b7169203331-01`;

function capture(): LineSink & { lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  return {
    lines,
    write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>),
    flushNow: () => undefined,
  };
}

function appLoggingTo(sink: LineSink, level: LogLevel) {
  const routes = Router();
  routes.get('/boom', () => {
    throw new Error('boom');
  });
  return testApp(routes, { logger: createLogger('test', level, sink) });
}

async function eventually<T>(read: () => T | undefined, timeoutMs = 5000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('the request log', () => {
  it('when a request fails, then its one http line carries the traceId its problem body shows', async () => {
    const sink = capture();
    const response = await request(appLoggingTo(sink, 'http')).get('/boom').set('dapr-api-token', testAppToken).set('traceparent', traceparent);
    expect(response.status).toBe(500);
    expect(response.body.traceId).toBe(traceId);
    const line = await eventually(() => sink.lines.find((l) => l['msg'] === 'request'));
    expect(line).toMatchObject({ level: 'http', service: 'test', method: 'GET', path: '/boom', status: 500, traceId });
    expect(typeof line['durationMs']).toBe('number');
    expect(line['requestId']).toBe(response.headers['x-request-id']);
  });

  it('when the level is info, then no request line is written', async () => {
    const sink = capture();
    await request(appLoggingTo(sink, 'info')).get('/healthz');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(sink.lines.filter((l) => l['msg'] === 'request')).toEqual([]);
  });

  it('when lines are written in quick succession, then they reach the file in order, together', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sink-'));
    const file = path.join(dir, 'out.log');
    const fd = openSync(file, 'a');
    const sink = createStdoutSink(fd);
    for (let i = 0; i < 100; i++) sink.write(`${i}\n`);
    expect(readFileSync(file, 'utf8')).toBe(''); // nothing written synchronously
    const text = await eventually(() => {
      const content = readFileSync(file, 'utf8');
      return content.split('\n').length > 100 ? content : undefined;
    });
    expect(text.trimEnd().split('\n')).toEqual(Array.from({ length: 100 }, (_, i) => String(i)));
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  });
});

describe('fixed headers', () => {
  it("when helmet's headers are collected once, then a response carries the same headers helmet would set", async () => {
    const collected = new Map<string, unknown>();
    apiSecurityHeaders()({} as never, { setHeader: (n: string, v: unknown) => collected.set(n.toLowerCase(), v), removeHeader: () => undefined } as never, () => undefined);
    const response = await request(appLoggingTo(capture(), 'error')).get('/healthz');
    for (const [name, value] of collected) expect(response.headers[name]).toBe(value);
  });

  it('when an API answers, then it carries the four headers a JSON API needs and none of the page headers', async () => {
    const response = await request(appLoggingTo(capture(), 'error')).get('/healthz');
    expect(response.headers).toMatchObject({
      'content-security-policy': "default-src 'none';frame-ancestors 'none'",
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'strict-transport-security': 'max-age=31536000; includeSubDomains',
    });
    for (const pageHeader of ['referrer-policy', 'cross-origin-opener-policy', 'x-dns-prefetch-control', 'x-xss-protection', 'origin-agent-cluster']) {
      expect(response.headers[pageHeader]).toBeUndefined();
    }
  });

  it('when helmet\'s full defaults are collected, then they are set as collected', async () => {
    const routes = Router();
    const app = express();
    app.use(fixedHeaders(helmet()));
    app.use(routes);
    routes.get('/x', (_req, res) => {
      res.json({});
    });
    const response = await request(app).get('/x');
    expect(response.headers['content-security-policy']).toContain("default-src 'self'");
    expect(response.headers['referrer-policy']).toBe('no-referrer');
  });

  it('when a middleware does not finish synchronously, then collecting its headers fails at start-up', () => {
    expect(() => fixedHeaders(() => undefined)).toThrow(/did not finish synchronously/);
  });
});
