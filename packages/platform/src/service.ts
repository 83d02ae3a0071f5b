import type { Router } from 'express';
import type { z } from 'zod';
import { loadConfig, type BaseConfig } from './config';
import { AppError } from './errors';
import { createEventPublisher, type EventPublisher } from './events';
import { sidecarCheck } from './health';
import { createApp } from './http';
import { listen, type RunningService } from './lifecycle';
import { createLogger, type Logger } from './logger';
import { createMetrics, type Metrics } from './metrics';
import { createActivityReporter, userActivityClientFromConfig, type ActivityReporter } from './user-activity';
import { ensureIndexes, openDatabase, type Database, type IndexPlan } from './mongo';
import type { RevisionOptions } from './revisions';

export interface ServiceDependencies<C> {
  config: C;
  logger: Logger;
  database: Database;
  events: EventPublisher;
  /** Settings for writes through revision claims (revisions.ts), from the config. */
  revisions: RevisionOptions;
  /** Aborted when the service shuts down: background work (start-up repairs, say) stops on it. */
  shutdown: AbortSignal;
  /** The service's Prometheus metrics (for a cache's hit and miss counts); undefined without `METRICS_PORT`. */
  metrics: Metrics | undefined;
  /**
   * The reporter that counts people's requests on their actors (`ACTIVITY_REPORTING=on`), for a service that counts
   * more of what they do (memes: their searches) in the same coalesced reports; undefined when reporting is off.
   */
  activity: ActivityReporter | undefined;
}

/** Any schema whose parsed output includes the base config (a service extends `baseConfigSchema`). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the env input type is irrelevant here
export type ServiceConfigSchema = z.ZodType<BaseConfig, any>;

export interface ServiceDefinition<S extends ServiceConfigSchema> {
  configSchema: S;
  /** Indexes the service's invariants rely on; business routes answer 503 until they exist. */
  indexes: IndexPlan;
  /** The service's routes, or its routes with start-up work and background work of its own (`ServiceParts`). */
  routes(dependencies: ServiceDependencies<z.output<S>>): Router | ServiceParts;
}

/** A service that keeps state of its own beside the database (a search index, say). */
export interface ServiceParts {
  router: Router;
  /**
   * Start-up work before the service takes business requests (e.g. loading its search index); readiness stays 503
   * until it resolves. It retries on its own until `shutdown` (ServiceDependencies) aborts.
   */
  warmUp?: () => Promise<void>;
  /** Stops the service's own background work on shutdown, before the database closes. */
  stop?: () => void | Promise<void>;
}

const isRouter = (value: Router | ServiceParts): value is Router => typeof value === 'function';

/**
 * Wires a service the same way every time: config → logger → database → events → app → listen. A bad config stops
 * the process before it listens; a missing database only delays readiness.
 */
export async function startService<S extends ServiceConfigSchema>(
  definition: ServiceDefinition<S>,
  env: NodeJS.ProcessEnv = process.env,
): Promise<RunningService> {
  const config: z.output<S> = loadConfig(definition.configSchema, env);
  const logger = createLogger(config.SERVICE_NAME, config.LOG_LEVEL);
  const database = openDatabase({
    uri: config.MONGODB_URI,
    database: config.MONGODB_DATABASE,
    serverSelectionTimeoutMs: config.MONGODB_SERVER_SELECTION_TIMEOUT_MS,
    appName: config.SERVICE_NAME,
  });
  const events = createEventPublisher({
    serviceName: config.SERVICE_NAME,
    daprHost: config.DAPR_HOST,
    daprHttpPort: config.DAPR_HTTP_PORT,
    daprApiToken: config.DAPR_API_TOKEN,
    pubsubName: config.EVENTS_PUBSUB,
    topic: config.EVENTS_TOPIC,
    logger,
    relayIntervalMs: config.OUTBOX_RELAY_INTERVAL_MS,
  });
  const metrics = config.METRICS_PORT === undefined ? undefined : createMetrics(config.SERVICE_NAME);
  const revisions: RevisionOptions = {
    staleAfterMs: config.REVISION_CLAIM_STALE_MS,
    retryBudgetMs: config.REVISION_RETRY_BUDGET_MS,
    logger,
  };

  let indexesReady = false;
  let warm = false;
  let accepting = true;
  // Stops index creation and any background work the routes started.
  const stopIndexing = new AbortController();
  void ensureIndexes(database.db, definition.indexes, logger, stopIndexing.signal)
    .then(() => {
      indexesReady = true;
    })
    .catch((error: unknown) => logger.debug('index creation stopped', { error: String(error) }));

  // Activity counting: a map update per request; the actors get one coalesced report per person and second.
  const activity =
    config.ACTIVITY_REPORTING === 'on'
      ? createActivityReporter({ service: config.SERVICE_NAME, client: userActivityClientFromConfig(config), logger })
      : undefined;

  const built = definition.routes({ config, logger, database, events, revisions, shutdown: stopIndexing.signal, metrics, activity });
  const parts: ServiceParts = isRouter(built) ? { router: built } : built;
  const app = createApp({
    serviceName: config.SERVICE_NAME,
    logger,
    appApiToken: config.APP_API_TOKEN,
    bodyLimit: config.BODY_LIMIT,
    resourceClient: config.AUTH_RESOURCE_CLIENT,
    leanLane: config.LEAN_LANE === 'on',
    readiness: [
      { name: 'database', check: () => database.ping() },
      {
        name: 'database-indexes',
        check: async () => {
          if (!indexesReady) throw new Error('indexes not created yet');
        },
      },
      sidecarCheck(config.DAPR_HOST, config.DAPR_HTTP_PORT),
      {
        name: 'warm-up',
        check: async () => {
          if (!warm) throw new Error('start-up work not finished yet');
        },
      },
    ],
    routes: parts.router,
    isAcceptingWork: () => accepting && indexesReady && warm,
    metrics,
    onPersonRequest: activity && ((principal) => activity.record(principal.subject)),
  });
  if (!parts.warmUp) warm = true;
  else {
    void parts
      .warmUp()
      .then(() => {
        warm = true;
        logger.info('warmed up');
      })
      .catch((error: unknown) => logger.error('start-up work failed', { error: String(error) }));
  }

  // Before the app listens, so a taken port stops the start-up instead of leaving a service nobody can scrape.
  const closeMetrics = metrics && config.METRICS_PORT !== undefined ? await metrics.serve(config.METRICS_PORT, config.METRICS_HOST) : undefined;
  if (closeMetrics) logger.info('metrics listening', { host: config.METRICS_HOST, port: config.METRICS_PORT, path: '/metrics' });

  const listening = listen({
    app,
    host: config.APP_HOST,
    port: config.APP_PORT,
    logger,
    graceMs: config.SHUTDOWN_GRACE_MS,
    setAcceptingWork: (value) => {
      accepting = value;
    },
    // Metrics close last, so a scrape during the drain still sees the last requests.
    onShutdown: [() => stopIndexing.abort(), () => parts.stop?.(), () => activity?.stop(), () => events.stop(), () => database.close(), () => closeMetrics?.()],
  });
  // An app that cannot listen must not leave the metrics port holding the process open.
  return listening.catch(async (error: unknown) => {
    await closeMetrics?.();
    throw error;
  });
}

/** The one place a service's main() failure is reported: catastrophic errors print their detail and exit non-zero. */
export function reportStartupFailure(error: unknown): void {
  const message = error instanceof AppError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error);
  process.stderr.write(`${JSON.stringify({ level: 'error', msg: 'start-up failed', error: message })}\n`);
  process.exitCode = 1;
}
