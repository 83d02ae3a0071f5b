import { createLogger, createMetrics, createServiceInvoker, loadConfig, reportStartupFailure, serveApp, sidecarCheck } from '@mercato/platform';
import { webConfigSchema } from './config';
import { createPlatformApi } from './data-access/platform-api';
import { DaprSessionStore } from './data-access/session-store';
import { webApiRoutes } from './entry-points/api/routes';
import { createWebApp } from './entry-points/app';
import { auditPages } from './entry-points/pages/audit-pages';
import { catalogPages } from './entry-points/pages/catalog-pages';
import { memePages } from './entry-points/pages/meme-pages';
import { createPages } from './entry-points/pages/render';
import { sessionPages } from './entry-points/pages/session-pages';
import { userPages } from './entry-points/pages/user-pages';

/**
 * The browser front end: server-rendered pages behind Keycloak sign-in, calling the services through its own sidecar
 * with the signed-in person's token. No database and no service identity of its own: it acts only for people.
 */
async function main() {
  const config = loadConfig(webConfigSchema);
  const logger = createLogger(config.SERVICE_NAME, config.LOG_LEVEL);
  const api = createPlatformApi(
    createServiceInvoker({ daprHost: config.DAPR_HOST, daprHttpPort: config.DAPR_HTTP_PORT, daprApiToken: config.DAPR_API_TOKEN, timeoutMs: config.API_TIMEOUT_MS }),
  );
  const sessions = new DaprSessionStore({
    daprHost: config.DAPR_HOST,
    daprHttpPort: config.DAPR_HTTP_PORT,
    daprApiToken: config.DAPR_API_TOKEN,
    storeName: config.SESSIONS_STORE,
    logger,
  });
  const pages = createPages();
  // Prometheus `/metrics` on its own port, never behind the sidecar or the ingress, as in every service.
  const metrics = config.METRICS_PORT === undefined ? undefined : createMetrics(config.SERVICE_NAME);
  const closeMetrics = metrics && config.METRICS_PORT !== undefined ? await metrics.serve(config.METRICS_PORT, config.METRICS_HOST) : undefined;
  await serveApp({
    config,
    logger,
    build: (isAcceptingWork) =>
      createWebApp({
        config,
        logger,
        sessions,
        pages,
        readiness: [sidecarCheck(config.DAPR_HOST, config.DAPR_HTTP_PORT)],
        isAcceptingWork,
        routers: [webApiRoutes(), sessionPages(pages), catalogPages(api, pages, config.CATALOG_CURRENCY), auditPages(api, pages), userPages(api, pages), memePages(api, pages)],
        metrics,
      }),
    onShutdown: [() => closeMetrics?.()],
  });
}

main().catch(reportStartupFailure);
