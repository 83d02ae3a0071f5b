import { Router } from 'express';
import request from 'supertest';
import { z } from 'zod';
import { requireRole } from '../src/auth';
import { parseInput } from '../src/validation';
import { testApp, testAppToken } from './support';

const jwt = (roles: string[]) =>
  `Bearer e30.${Buffer.from(JSON.stringify({ sub: 'u1', realm_access: { roles } })).toString('base64url')}.s`;

function buildApp(options: { ready?: boolean; accepting?: boolean } = {}) {
  const routes = Router();
  routes.post('/things', requireRole('editor'), (req, res) => {
    const body = parseInput(z.strictObject({ name: z.string().min(1) }), req.body, 'body');
    res.status(201).json(body);
  });
  return testApp(routes, {
    readiness: [{ name: 'dep', check: async () => { if (options.ready === false) throw new Error('down'); } }],
    isAcceptingWork: () => options.accepting ?? true,
  });
}

const post = (app: ReturnType<typeof buildApp>) =>
  request(app).post('/things').set('dapr-api-token', testAppToken).set('authorization', jwt(['editor']));

describe('the platform HTTP shape', () => {
  it('when a request lacks the app API token, then it is refused with 401 problem+json', async () => {
    const response = await request(buildApp()).post('/things').send({ name: 'x' });
    expect(response.status).toBe(401);
    expect(response.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(response.body.type).toBe('https://mercato.dev/problems/missing-app-token');
  });

  it('when the body is valid and the role fits, then the route runs', async () => {
    const response = await post(buildApp()).send({ name: 'x' });
    expect(response.status).toBe(201);
  });

  it('when the caller lacks the role, then 403', async () => {
    const response = await request(buildApp()).post('/things').set('dapr-api-token', testAppToken).set('authorization', jwt(['viewer'])).send({ name: 'x' });
    expect(response.status).toBe(403);
  });

  it('when the body is malformed JSON, then 400 malformed-json', async () => {
    const response = await post(buildApp()).set('content-type', 'application/json').send('{"name":');
    expect(response.status).toBe(400);
    expect(response.body.type).toBe('https://mercato.dev/problems/malformed-json');
  });

  it('when the body breaks the schema, then 400 lists each issue', async () => {
    const response = await post(buildApp()).send({ name: '', extra: 1 });
    expect(response.status).toBe(400);
    expect(response.body.errors.map((e: { path: string }) => e.path)).toEqual(expect.arrayContaining(['body.name']));
  });

  it('when the body is over the limit, then 413', async () => {
    const response = await post(buildApp()).send({ name: 'x'.repeat(5000) });
    expect(response.status).toBe(413);
  });

  it('when the body is not JSON, then 415', async () => {
    const response = await post(buildApp()).set('content-type', 'text/plain').send('name=x');
    expect(response.status).toBe(415);
  });

  it('when no route matches, then 404 problem+json', async () => {
    const response = await request(buildApp()).get('/nope').set('dapr-api-token', testAppToken);
    expect(response.status).toBe(404);
    expect(response.body.status).toBe(404);
  });

  it('when a dependency is down, then /readyz is 503 and /healthz stays 200', async () => {
    const app = buildApp({ ready: false });
    expect((await request(app).get('/readyz')).status).toBe(503);
    expect((await request(app).get('/healthz')).status).toBe(200);
  });

  it('when the service is not accepting work, then business routes answer 503 with Retry-After', async () => {
    const response = await post(buildApp({ accepting: false })).send({ name: 'x' });
    expect(response.status).toBe(503);
    expect(response.headers['retry-after']).toBe('2');
  });
});
