import { z } from 'zod';
import { AppError } from './errors';
import { logLevels } from './logger';
import { issuesOf } from './validation';

const port = z.coerce.number().int().min(1).max(65535);

/**
 * What every service needs from its environment. A service extends it with its own keys; the result is parsed once at
 * start-up and a bad or missing value stops the process before it listens.
 */
export const baseConfigSchema = z.object({
  SERVICE_NAME: z.string().min(1),
  /** Apps bind loopback only: the sidecar is their one door. */
  APP_HOST: z.string().default('127.0.0.1'),
  APP_PORT: port,
  /** `http` keeps the one line per request (method, path, status, duration, traceId) that an error's traceId leads to. */
  LOG_LEVEL: z.enum(logLevels).default('http'),
  /** Largest accepted request body; larger bodies get 413 before any parsing. */
  BODY_LIMIT: z.string().default('100kb'),
  MONGODB_URI: z.string().regex(/^mongodb(\+srv)?:\/\//, 'must be a mongodb:// URI'),
  MONGODB_DATABASE: z.string().min(1),
  /** How long a database call may wait for a reachable server before the request fails with 503. */
  MONGODB_SERVER_SELECTION_TIMEOUT_MS: z.coerce.number().int().positive().default(2000),
  DAPR_HOST: z.string().default('127.0.0.1'),
  DAPR_HTTP_PORT: port,
  /** Token the app presents to daprd (daprd runs with the same DAPR_API_TOKEN). */
  DAPR_API_TOKEN: z.string().min(16),
  /** Token daprd presents to the app in `dapr-api-token`; requests without it never reach a route. */
  APP_API_TOKEN: z.string().min(16),
  /** Pub/sub component and topic that carry domain events (the audit service stores every one). */
  EVENTS_PUBSUB: z.string().default('events'),
  EVENTS_TOPIC: z.string().default('events'),
  /** Client whose `resource_access.<client>.roles` count as roles too. */
  AUTH_RESOURCE_CLIENT: z.string().default('mercato-api'),
  SHUTDOWN_GRACE_MS: z.coerce.number().int().nonnegative().default(10000),
  /**
   * The service's own identity: a confidential Keycloak client (client-credentials grant, realm role `service`) whose
   * token it sends when it calls another service with no user behind the call. All three are optional so a service
   * that never calls another starts without them; the devstack sets them for every service.
   */
  OIDC_ISSUER: z.url().optional(),
  SERVICE_CLIENT_ID: z.string().min(1).optional(),
  SERVICE_CLIENT_SECRET: z.string().min(1).optional(),
  /**
   * `true` lets the identity use a plain-http issuer that is not on loopback: only for a local cluster whose Keycloak
   * has no TLS (manifests/overlays/dev). A loopback issuer (the devstack) never needs it; anywhere else keep https.
   */
  OIDC_ALLOW_HTTP_ISSUER: z.enum(['true', 'false']).default('false'),
  /** How often the relay re-sends events a write could not publish at once (sidecar or broker down, a crash). */
  OUTBOX_RELAY_INTERVAL_MS: z.coerce.number().int().min(50).default(5000),
  /**
   * A revision claim older than this whose write never landed is taken for a crashed writer's and finished by the next
   * writer (docs/runtime.md, "Concurrency rule"). Far above any normal write; a writer stalled longer can lose a write.
   */
  REVISION_CLAIM_STALE_MS: z.coerce.number().int().min(100).default(5000),
  /** How long a write keeps retrying against concurrent writers of the same item before answering 409. */
  REVISION_RETRY_BUDGET_MS: z.coerce.number().int().nonnegative().default(5000),
  /**
   * Port of the Prometheus `/metrics` endpoint (metrics.ts), never behind the sidecar or the ingress. Optional: without
   * it no metrics are collected and no port is opened.
   */
  METRICS_PORT: port.optional(),
  /**
   * Where `/metrics` listens. Loopback locally; in a cluster `0.0.0.0`, so Prometheus scrapes the pod's port (the app
   * itself stays on APP_HOST, behind its sidecar, and no Service or ingress names the metrics port).
   */
  METRICS_HOST: z.string().default('127.0.0.1'),
  /**
   * `on`: every request a signed-in person makes is counted on their UserActivity actor (docs/actors.md), coalesced and
   * sent off the request path once a second. Needs the activity app beside the platform; the devstack turns it on.
   */
  ACTIVITY_REPORTING: z.enum(['on', 'off']).default('off'),
  /**
   * `off`: lean routes go through Express like every other route (lean-routes.ts). The same answers either way; only
   * for measuring what the lean lane saves.
   */
  LEAN_LANE: z.enum(['on', 'off']).default('on'),
});

export type BaseConfig = z.output<typeof baseConfigSchema>;

export function loadConfig<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv = process.env): z.output<S> {
  const result = schema.safeParse(env);
  if (!result.success) {
    const lines = issuesOf(result.error, 'headers').map((i) => `  ${i.path.replace(/^headers\./, '')}: ${i.message}`);
    throw new AppError('internal', {
      detail: `Invalid configuration:\n${lines.join('\n')}`,
      isCatastrophic: true,
    });
  }
  return result.data;
}
