import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AppError, problemTypeBase } from '../src/errors';
import { createServiceInvoker, problemToError } from '../src/invocation';

describe('errors of a service called through invocation', () => {
  it("when the callee answers a problem, then it becomes an AppError of the same status, type, detail and Retry-After", () => {
    const problem = { type: `${problemTypeBase}lock-unavailable`, title: 'x', status: 503, detail: 'lock store down' };
    const error = problemToError('sequence', 503, 'application/problem+json', JSON.stringify(problem), '2');
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({ status: 503, code: 'lock-unavailable', detail: 'lock store down', retryAfterSeconds: 2 });
  });

  it('when the callee refuses input, then the field issues come along', () => {
    const problem = { type: `${problemTypeBase}validation`, status: 400, errors: [{ path: 'query.count', message: 'too big' }] };
    const error = problemToError('sequence', 400, 'application/problem+json; charset=utf-8', JSON.stringify(problem), null);
    expect(error).toMatchObject({ status: 400, code: 'validation', issues: [{ path: 'query.count', message: 'too big' }] });
  });

  it("when daprd answers for a callee that is down, then it is a 503 that names no internals", () => {
    const error = problemToError('sequence', 500, 'application/json', '{"errorCode":"ERR_DIRECT_INVOKE","message":"dial tcp 127.0.0.1:4000"}', null);
    expect(error).toMatchObject({ status: 503, code: 'service-unavailable', retryAfterSeconds: 2 });
    expect(error.detail).not.toContain('127.0.0.1');
  });

  it("when the callee's sidecar refuses the token, then it is a 401", () => {
    expect(problemToError('sequence', 401, 'text/plain', 'Unauthorized', null)).toMatchObject({ status: 401 });
  });
});

describe('calling another service through the sidecar', () => {
  let server: Server;
  let port = 0;
  const seen: Array<{ url: string; headers: IncomingHttpHeaders }> = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push({ url: req.url ?? '', headers: req.headers });
      if (req.url?.includes('/slow')) return; // never answers: the caller's timeout must end the call
      if (req.headers['authorization'] === 'Bearer stale-token') {
        res.writeHead(401, { 'content-type': 'text/plain' });
        res.end('Unauthorized');
        return;
      }
      if (req.url?.includes('/missing')) {
        res.writeHead(404, { 'content-type': 'application/problem+json' });
        res.end(JSON.stringify({ type: `${problemTypeBase}sequence-not-found`, status: 404, detail: 'no such sequence' }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => {
    server.closeAllConnections();
    server.close();
  });

  const invoker = () =>
    createServiceInvoker({
      daprHost: '127.0.0.1',
      daprHttpPort: port,
      daprApiToken: 'sidecar-token',
      identity: { clientId: 'service-test', token: async () => 'service-token' },
    });

  it("when no user is behind the call, then the service's own token, the sidecar token and a traceparent go along", async () => {
    const answer = await invoker().invoke('sequence', '/sequences/orders/next', { method: 'POST', query: { count: 2 } });
    expect(answer).toMatchObject({ status: 200, body: { ok: true } });
    const request = seen.at(-1)!;
    expect(request.url).toBe('/v1.0/invoke/sequence/method/sequences/orders/next?count=2');
    expect(request.headers).toMatchObject({ authorization: 'Bearer service-token', 'dapr-api-token': 'sidecar-token' });
    expect(request.headers['traceparent']).toMatch(/^00-[\da-f]{32}-[\da-f]{16}-01$/);
  });

  it("when the call is made for a user, then the user's token goes along instead", async () => {
    const user = { subject: 'u1', username: 'viewer', roles: new Set(['viewer']), authorization: 'Bearer user-token' };
    await invoker().invoke('sequence', 'sequences/orders', { as: user });
    expect(seen.at(-1)!.headers['authorization']).toBe('Bearer user-token');
  });

  it("when the callee answers a problem, then the caller gets it as an AppError of the same status and type", async () => {
    await expect(invoker().invoke('sequence', 'sequences/missing')).rejects.toMatchObject({ status: 404, code: 'sequence-not-found' });
  });

  it("when the callee refuses the service's cached token, then the token is dropped and the call made once more", async () => {
    const tokens = ['stale-token', 'fresh-token'];
    const forgotten: string[] = [];
    const identity = { clientId: 'service-test', token: async () => tokens[0]!, forget: (t: string) => (forgotten.push(t), tokens.shift()) };
    const caller = createServiceInvoker({ daprHost: '127.0.0.1', daprHttpPort: port, daprApiToken: 'sidecar-token', identity });
    const answer = await caller.invoke('sequence', 'sequences/orders/next', { method: 'POST' });
    expect(answer.status).toBe(200);
    expect(forgotten).toEqual(['stale-token']);
    expect(seen.at(-1)!.headers['authorization']).toBe('Bearer fresh-token');
  });

  it('when the callee does not answer in time, then the call ends with a 503', async () => {
    await expect(invoker().invoke('sequence', 'slow', { timeoutMs: 200 })).rejects.toMatchObject({ status: 503, code: 'invocation-timeout' });
  });
});
