import type { DaprClient } from '@dapr/dapr';
import ActorRuntime from '@dapr/dapr/actors/runtime/ActorRuntime';
import { AppError } from '@mercato/platform';
import { Router, type Request } from 'express';
import { userActivityMethods, type ActorClass } from './user-activity-actor';

export interface ActorHostOptions {
  daprClient: DaprClient;
  actorClass: ActorClass;
  /** How long an actor stays in memory without calls before daprd deactivates it (its state is already saved). */
  idleTimeout: string;
}

/**
 * daprd's side of the actor protocol (docs.dapr.io, "Actors API": calls from the sidecar to the app), served by our
 * own Express app so the platform's app-token check, loopback binding, problem+json and request logging cover it. The
 * SDK's actor runtime (ActorRuntime, AbstractActor) does the actor work: activation, state, reminders. The SDK's own
 * DaprServer would serve the same routes but on an app that checks no token (docs/request-flow.md, "Actors").
 */
export function actorHostRoutes(options: ActorHostOptions): Router {
  const runtime = ActorRuntime.getInstanceByDaprClient(options.daprClient);
  runtime.registerActor(options.actorClass);
  const actorType = options.actorClass.name;
  const methods: ReadonlySet<string> = new Set(userActivityMethods);

  const router = Router();
  // Which actor types this app hosts; daprd asks at start and registers them with placement.
  router.get('/dapr/config', (_req, res) => {
    res.json({
      entities: runtime.getRegisteredActorTypes(),
      actorIdleTimeout: options.idleTimeout,
      // On a rebalance (a replica joins or leaves) let running calls finish before the actor moves.
      drainOngoingCallTimeout: '30s',
      drainRebalancedActors: true,
    });
  });

  const target = (req: Request<{ type: string; id: string }>) => {
    if (req.params.type !== actorType) throw new AppError('not-found', { detail: `No actor type ${req.params.type} here` });
    return req.params.id;
  };
  const payload = (req: Request) => Buffer.from(JSON.stringify(req.body ?? null));

  router.put('/actors/:type/:id/method/remind/:name', async (req, res) => {
    await runtime.fireReminder(actorType, target(req), req.params.name, payload(req));
    res.status(200).end();
  });
  router.put('/actors/:type/:id/method/timer/:name', (req) => {
    target(req);
    throw new AppError('not-found', { detail: `${actorType} registers no timers` });
  });
  router.put('/actors/:type/:id/method/:method', async (req, res) => {
    const id = target(req);
    // Only the actor's own methods: the SDK would call any function on the instance by name (its hooks too).
    if (!methods.has(req.params.method)) throw new AppError('not-found', { detail: `${actorType} has no method ${req.params.method}` });
    res.json(await runtime.invoke(actorType, id, req.params.method, payload(req)));
  });
  router.delete('/actors/:type/:id', async (req, res) => {
    const id = target(req);
    // daprd deactivates idle actors; one this replica never activated (a restart in between) has nothing to drop.
    await runtime.deactivate(actorType, id).catch(() => undefined);
    res.status(200).end();
  });
  return router;
}
