import { Router } from 'express';
import request from 'supertest';
import { z } from 'zod';
import { AppError } from '../src/errors';
import { serveLean } from '../src/lean-routes';
import type { Metrics } from '../src/metrics';
import { parseInput } from '../src/validation';
import { testApp, testAppToken } from './support';

const bearer = (roles: string[]) =>
  `Bearer e30.${Buffer.from(JSON.stringify({ sub: 'user-1', preferred_username: 'ada', realm_access: { roles } })).toString('base64url')}.sig`;
const viewer = bearer(['viewer']);

const thingPath = z.object({ id: z.string().regex(/^[a-z]+$/) }).strict();

/** A service router with lean routes among ordinary ones, in the order the services use. */
function thingRoutes(): Router {
  const router = Router();
  router.get('/things/openapi.json', (_req, res) => {
    res.json({ openapi: 'literal route registered first' });
  });
  serveLean(router, {
    method: 'get', path: '/things/:id', roles: ['viewer', 'admin'],
    answer({ params, query }) {
      const { id } = parseInput(thingPath, params, 'params');
      if (id === 'missing') throw new AppError('not-found', { detail: 'No such thing' });
      return { body: { id, query }, version: 7 };
    },
  });
  serveLean(router, {
    method: 'post', path: '/things/:id/next', roles: ['admin'],
    async answer({ params, principal, header }) {
      return { status: 201, body: { id: params['id'], by: principal.subject, trace: header('traceparent') ?? null } };
    },
  });
  router.patch('/things/:id', (_req, res) => {
    res.json({ patched: true });
  });
  return router;
}

interface Observed {
  routes: Array<string | undefined>;
}

function apps(options: { accepting?: boolean } = {}) {
  const observed: Observed = { routes: [] };
  const metrics: Pick<Metrics, 'observeRequest'> = { observeRequest: (_req, _res, _ms, route) => observed.routes.push(route) };
  const build = (leanLane: boolean) =>
    testApp(thingRoutes(), { leanLane, metrics, isAcceptingWork: () => options.accepting ?? true });
  return { lean: build(true), express: build(false), observed };
}

type Call = (app: ReturnType<typeof testApp>) => request.Test;

/** Status, body and the headers a client acts on, without the ones that differ per request. */
async function outcome(call: Call, app: ReturnType<typeof testApp>) {
  const response = await call(app);
  const { date: _date, 'x-request-id': _id, connection: _c, 'keep-alive': _k, ...headers } = response.headers;
  const body: unknown = response.body;
  if (body && typeof body === 'object' && 'traceId' in body) delete (body as { traceId?: unknown }).traceId;
  return { status: response.status, headers, body, text: response.text };
}

const withToken = (test: request.Test, authorization = viewer) => test.set('dapr-api-token', testAppToken).set('authorization', authorization);

const cases: Array<[string, Call]> = [
  ['a read', (app) => withToken(request(app).get('/things/abc?x=1&x=2&y='))],
  ['a read whose If-None-Match names the version', (app) => withToken(request(app).get('/things/abc').set('if-none-match', '"7"'))],
  ['a read of a missing thing', (app) => withToken(request(app).get('/things/missing'))],
  ['a read with an invalid id', (app) => withToken(request(app).get('/things/ABC1'))],
  ['a read with a malformed escape', (app) => withToken(request(app).get('/things/%E0%A4%A'))],
  ['a read with a trailing slash and upper case', (app) => withToken(request(app).get('/THINGS/abc/'))],
  ['a read without a token', (app) => request(app).get('/things/abc').set('dapr-api-token', testAppToken)],
  ['a read without the app token', (app) => request(app).get('/things/abc').set('authorization', viewer)],
  ['a write by a viewer', (app) => withToken(request(app).post('/things/abc/next'))],
  ['a write by an admin', (app) => withToken(request(app).post('/things/abc/next').set('traceparent', '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'), bearer(['admin']))],
  ['a write with a body', (app) => withToken(request(app).post('/things/abc/next').send({ a: 1 }), bearer(['admin']))],
  ['the literal route registered before the lean one', (app) => withToken(request(app).get('/things/openapi.json'))],
  ['a method the path does not serve', (app) => withToken(request(app).put('/things/abc'))],
  ['a HEAD', (app) => withToken(request(app).head('/things/abc'))],
];

describe('lean routes', () => {
  it.each(cases)('when %s is answered with and without the lean lane, then the answers are the same', async (_name, call) => {
    const { lean, express } = apps();
    expect(await outcome(call, lean)).toEqual(await outcome(call, express));
  });

  it('when the app is not accepting work, then the lean lane answers the same 503', async () => {
    const { lean, express } = apps({ accepting: false });
    const call: Call = (app) => withToken(request(app).get('/things/abc'));
    const answer = await outcome(call, lean);
    expect(answer.status).toBe(503);
    expect(answer).toEqual(await outcome(call, express));
  });

  it('when a plain request names a lean route, then the lean lane answers it; otherwise Express does', async () => {
    const { lean, observed } = apps();
    await withToken(request(lean).get('/things/abc'));
    await withToken(request(lean).get('/things/openapi.json'));
    await withToken(request(lean).post('/things/abc/next').send({ a: 1 }), bearer(['admin']));
    await withToken(request(lean).post('/things/abc/next'), bearer(['admin']));
    // The lane names the route template itself; Express's requests are labelled from req.route.
    expect(observed.routes).toEqual(['/things/:id', undefined, undefined, '/things/:id/next']);
  });

  it('when a lean route answers, then the problem and success bodies carry the platform headers', async () => {
    const { lean } = apps();
    const response = await withToken(request(lean).get('/things/missing'));
    expect(response.status).toBe(404);
    expect(response.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(response.headers['x-request-id']).toBeDefined();
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.body).toMatchObject({ status: 404, detail: 'No such thing', instance: '/things/missing' });
  });
});
