import express from 'express';
import request from 'supertest';
import { Router } from 'express';
import { createApp } from '../src/http';
import { listen } from '../src/lifecycle';
import { createLogger } from '../src/logger';

const jwt = (roles: string[]) =>
  `Bearer e30.${Buffer.from(JSON.stringify({ sub: 'u1', realm_access: { roles } })).toString('base64url')}.s`;

describe('graceful shutdown', () => {
  it('when shutdown starts during a request, then the request completes, new work is refused and hooks run after', async () => {
    const app = express();
    let release: () => void = () => undefined;
    let entered: () => void = () => undefined;
    const handlerEntered = new Promise<void>((resolve) => {
      entered = resolve;
    });
    // Declared before the handler uses it; the response's end is recorded by the server, where the order is decided.
    const order: string[] = [];
    app.get('/slow', async (_req, res) => {
      entered();
      await new Promise<void>((resolve) => {
        release = resolve;
      });
      res.once('finish', () => order.push('response'));
      res.json({ done: true });
    });
    let accepting = true;
    const running = await listen({
      app,
      host: '127.0.0.1',
      port: 0,
      logger: createLogger('test', 'error'),
      graceMs: 5000,
      setAcceptingWork: (value) => {
        accepting = value;
      },
      onShutdown: [() => void order.push('hook')],
    });
    const address = running.server.address();
    const port = typeof address === 'object' && address ? address.port : 0;

    const inFlight = fetch(`http://127.0.0.1:${port}/slow`).then((r) => r.json());
    // Shutdown starts once the request is in the handler (a fixed pause lost the race on a loaded machine: the
    // connection was still idle when the server closed it).
    await handlerEntered;
    const stopped = running.shutdown('test');
    expect(accepting).toBe(false);
    release();

    await expect(inFlight).resolves.toEqual({ done: true });
    await stopped;
    expect(order).toEqual(['response', 'hook']);
    await expect(fetch(`http://127.0.0.1:${port}/slow`)).rejects.toThrow();
  });
});

describe('runtime log level', () => {
  const appToken = 'app-token-0123456789';
  const logger = createLogger('test', 'info');
  const app = createApp({
    serviceName: 'test',
    logger,
    appApiToken: appToken,
    bodyLimit: '1kb',
    resourceClient: 'mercato-api',
    readiness: [],
    routes: Router(),
    isAcceptingWork: () => true,
  });

  it('when an admin sets the level, then it changes without a restart', async () => {
    const response = await request(app)
      .put('/admin/log-level')
      .set('dapr-api-token', appToken)
      .set('authorization', jwt(['admin']))
      .send({ level: 'debug' });
    expect(response.status).toBe(200);
    expect(logger.level()).toBe('debug');
  });

  it('when a non-admin or an unknown level is sent, then it is refused and the level stays', async () => {
    logger.setLevel('info');
    const editor = await request(app).put('/admin/log-level').set('dapr-api-token', appToken).set('authorization', jwt(['editor'])).send({ level: 'debug' });
    expect(editor.status).toBe(403);
    const unknown = await request(app).put('/admin/log-level').set('dapr-api-token', appToken).set('authorization', jwt(['admin'])).send({ level: 'loud' });
    expect(unknown.status).toBe(400);
    expect(logger.level()).toBe('info');
  });
});
