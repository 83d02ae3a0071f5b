import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import path from 'node:path';
import { fixedHeaders, healthPaths, newExpressApp, requestContext, traceIdOf, type RequestContext, requireAppApiToken, serveProbes, type Logger, type Metrics, type ReadinessCheck } from '@mercato/platform';
import cookieParser from 'cookie-parser';
import { doubleCsrf } from 'csrf-csrf';
import express, { type ErrorRequestHandler, type Express, type NextFunction, type Request, type Response, type Router } from 'express';
import { auth } from 'express-openid-connect';
import helmet from 'helmet';
import type { WebConfig } from '../config';
import type { DaprSessionStore } from '../data-access/session-store';
import { problemViewOf } from '../domain/problem-view';
import { safeReturnTo } from '../domain/return-to';
import { anonymous, viewerOf } from '../domain/viewer';
import { csrfCookieName, csrfFieldName, sessionCookieName } from './cookies';
import type { Pages } from './pages/render';

export interface WebAppOptions {
  config: WebConfig;
  logger: Logger;
  sessions: DaprSessionStore;
  pages: Pages;
  readiness: readonly ReadinessCheck[];
  isAcceptingWork: () => boolean;
  /** The site's pages (sign-in and sign-out among them) and its document, each router mounted at `/`. */
  routers: readonly Router[];
  /** When given, every request's latency goes into its histogram, as in every service (metrics.ts). */
  metrics?: Pick<Metrics, 'observeRequest'> | undefined;
}


/**
 * The web's Express app. It is not the platform's API app (createApp): it answers HTML, takes form posts, and holds
 * sessions; what it shares with every service is the app-token check (only its sidecar may call it), the probes, one
 * log line per request, and helmet.
 */
export function createWebApp(options: WebAppOptions): Express {
  const { config, logger, pages } = options;
  const secure = config.WEB_BASE_URL.startsWith('https:');
  const keycloakOrigin = new URL(config.OIDC_ISSUER).origin;
  const notFound = (req: Request, res: Response) =>
    pages.send(res, 404, 'problem', { title: 'Not found', problem: { ...problemViewOf(undefined), status: 404, title: 'Not found', detail: `There is no page at ${req.path}.` } });
  const app = newExpressApp();

  app.use(requestLine(logger, options.metrics));
  app.use(
    fixedHeaders(
      helmet({
        contentSecurityPolicy: {
          useDefaults: false,
          directives: {
            defaultSrc: ["'none'"],
            // No inline script or style anywhere: one stylesheet and one small script, both from this site.
            scriptSrc: ["'self'"],
            styleSrc: ["'self'"],
            imgSrc: ["'self'", 'data:'],
            connectSrc: ["'self'"],
            // Signing out posts here and is redirected on to Keycloak's end-session page: a form's redirect counts.
            formAction: ["'self'", keycloakOrigin],
            frameAncestors: ["'none'"],
            baseUri: ["'none'"],
            objectSrc: ["'none'"],
            // Over plain http (a laptop) the upgrade would send the stylesheet to an https port nobody listens on.
            ...(secure ? { upgradeInsecureRequests: [] } : {}),
          },
        },
        strictTransportSecurity: secure ? { maxAge: 31_536_000 } : false,
        referrerPolicy: { policy: 'same-origin' },
      }),
    ),
  );

  serveProbes(app, options.readiness, options.isAcceptingWork);
  app.use(requireAppApiToken(config.APP_API_TOKEN, healthPaths));
  app.use(
    '/static',
    express.static(path.join(__dirname, '..', '..', 'public'), { index: false, maxAge: '1h', fallthrough: false }),
  );
  app.use(express.urlencoded({ extended: false, limit: config.BODY_LIMIT, parameterLimit: 200 }));
  app.use(cookieParser());

  app.use(
    auth({
      issuerBaseURL: config.OIDC_ISSUER,
      baseURL: config.WEB_BASE_URL,
      clientID: config.OIDC_CLIENT_ID,
      clientSecret: config.OIDC_CLIENT_SECRET,
      secret: config.SESSION_SECRET,
      authRequired: false,
      // The code flow (with PKCE, which the library adds to it) over a GET callback: no cross-site form post.
      authorizationParams: { response_type: 'code', scope: 'openid profile email' },
      // Signing out ends the Keycloak session too, not only this site's.
      idpLogout: true,
      // Sign-in and sign-out are this app's own routes (pages/session-pages.ts): returnTo checked, sign-out CSRF-checked.
      routes: { login: false, logout: false, postLogoutRedirect: '/signed-out' },
      session: {
        name: sessionCookieName,
        // The tokens stay server-side: the cookie holds a signed random id (data-access/session-store.ts).
        store: options.sessions as never,
        signSessionStoreCookie: true,
        requireSignedSessionStoreCookie: true,
        genid: () => randomBytes(32).toString('base64url'),
        rolling: true,
        rollingDuration: config.SESSION_IDLE_SECONDS,
        absoluteDuration: config.SESSION_ABSOLUTE_SECONDS,
        cookie: { httpOnly: true, sameSite: 'Lax', secure },
      },
      transactionCookie: { sameSite: 'Lax' },
    }),
  );

  // The access token for this request: refreshed a little before it expires, so a call never carries a token that
  // expires on its way. A refresh that fails (the Keycloak session ended: signed out elsewhere, deactivated) signs
  // the person out of this site too.
  app.use(async (req: Request, res: Response, next: NextFunction) => {
    let token: string | undefined;
    if (req.oidc.isAuthenticated()) {
      let accessToken = req.oidc.accessToken;
      try {
        if (accessToken && accessToken.expires_in <= config.TOKEN_REFRESH_LEEWAY_SECONDS) accessToken = await accessToken.refresh();
        token = accessToken?.access_token;
      } catch (error) {
        logger.info('token refresh refused; the session ends', { error: String(error) });
        (req as unknown as Record<string, unknown>)[sessionCookieName] = undefined;
        token = undefined;
      }
    }
    const user = req.oidc.user as { name?: string; preferred_username?: string } | undefined;
    const viewer = token ? viewerOf(token, user?.name ?? user?.preferred_username, config.AUTH_RESOURCE_CLIENT) : anonymous;
    res.locals['viewer'] = viewer;
    res.locals['currentPath'] = req.originalUrl;
    const context: RequestContext = { requestId: String(res.getHeader('x-request-id') ?? randomUUID()) };
    if (token) context.authorization = `Bearer ${token}`;
    // The page's trace (daprd starts one for every request it forwards): the calls the page makes join it, so one page
    // is one trace across the services it reads, as a request is everywhere else.
    const traceparent = req.header('traceparent');
    const traceId = traceIdOf(traceparent);
    if (traceparent && traceId) Object.assign(context, { traceparent, traceId });
    requestContext.run(context, next);
  });

  // Derived once: csrf-csrf asks for it on every form it makes or checks.
  const csrfKey = csrfSecret(config.SESSION_SECRET);
  const { doubleCsrfProtection, generateCsrfToken } = doubleCsrf({
    getSecret: () => csrfKey,
    // Bound to the session cookie: a token taken from one session is worthless in another.
    getSessionIdentifier: (req) => String((req.cookies as Record<string, unknown> | undefined)?.[sessionCookieName] ?? ''),
    cookieName: csrfCookieName,
    cookieOptions: { sameSite: 'lax', secure, httpOnly: true, path: '/' },
    // Only a single string counts: a repeated field arrives as an array and is refused like a missing one.
    getCsrfTokenFromRequest: (req) => {
      const token = (req.body as Record<string, unknown> | undefined)?.[csrfFieldName];
      return typeof token === 'string' ? token : undefined;
    },
  });
  // Pages take GET and form POSTs only: any other method names no resource here (and never reaches the CSRF check).
  app.use((req, res, next) => {
    if (['GET', 'HEAD', 'POST'].includes(req.method)) next();
    else notFound(req, res);
  });
  app.use(doubleCsrfProtection);
  app.use((req, res, next) => {
    res.locals['csrfToken'] = generateCsrfToken(req, res);
    next();
  });

  for (const router of options.routers) app.use(router);

  app.use((req, res) => notFound(req, res));
  app.use(((error: unknown, req, res, _next) => {
    if ((error as { code?: unknown })?.code === 'EBADCSRFTOKEN') {
      logger.warn('form post refused: CSRF token missing or wrong', { path: req.path });
      pages.send(res, 403, 'problem', {
        title: 'Form expired',
        problem: { ...problemViewOf(undefined), status: 403, title: 'This form has expired', detail: 'The form was not sent from this site, or it is too old. Nothing was changed; open the page again and resend it.' },
      });
      return;
    }
    const status = (error as { status?: unknown })?.status;
    if (typeof status === 'number' && status >= 400 && status < 500 && !(error instanceof Error && error.name === 'AppError')) {
      // Body parser refusals (too large, malformed) and the like.
      pages.send(res, status, 'problem', { title: 'Bad request', problem: { ...problemViewOf(undefined), status, title: 'The request could not be read', detail: 'Nothing was changed.' } });
      return;
    }
    if ((error as { code?: unknown })?.code === 'missing-app-token') {
      res.status(401).type('text/plain').end('Only the sidecar may call this app');
      return;
    }
    const problem = problemViewOf(error);
    if (problem.status >= 500 && problem.status !== 503) logger.error('page failed', { path: req.path, error: String(error), stack: (error as Error)?.stack });
    if (problem.status === 401) {
      res.redirect(303, `/login?returnTo=${encodeURIComponent(safeReturnTo(req.originalUrl))}`);
      return;
    }
    if (problem.retryAfterSeconds) res.setHeader('retry-after', String(problem.retryAfterSeconds));
    pages.send(res, problem.status, 'problem', { title: problem.title, problem });
  }) as ErrorRequestHandler);
  return app;
}

/** The CSRF tokens' key, derived from the session secret so a deployment has one secret to manage, not two. */
const csrfSecret = (sessionSecret: string) => createHmac('sha256', sessionSecret).update('mercato-web-csrf').digest('base64url');

function requestLine(logger: Logger, metrics: WebAppOptions['metrics']) {
  return (req: Request, res: Response, next: NextFunction) => {
    const requestId = req.header('x-request-id') ?? randomUUID();
    res.setHeader('x-request-id', requestId);
    const started = performance.now();
    const { method } = req;
    const pathOnly = req.path;
    res.once('close', () => {
      const durationMs = performance.now() - started;
      metrics?.observeRequest(req, res, durationMs);
      logger.request({ method, path: pathOnly, status: res.statusCode, durationMs, requestId, aborted: !res.writableFinished });
    });
    next();
  };
}
