import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import express, { type ErrorRequestHandler, type Express, type Request, type RequestHandler, type Response, type Router } from 'express';
import helmet from 'helmet';
import { z } from 'zod';
import { actorOf, appTokenProblem, principalOf, readPrincipal, requireAppApiToken, requireRole, roleProblem, type Principal } from './auth';
import { AppError, toProblem } from './errors';
import { checkReadiness, type ReadinessCheck } from './health';
import { allowedMethods, clientPath } from './http-paths';
import { constantVersion, hasBody, headerOf, leanMatcher, sendAnswer, type LeanMatch } from './lean-routes';
import { logLevels, type Logger } from './logger';
import type { Metrics } from './metrics';
import { isDatabaseUnavailable } from './mongo';
import { requestContext, traceIdOf, type RequestContext } from './request-context';
import { parseInput } from './validation';

export interface AppOptions {
  serviceName: string;
  logger: Logger;
  appApiToken: string;
  bodyLimit: string;
  resourceClient: string;
  readiness: readonly ReadinessCheck[];
  /** The service's own routes; mounted behind the app-token check, with `req.principal` already read. */
  routes: Router;
  /** While false, business routes answer 503 (start-up before indexes exist, or shutdown drain). */
  isAcceptingWork: () => boolean;
  /** When given, every request's latency goes into its histogram (metrics.ts); without it nothing is measured. */
  metrics?: Pick<Metrics, 'observeRequest'> | undefined;
  /**
   * Called for each request a person makes (a token without the `service` role), before it is routed: activity counting
   * (user-activity.ts). It must be cheap and must not throw; it runs on every request.
   */
  onPersonRequest?: ((principal: Principal) => void) | undefined;
  /**
   * Whether lean routes are answered without Express (lean-routes.ts); default on. Off, Express routes them as any
   * other: the same answers, at Express's cost per request (how tests prove the two alike, and `LEAN_LANE=off`
   * measures what the lane saves).
   */
  leanLane?: boolean | undefined;
}

/** The probes, which the app-token check lets through (the kubelet and the devstack call them without a token). */
export const healthPaths = ['/healthz', '/readyz'] as const;

/** `/healthz` (the process answers) and `/readyz` (every check passes and the app takes work), the same in every app. */
export function serveProbes(app: Express, readiness: readonly ReadinessCheck[], isAcceptingWork: () => boolean): void {
  app.get('/healthz', (_req, res) => {
    res.json({ status: 'alive' });
  });
  app.get('/readyz', async (_req, res) => {
    const report = await checkReadiness(readiness);
    const ready = report.status === 'ready' && isAcceptingWork();
    res.status(ready ? 200 : 503).json(ready ? report : { ...report, status: 'not-ready' });
  });
}

const logLevelBody = z.object({ level: z.enum(logLevels) });

/** Express with the settings every app of the platform runs with (the API apps' createApp and the web front end). */
export function newExpressApp(): Express {
  const app = express();
  app.disable('x-powered-by');
  // Behind its own sidecar on loopback: forwarded headers are believed from there only.
  app.set('trust proxy', 'loopback');
  app.set('query parser', 'simple');
  // Express would hash every body it sends into a weak ETag (≈ 2 µs for a small JSON body, ≈ 21 µs for an OpenAPI
  // document) and answer 304 on a match, on routes that never promised either. ETags here mean a version
  // (conditional.ts) or a constant body (constantJson), set by the routes that document them.
  app.set('etag', false);
  return app;
}

/** Builds a service's Express app with the platform's fixed shape: same middleware, same errors, same probes. */
export function createApp(options: AppOptions): Express {
  const { logger } = options;
  const app = newExpressApp();

  const setFixedHeaders = headerSetter(apiSecurityHeaders());
  app.use(withRequestContext(logger, options.metrics));
  app.use((_req, res, next) => {
    setFixedHeaders(res);
    next();
  });

  serveProbes(app, options.readiness, options.isAcceptingWork);
  app.use(requireAppApiToken(options.appApiToken, healthPaths));
  app.use(jsonBodies(express.json({ limit: options.bodyLimit, type: ['application/json', 'application/*+json'], strict: true })));
  app.use(readPrincipal(options.resourceClient));
  const onPersonRequest = options.onPersonRequest;
  if (onPersonRequest) {
    app.use((req, _res, next) => {
      if (req.principal && !req.principal.roles.has('service')) onPersonRequest(req.principal);
      next();
    });
  }

  app.put('/admin/log-level', requireRole('admin'), (req, res) => {
    const { level } = parseInput(logLevelBody, req.body, 'body');
    logger.setLevel(level);
    logger.warn('log level changed', { level, by: req.principal?.subject });
    res.json({ level });
  });

  app.use((_req, _res, next) => {
    if (!options.isAcceptingWork()) {
      next(new AppError('dependency-unavailable', { detail: `${options.serviceName} is not ready`, retryAfterSeconds: 2 }));
      return;
    }
    next();
  });
  app.use(options.routes);

  // No route took the request: 405 with Allow when the path is served for other methods, else 404.
  const unrouted = (req: Request, res: Response): AppError => {
    const allowed = allowedMethods([app.router], req.path);
    if (allowed.length === 0) return new AppError('not-found', { detail: `No route for ${req.method} ${req.path}` });
    res.setHeader('allow', allowed.join(', '));
    return new AppError('method-not-allowed', { detail: `${req.method} is not served on this path; use ${allowed.join(', ')}` });
  };
  app.use((req, res, next) => {
    next(unrouted(req, res));
  });
  // A body refused before routing (415, 413, malformed JSON) matters only where a route takes the method.
  app.use(((error, req, res, next) => {
    const bodyProblem = error instanceof AppError ? error.status === 415 : ['entity.too.large', 'entity.parse.failed'].includes((error as BodyParserError)?.type ?? '');
    next(bodyProblem && !allowedMethods([app.router], req.path).includes(req.method) ? unrouted(req, res) : error);
  }) as ErrorRequestHandler);
  app.use(errorHandler(logger));

  if (options.leanLane !== false) answerLeanRoutesDirectly(app, options, setFixedHeaders);
  return app;
}

/**
 * The lean lane (lean-routes.ts): a request for a lean route that Express would route to it is answered here, with the
 * same steps as the middleware above in the same order — context and request line, fixed headers, app token,
 * principal, person counting, readiness, role — and the same answer and problem writers; any other request goes to
 * Express unchanged. It wraps `app.handle`, which the Express app function calls for every request, so servers and
 * supertest alike pass through it.
 */
function answerLeanRoutesDirectly(app: Express, options: AppOptions, setFixedHeaders: (res: ServerResponse) => void): void {
  const match = leanMatcher(app.router, options.routes);
  const { logger, metrics, appApiToken, resourceClient, onPersonRequest, isAcceptingWork, serviceName } = options;
  type Handle = (req: IncomingMessage, res: ServerResponse, next?: unknown) => void;
  const routed = app as unknown as { handle: Handle };
  const expressHandle = routed.handle.bind(app);
  const answer = async (req: IncomingMessage, res: ServerResponse, lean: LeanMatch, context: RequestContext): Promise<void> => {
    try {
      setFixedHeaders(res);
      const header = headerOf(req);
      const tokenProblem = appTokenProblem(header('dapr-api-token'), appApiToken);
      if (tokenProblem) throw tokenProblem;
      const principal = principalOf(header('authorization'), resourceClient);
      if (principal) {
        context.actor = actorOf(principal);
        if (onPersonRequest && !principal.roles.has('service')) onPersonRequest(principal);
      }
      if (!isAcceptingWork()) throw new AppError('dependency-unavailable', { detail: `${serviceName} is not ready`, retryAfterSeconds: 2 });
      const problem = roleProblem(principal, lean.route.roles);
      if (problem) throw problem;
      if (!principal) throw new Error('roleProblem let a request without principal through');
      sendAnswer(req, res, await lean.route.answer({ params: lean.params, query: lean.query, principal, header }));
    } catch (error) {
      sendProblem(req, res, error, logger);
    }
  };
  routed.handle = (req, res, next) => {
    const lean = match(req);
    if (!lean) {
      expressHandle(req, res, next);
      return;
    }
    const context = beginRequest(req, res, lean.path, logger, metrics, lean.route.path);
    requestContext.run(context, () => void answer(req, res, lean, context));
  };
}

/**
 * Request id, trace id and one log line per request. The line is written on `close` (it also fires when the client
 * gives up), with the trace id a problem body shows, so an error report leads straight to its line. The latency
 * histogram is fed from the same listener and the same clock reading: no second listener or timer per request.
 */
function withRequestContext(logger: Logger, metrics: AppOptions['metrics']): RequestHandler {
  return (req, res, next) => {
    requestContext.run(beginRequest(req, res, req.path, logger, metrics), next);
  };
}

/** What every request starts with, routed by Express or by the lean lane: its context, id header and log line. */
function beginRequest(req: IncomingMessage, res: ServerResponse, path: string, logger: Logger, metrics: AppOptions['metrics'], route?: string): RequestContext {
  const header = headerOf(req);
  const traceparent = header('traceparent');
  const requestId = header('x-request-id') ?? randomUUID();
  const traceId = traceIdOf(traceparent);
  res.setHeader('x-request-id', requestId);
  const started = performance.now();
  const method = req.method ?? '';
  res.once('close', () => {
    const durationMs = performance.now() - started;
    metrics?.observeRequest(req, res, durationMs, route);
    logger.request({
      method,
      path,
      status: res.statusCode,
      durationMs,
      requestId,
      traceId,
      aborted: !res.writableFinished,
    });
  });
  const context: RequestContext = { requestId };
  if (traceId) context.traceId = traceId;
  if (traceparent && traceId) context.traceparent = traceparent;
  // daprd already verified it; calls this request makes to other services forward it (the invocation helper).
  const authorization = header('authorization');
  if (authorization) context.authorization = authorization;
  return context;
}

/**
 * helmet configured for a JSON API, after OWASP's REST Security Cheat Sheet: a policy that lets a response load and
 * frame nothing, no MIME sniffing, no framing, HSTS. helmet's other eight defaults guard HTML pages (referrer,
 * cross-origin isolation, old IE and Flash switches) and cost every API response ≈ 470 bytes, which daprd copies on each
 * hop (≈ 40 µs of its CPU per request, runtime.md). The web front end keeps helmet's page headers.
 */
export const apiSecurityHeaders = (): RequestHandler =>
  helmet({
    contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
    xFrameOptions: { action: 'deny' },
    crossOriginOpenerPolicy: false,
    crossOriginResourcePolicy: false,
    originAgentCluster: false,
    referrerPolicy: false,
    xDnsPrefetchControl: false,
    xDownloadOptions: false,
    xPermittedCrossDomainPolicies: false,
    xXssProtection: false,
  }) as RequestHandler;

/**
 * helmet's headers do not depend on the request with the options used here, so they are collected once at start-up
 * and set in one loop, instead of running helmet's dozen middlewares on every request.
 */
export function fixedHeaders(middleware: RequestHandler): RequestHandler {
  const setHeaders = headerSetter(middleware);
  return (_req, res, next) => {
    setHeaders(res);
    next();
  };
}

function headerSetter(middleware: RequestHandler): (res: ServerResponse) => void {
  const headers = new Map<string, string | number | readonly string[]>();
  const recorder = {
    setHeader: (name: string, value: string | number | readonly string[]) => headers.set(name, value),
    removeHeader: (name: string) => headers.delete(name),
  };
  let called = false;
  middleware({} as never, recorder as never, (error?: unknown) => {
    if (error) throw error instanceof Error ? error : new Error(String(error));
    called = true;
  });
  if (!called) throw new Error('fixedHeaders: the middleware did not finish synchronously, so its headers vary per request');
  const entries = [...headers];
  return (res) => {
    for (const [name, value] of entries) res.setHeader(name, value);
  };
}

/** A constant JSON document as an Express handler, for apps whose routes need no role (lean-routes.ts has the rest). */
export function constantJson(body: string): RequestHandler {
  const encodedBody = Buffer.from(body, 'utf8');
  const answer = { encodedBody, version: constantVersion(encodedBody) };
  return (req, res) => {
    sendAnswer(req, res, answer);
  };
}

/**
 * A body on a write must be JSON (415 otherwise, rather than an empty object reaching the domain); a body is parsed
 * only when there is one, so reads skip the parser altogether.
 */
function jsonBodies(parse: RequestHandler): RequestHandler {
  return (req, res, next) => {
    if (!hasBody(req)) {
      next();
      return;
    }
    if (['POST', 'PUT', 'PATCH'].includes(req.method) && !req.is(['application/json', 'application/*+json'])) {
      next(new AppError('unsupported-media-type', { detail: 'Send the body as application/json' }));
      return;
    }
    parse(req, res, next);
  };
}

interface BodyParserError {
  type?: string;
  status?: number;
}

function asAppError(error: unknown): AppError {
  if (error instanceof AppError) return error;
  if (isDatabaseUnavailable(error)) {
    return new AppError('dependency-unavailable', { code: 'database-unavailable', detail: 'The database is unreachable', cause: error, retryAfterSeconds: 2 });
  }
  const parserError = error as BodyParserError;
  switch (parserError?.type) {
    case 'entity.parse.failed':
      return new AppError('validation', { code: 'malformed-json', detail: 'The body is not valid JSON', cause: error });
    case 'entity.too.large':
      return new AppError('payload-too-large', { cause: error });
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new AppError('unsupported-media-type', { detail: 'Unsupported body encoding or charset', cause: error });
    default:
      if (parserError?.status && parserError.status >= 400 && parserError.status < 500) {
        return new AppError('validation', { detail: 'The request could not be read', cause: error });
      }
      return new AppError('internal', { cause: error });
  }
}

function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error, req, res, _next) => {
    sendProblem(req, res, error, logger);
  };
}

/** Any error as problem+json, the same for a request Express routed and one the lean lane answered. */
function sendProblem(req: IncomingMessage & { originalUrl?: string }, res: ServerResponse, error: unknown, logger: Logger): void {
  const appError = asAppError(error);
  const traceId = requestContext.getStore()?.traceId;
  const path = (req.originalUrl ?? req.url ?? '').split('?', 1)[0];
  if (appError.kind === 'internal') {
    logger.error('unexpected error', {
      error: error instanceof Error ? { name: error.name, message: error.message, stack: error.stack } : String(error),
      path,
    });
  } else if (appError.status >= 500) {
    // Expected outages (database down, not ready yet): one line, no stack, so real bugs stand out.
    const cause = appError.cause instanceof Error ? appError.cause.message : undefined;
    logger.warn(appError.message, { path, code: appError.code, cause });
  }
  if (appError.retryAfterSeconds) res.setHeader('retry-after', String(appError.retryAfterSeconds));
  if (res.headersSent) {
    res.end();
    return;
  }
  const bytes = Buffer.from(JSON.stringify(toProblem(appError, clientPath(req), traceId)), 'utf8');
  res.statusCode = appError.status;
  res.setHeader('content-type', 'application/problem+json; charset=utf-8');
  res.setHeader('content-length', String(bytes.length));
  res.end(bytes);
}
