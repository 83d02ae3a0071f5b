import type { Server } from 'node:http';
import express from 'express';
import { freePort } from '../ports';

export interface ReceivedEvent {
  id: string;
  type: string;
  source: string;
  subject?: string;
  data: unknown;
  [key: string]: unknown;
}

export interface EventProbe {
  port: number;
  /** daprd's APP_API_TOKEN for this app; deliveries without it are refused, as in the services. */
  expectAppToken(token: string): void;
  received(): ReceivedEvent[];
  close(): Promise<void>;
}

/**
 * A real subscriber app for the integration tests: daprd delivers the `events` topic to it through Redis streams, and
 * the tests read back what arrived. It stands in for the audit service until that service exists; it fakes nothing
 * about Dapr.
 */
export async function startEventProbe(pubsubName = 'events', topic = 'events'): Promise<EventProbe> {
  const events: ReceivedEvent[] = [];
  let appToken: string | undefined;
  const app = express();
  app.use(express.json({ type: ['application/json', 'application/cloudevents+json'], limit: '1mb' }));
  app.use((req, res, next) => {
    if (req.path === '/received') return next();
    if (!appToken || req.header('dapr-api-token') !== appToken) {
      res.status(401).json({ error: 'missing app token' });
      return;
    }
    next();
  });
  app.get('/dapr/subscribe', (_req, res) => {
    res.json([{ pubsubname: pubsubName, topic, route: '/events' }]);
  });
  app.post('/events', (req, res) => {
    events.push(req.body as ReceivedEvent);
    res.json({ status: 'SUCCESS' });
  });
  app.get('/received', (_req, res) => {
    res.json(events);
  });
  const port = await freePort();
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(port, '127.0.0.1', () => resolve(s));
  });
  return {
    port,
    expectAppToken: (token) => {
      appToken = token;
    },
    received: () => [...events],
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
