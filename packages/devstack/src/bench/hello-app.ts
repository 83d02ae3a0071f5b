#!/usr/bin/env node
import { createServer } from 'node:http';

/**
 * The smallest app a sidecar can front: no framework, no database, no logging. Whatever it costs behind daprd and
 * nginx is the platform's own price, the ceiling every benchmark compares a real route against.
 */
const body = JSON.stringify({ hello: 'world' });
const probe = JSON.stringify({ status: 'alive' });

const server = createServer((req, res) => {
  const path = req.url?.split('?', 1)[0];
  const [status, text] =
    path === '/hello' ? [200, body] : path === '/healthz' || path === '/readyz' ? [200, probe] : [404, '{"status":404}'];
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
});
server.keepAliveTimeout = 65_000;
server.listen(Number(process.env['APP_PORT']), process.env['APP_HOST'] ?? '127.0.0.1');
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    server.close();
    server.closeAllConnections();
  });
}
