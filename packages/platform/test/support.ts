import type { Router } from 'express';
import { createApp, type AppOptions } from '../src/http';
import { createLogger } from '../src/logger';

/** The app token the test apps accept; send it as `dapr-api-token`, as daprd does. */
export const testAppToken = 'app-token-0123456789';

/** A service app with the platform's shape around `routes`; `options` replaces any of the defaults. */
export function testApp(routes: Router, options: Partial<AppOptions> = {}) {
  return createApp({
    serviceName: 'test',
    logger: createLogger('test', 'error'),
    appApiToken: testAppToken,
    bodyLimit: '1kb',
    resourceClient: 'mercato-api',
    readiness: [],
    routes,
    isAcceptingWork: () => true,
    ...options,
  });
}
