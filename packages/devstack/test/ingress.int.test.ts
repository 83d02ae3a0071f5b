import { readFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import path from 'node:path';
import { api, controlProcess, eventually, processState, tokenFor } from '../src/testing/client';
import { stackInfo } from '../src/testing/stack-info';

interface Problem {
  type: string;
  status: number;
  detail?: string;
  instance?: string;
  traceId?: string;
}

/** Which sidecar ports served requests for `marker`, read from the ingress's access log ($upstream_addr). */
async function upstreamsServing(marker: string): Promise<Set<string>> {
  const log = path.join(stackInfo().runDir, 'nginx', 'access.log');
  const lines = await eventually(
    async () => readFileSync(log, 'utf8').split('\n').filter((line) => line.includes(marker)),
    (found) => found.length > 0,
  );
  return new Set(lines.flatMap((line) => line.match(/127\.0\.0\.1:\d+/g) ?? []));
}

const sidecarAddresses = () => stackInfo().replicas['categories']!.map((r) => `127.0.0.1:${r.httpPort}`);

const readyz = (appPort: number) => fetch(`http://127.0.0.1:${appPort}/readyz`).then((r) => r.status).catch(() => 0);

/** daprd's own error shape, or an internal address: neither may ever reach a client. */
const leaksInternals = (body: unknown) => /ERR_[A-Z_]+|errorCode|dial tcp|127\.0\.0\.1/.test(JSON.stringify(body));

describe('the ingress in front of every replica (nginx → daprd ×2 → categories ×2)', () => {
  it('when requests arrive, then they are spread over both replicas', async () => {
    const viewer = await tokenFor('viewer');
    const marker = `spread-${Date.now()}`;
    for (let i = 0; i < 20; i++) {
      expect((await api('GET', `/api/categories?q=${marker}`, { token: viewer })).status).toBe(200);
    }
    const served = await eventually(() => upstreamsServing(marker), (set) => set.size >= 2);
    expect([...served].sort()).toEqual(sidecarAddresses().sort());
  });

  it('when one replica crashes (SIGKILL), then the other keeps answering and the supervisor restarts it', async () => {
    const viewer = await tokenFor('viewer');
    const before = await processState('categories-1');
    await controlProcess('categories-1', 'kill');

    for (let i = 0; i < 20; i++) {
      const response = await api<Problem>('GET', '/api/categories', { token: viewer });
      // Reads retry on the live replica; whatever is not a 200 is the platform's 503, never daprd's raw error.
      if (response.status !== 200) {
        expect(response.status).toBe(503);
        expect(response.headers.get('retry-after')).toBeTruthy();
      }
      expect(leaksInternals(response.body)).toBe(false);
    }

    const after = await eventually(() => processState('categories-1'), (state) => state.restarts > before.restarts);
    expect(after.restarts).toBe(before.restarts + 1);
    expect(after.pid).not.toBe(before.pid);
    const ready = await eventually(() => readyz(stackInfo().replicas['categories']![0]!.appPort), (s) => s === 200, 30_000);
    expect(ready).toBe(200);
  });

  it('when a sidecar crashes, then it is restarted too and requests keep working', async () => {
    const before = await processState('daprd-categories-2');
    await controlProcess('daprd-categories-2', 'kill');
    const after = await eventually(() => processState('daprd-categories-2'), (state) => state.restarts > before.restarts, 30_000);
    expect(after.restarts).toBe(before.restarts + 1);
    const viewer = await tokenFor('viewer');
    const statuses = await eventually(
      async () => Promise.all(Array.from({ length: 6 }, () => api('GET', '/api/categories', { token: viewer }).then((r) => r.status))),
      (all) => all.every((status) => status === 200),
      30_000,
    );
    expect(statuses.every((status) => status === 200)).toBe(true);
  });

  it('when every replica of the app is down, then clients get 503 problem+json with Retry-After and no daprd error', async () => {
    const editor = await tokenFor('editor');
    await controlProcess('categories-1', 'stop');
    await controlProcess('categories-2', 'stop');
    try {
      for (const [method, body] of [['GET', undefined], ['POST', { name: 'Down', slug: `down-${Date.now()}` }]] as const) {
        const response = await api<Problem>(method, '/api/categories', { token: editor, body });
        expect(response.status).toBe(503);
        expect(response.headers.get('content-type')).toMatch(/application\/problem\+json/);
        expect(response.headers.get('retry-after')).toBe('2');
        expect(response.body).toMatchObject({ type: 'https://mercato.dev/problems/service-unavailable', status: 503 });
        expect(leaksInternals(response.body)).toBe(false);
      }
    } finally {
      await controlProcess('categories-1', 'start');
      await controlProcess('categories-2', 'start');
    }
    // Both replicas ready again before the next test: a replica that is still starting answers 503 itself.
    for (const replica of stackInfo().replicas['categories']!) {
      const ready = await eventually(() => readyz(replica.appPort), (status) => status === 200, 30_000);
      expect(ready).toBe(200);
    }
    const viewer = await tokenFor('viewer');
    expect((await api('GET', '/api/categories', { token: viewer })).status).toBe(200);
  });

  it("when the app answers a problem, then it passes through untouched with the app's own type and traceId", async () => {
    const response = await api<Problem>('GET', '/api/categories/no-such-category', { token: await tokenFor('viewer') });
    expect(response.status).toBe(404);
    expect(response.body.type).toBe('https://mercato.dev/problems/category-not-found');
    expect(response.body.traceId).toMatch(/^[0-9a-f]{32}$/);
  });

  it('when the path or query holds control characters, then 400 problem+json from the ingress, not a 500', async () => {
    for (const path of ['/api/categories/%10h%0F%C2%9B', '/api/categories?q=a%15b']) {
      const response = await api<Problem>('GET', path, { token: await tokenFor('admin') });
      expect(response.status).toBe(400);
      expect(response.headers.get('content-type')).toMatch(/application\/problem\+json/);
    }
  });

  it('when a path holds an encoded #, % or ?, then 400 from the ingress, and the service stays available to everyone', async () => {
    const admin = await tokenFor('admin');
    for (const path of ['/api/products/%23', '/api/products/a%3Fb', '/api/products/%25', '/api/categories/%23x', '/api/categories/%3f']) {
      for (const method of ['GET', 'DELETE']) {
        const response = await api<Problem>(method, path, { token: admin });
        expect(response.status).toBe(400);
        expect(response.headers.get('content-type')).toMatch(/application\/problem\+json/);
      }
    }
    // daprd would have answered each with a 500 that the ingress takes for a failed replica.
    expect((await api('GET', '/api/products?q=%23x', { token: admin })).status).toBe(200);
    expect((await api('GET', '/api/categories', { token: admin })).status).toBe(200);
  });

  it('when the request line itself is malformed, then 400 problem+json, not an HTML 500', async () => {
    const port = Number(new URL(stackInfo().ingressUrl).port);
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = createConnection({ host: '127.0.0.1', port }, () => socket.end('GET /a\u0001b HTTP/1.1\r\nHost: x\r\n\r\n'));
      let text = '';
      socket.on('data', (chunk) => (text += chunk.toString()));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    expect(reply).toMatch(/^HTTP\/1\.1 400/);
    expect(reply).toMatch(/application\/problem\+json/i);
  });

  it('when a method is not one the API uses, then 405 problem+json with Allow, never forwarded as a POST', async () => {
    const response = await fetch(`${stackInfo().ingressUrl}/api/categories`, {
      method: 'QUERY',
      headers: { authorization: `Bearer ${await tokenFor('admin')}` },
    });
    expect(response.status).toBe(405);
    expect(response.headers.get('allow')).toContain('GET');
    expect(response.headers.get('content-type')).toMatch(/application\/problem\+json/);
  });

  it('when a body is over the ingress limit or an API path is unknown, then problem+json rather than an HTML page', async () => {
    const token = await tokenFor('editor');
    const tooLarge = await api<Problem>('POST', '/api/categories', { token, rawBody: `{"name":"${'x'.repeat(1_100_000)}"}` });
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.headers.get('content-type')).toMatch(/application\/problem\+json/);
    const tooLong = await api<Problem>('GET', `/api/categories?q=${'x'.repeat(40_000)}`, { token });
    expect(tooLong.status).toBe(414);
    expect(tooLong.headers.get('content-type')).toMatch(/application\/problem\+json/);
    const unknown = await api<Problem>('GET', '/api/nowhere', { token });
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('content-type')).toMatch(/application\/problem\+json/);
    // Outside /api everything is the web front end's: its own 404 is a page.
    const page = await api<string>('GET', '/nowhere');
    expect(page.status).toBe(404);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
  });

  it('when the whole API document is asked for, then the ingress serves it with servers matching itself; it is read-only', async () => {
    const response = await api<{ openapi: string; servers: Array<{ url: string }>; paths: Record<string, unknown> }>('GET', '/api/openapi.json');
    expect(response.status).toBe(200);
    expect(response.body.openapi).toBe('3.1.0');
    expect(response.body.servers.map((s) => s.url)).toContain(stackInfo().ingressUrl);
    expect(Object.keys(response.body.paths)).toEqual(expect.arrayContaining(['/api/categories', '/api/categories/{id}']));
    const write = await api<Problem>('POST', '/api/openapi.json', { body: {} });
    expect(write.status).toBe(405);
    expect(write.headers.get('allow')).toBe('GET, HEAD');
    expect(write.headers.get('content-type')).toMatch(/application\/problem\+json/);
  });

  it('when an admin calls an operator route through the ingress, then it answers; a viewer is refused', async () => {
    const admin = await api<{ level: string }>('PUT', '/api/categories/admin/log-level', { token: await tokenFor('admin'), body: { level: 'warn' } });
    expect(admin.status).toBe(200);
    expect(admin.body.level).toBe('warn');
    const viewer = await api<Problem>('PUT', '/api/categories/admin/log-level', { token: await tokenFor('viewer'), body: { level: 'debug' } });
    expect(viewer.status).toBe(403);
  });
});
