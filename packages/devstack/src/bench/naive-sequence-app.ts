#!/usr/bin/env node
import { createServer } from 'node:http';
import { openDatabase } from '@mercato/platform';

/**
 * The naive baseline the sequence benchmark compares against: for every number, take the Dapr lock, increment a counter
 * in MongoDB, release the lock, answer. No blocks, no claims, no framework. Only `npm run bench -- sequence` starts it.
 */
const env = process.env;
const dapr = `http://127.0.0.1:${env['DAPR_HTTP_PORT']}/v1.0-alpha1`;
const owner = `naive-${process.pid}`;
const database = openDatabase({
  uri: env['MONGODB_URI'] ?? 'mongodb://127.0.0.1:27017/',
  database: env['MONGODB_DATABASE'] ?? 'naive',
  serverSelectionTimeoutMs: 2000,
  appName: 'naive-sequence',
});
const counters = database.db.collection<{ _id: string; value: number }>('counters');

async function lock(path: 'lock' | 'unlock'): Promise<boolean> {
  const response = await fetch(`${dapr}/${path}/lockstore`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'dapr-api-token': env['DAPR_API_TOKEN'] ?? '' },
    body: JSON.stringify({ resourceId: 'naive', lockOwner: owner, expiryInSeconds: 5 }),
  });
  const answer = (await response.json()) as { success?: boolean };
  return answer.success === true;
}

async function next(): Promise<number> {
  for (let attempt = 0; attempt < 1000; attempt += 1) {
    if (await lock('lock')) {
      try {
        const doc = await counters.findOneAndUpdate({ _id: 'naive' }, { $inc: { value: 1 } }, { upsert: true, returnDocument: 'after' });
        return doc?.value ?? 0;
      } finally {
        await lock('unlock');
      }
    }
    await new Promise((resolve) => setTimeout(resolve, Math.random() * 20));
  }
  throw new Error('lock busy');
}

const send = (res: import('node:http').ServerResponse, status: number, body: unknown) => {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
};

const server = createServer((req, res) => {
  const path = req.url?.split('?', 1)[0];
  if (path === '/healthz' || path === '/readyz') return send(res, 200, { status: 'alive' });
  if (path !== '/naive-sequence/next') return send(res, 404, { status: 404 });
  next().then(
    (value) => send(res, 200, { name: 'naive', value }),
    (error: unknown) => send(res, 503, { status: 503, detail: String(error) }),
  );
});
server.keepAliveTimeout = 65_000;
server.listen(Number(env['APP_PORT']), env['APP_HOST'] ?? '127.0.0.1');
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    server.close();
    server.closeAllConnections();
    void database.close();
  });
}
