import { CommunicationProtocolEnum, DaprClient, LogLevel as DaprLogLevel } from '@dapr/dapr';
import { createApp, createLogger, loadConfig, reportStartupFailure, serveApp, sidecarCheck } from '@mercato/platform';
import { Router } from 'express';
import { activityConfigSchema } from './config';
import { actorHostRoutes } from './entry-points/actors/routes';
import { activityApiRoutes } from './entry-points/api/routes';
import { userActivityActor } from './entry-points/actors/user-activity-actor';

/**
 * The actor host: an internal app that only its own sidecar calls (docs/request-flow.md, "Actors"). It is the platform's
 * app (createApp: app-token check on every request, problem+json, one log line per request) bound to loopback, with
 * daprd's actor routes instead of a public API; it has no database, so it does not use startService.
 */
async function main() {
  const config = loadConfig(activityConfigSchema);
  const logger = createLogger(config.SERVICE_NAME, config.LOG_LEVEL);
  // The SDK's client for the actor state and reminders, through this replica's own sidecar with its API token.
  const daprClient = new DaprClient({
    daprHost: config.DAPR_HOST,
    daprPort: String(config.DAPR_HTTP_PORT),
    communicationProtocol: CommunicationProtocolEnum.HTTP,
    daprApiToken: config.DAPR_API_TOKEN,
    logger: { level: DaprLogLevel.Warn },
  });
  await serveApp({
    config,
    logger,
    build: (isAcceptingWork) =>
      createApp({
        serviceName: config.SERVICE_NAME,
        logger,
        appApiToken: config.APP_API_TOKEN,
        bodyLimit: config.BODY_LIMIT,
        resourceClient: config.AUTH_RESOURCE_CLIENT,
        readiness: [sidecarCheck(config.DAPR_HOST, config.DAPR_HTTP_PORT)],
        routes: Router().use(activityApiRoutes()).use(actorHostRoutes({
          daprClient,
          actorClass: userActivityActor({
            rollupIntervalSeconds: config.ACTIVITY_ROLLUP_INTERVAL_SECONDS,
            keepDays: config.ACTIVITY_KEEP_DAYS,
            logger,
          }),
          idleTimeout: config.ACTIVITY_IDLE_TIMEOUT,
        })),
        isAcceptingWork,
      }),
  });
}

main().catch(reportStartupFailure);
