import { Router } from 'express';
import request from 'supertest';
import { z } from 'zod';
import { clientPath } from '../src/http-paths';
import { parseInput } from '../src/validation';
import { testApp, testAppToken } from './support';


function buildApp() {
  const routes = Router();
  routes.get('/things', (_req, res) => {
    res.json([]);
  });
  routes.post('/things', (req, res) => {
    parseInput(z.strictObject({ name: z.string() }), req.body, 'body');
    res.status(201).location(clientPath(req, '/things/1')).json({ id: '1' });
  });
  routes.get('/things/:id', (_req, res) => {
    res.json({});
  });
  routes.delete('/things/:id', (_req, res) => {
    res.status(204).end();
  });
  return testApp(routes);
}

const call = (method: 'get' | 'post' | 'put' | 'patch' | 'delete', path: string) =>
  request(buildApp())[method](path).set('dapr-api-token', testAppToken);

describe('paths as the client sees them', () => {
  it('when the ingress names the prefix it stripped, then Location and a problem instance include it', async () => {
    const created = await call('post', '/things').set('x-forwarded-prefix', '/api').send({ name: 'x' });
    expect(created.headers['location']).toBe('/api/things/1');
    const refused = await call('post', '/things?x=1').set('x-forwarded-prefix', '/api').send({});
    expect(refused.body.instance).toBe('/api/things?x=1');
  });

  it('when called directly, then Location and instance are the app paths', async () => {
    expect((await call('post', '/things').send({ name: 'x' })).headers['location']).toBe('/things/1');
    expect((await call('post', '/things').send({})).body.instance).toBe('/things');
  });

  it('when the forwarded prefix is not a plain path, then it is ignored rather than echoed into a header', async () => {
    const created = await call('post', '/things').set('x-forwarded-prefix', 'https://evil.example/').send({ name: 'x' });
    expect(created.headers['location']).toBe('/things/1');
  });
});

describe('a method the path does not serve', () => {
  it('when PUT is sent to a path served for GET and DELETE, then 405 problem+json with Allow', async () => {
    const response = await call('put', '/things/1');
    expect(response.status).toBe(405);
    expect(response.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(response.headers['allow']).toBe('DELETE, GET, HEAD');
    expect(response.body.type).toBe('https://mercato.dev/problems/method-not-allowed');
  });

  it('when the path exists for other methods only, then 405 lists them (collection)', async () => {
    const response = await call('patch', '/things');
    expect(response.status).toBe(405);
    expect(response.headers['allow']).toBe('GET, HEAD, POST');
  });

  it('when no route has the path, then it stays 404', async () => {
    expect((await call('put', '/nothing/here')).status).toBe(404);
    expect((await call('get', '/things/1/extra')).status).toBe(404);
  });
});

describe('a body sent with a method the path does not serve', () => {
  it('when PUT carries a body that is not JSON, then 405 (the method), not 415 (the body)', async () => {
    const response = await call('put', '/things/1').set('content-type', 'text/plain').send('x');
    expect(response.status).toBe(405);
    expect(response.headers['allow']).toBe('DELETE, GET, HEAD');
  });

  it('when a served method carries a body that is not JSON, then it stays 415', async () => {
    expect((await call('post', '/things').set('content-type', 'text/plain').send('x')).status).toBe(415);
  });

  it('when malformed JSON is sent to a path nobody serves, then 404', async () => {
    expect((await call('post', '/nowhere').set('content-type', 'application/json').send('{')).status).toBe(404);
  });
});
