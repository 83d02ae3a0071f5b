import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQuery, type ParsedUrlQuery } from 'node:querystring';
import type { Request, Router } from 'express';
import { requireRole, type Principal, type Role } from './auth';
import { etagOf, isNotModified } from './conditional';

/**
 * A route the platform can answer without Express. Express costs about 200 µs of CPU per request before a route runs
 * (its router, the request and response prototypes, `res.json`), several times what daprd leaves for the app on the
 * hottest routes (runtime.md, "What the request path costs"). A lean route is declared once, here; it is mounted on
 * the service's Express router like any route (so 405s, the OpenAPI drift test and every fallback see it), and
 * createApp's lean lane answers the plain cases itself: a GET or POST without a body whose path Express would route
 * to this very route. Everything else — a body, HEAD, a path Express would give to an earlier route — goes through
 * Express to the same `answer`, so both paths give the same response by construction.
 */
export interface LeanRoute {
  method: 'get' | 'post';
  /** Express syntax, matched by Express's own matcher (parameters as `:name`). */
  path: string;
  /** The caller needs one of these (403 otherwise), as `requireRole` checks on an Express route. */
  roles: readonly Role[];
  answer(request: LeanRequest): LeanAnswer | Promise<LeanAnswer>;
}

/** What a lean route may read of its request: nothing that needs a body or Express. */
export interface LeanRequest {
  params: Readonly<Record<string, string>>;
  /** Parsed as the apps' `simple` query parser does (node:querystring). */
  query: ParsedUrlQuery;
  principal: Principal;
  header(name: string): string | undefined;
}

/**
 * A JSON answer: `body` is serialised per request, `encodedBody` is already JSON (a constant document encoded once).
 * With `version`, an ETag, and 304 to a GET (or HEAD) whose If-None-Match names that version.
 */
export type LeanAnswer = { status?: number; version?: number } & ({ body: unknown } | { encodedBody: Buffer });

interface RegisteredLeanRoute {
  route: LeanRoute;
  /** The Express route object `router.route(path)` made: how the lean lane recognises Express's choice. */
  expressRoute: object;
}

const registered = new WeakMap<Router, RegisteredLeanRoute[]>();

/** Mounts a lean route on the service's router (order matters as for any route) and records it for the lean lane. */
export function serveLean(router: Router, route: LeanRoute): void {
  const expressRoute = router.route(route.path);
  expressRoute[route.method](requireRole(...route.roles), async (req: Request, res) => {
    const principal = req.principal;
    if (!principal) throw new Error('requireRole let a request without principal through');
    sendAnswer(req, res, await route.answer({ params: req.params as Record<string, string>, query: req.query as ParsedUrlQuery, principal, header: headerOf(req) }));
  });
  const routes = registered.get(router) ?? [];
  routes.push({ route, expressRoute });
  registered.set(router, routes);
}

/**
 * A JSON document that never changes while the process runs (a service's OpenAPI document), as a lean route: encoded
 * once at start-up with a strong ETag (its hash written as a version, compared like every other ETag of the platform),
 * so a request pays neither the encoding nor a hash, and a client holding it gets 304.
 *
 * Not gzipped: daprd's Go HTTP client asks the app for gzip on behalf of every caller that did not ask itself and
 * inflates the answer for it (≈ 75 µs of daprd CPU for a 23 KB document), so the app cannot tell a client that
 * accepts gzip from one that does not; compression belongs where the client's own Accept-Encoding is seen.
 */
export function serveConstantJson(router: Router, path: string, roles: readonly Role[], document: string): void {
  const encodedBody = Buffer.from(document, 'utf8');
  const version = constantVersion(encodedBody);
  serveLean(router, { method: 'get', path, roles, answer: () => ({ encodedBody, version }) });
}

/** A constant body's version: 48 bits of its SHA-256 (15 digits at most, as conditional.ts's tags allow). */
export const constantVersion = (bytes: Buffer): number => createHash('sha256').update(bytes).digest().readUIntBE(0, 6);

/** The lean routes mounted on a router, for createApp. */
export const leanRoutesOf = (router: Router): readonly RegisteredLeanRoute[] => registered.get(router) ?? [];

export const headerOf =
  (req: IncomingMessage) =>
  (name: string): string | undefined => {
    const value = req.headers[name.toLowerCase()];
    return Array.isArray(value) ? value.join(', ') : value;
  };

/** The one way a lean answer is written, on the lean lane and through Express alike. */
export function sendAnswer(req: IncomingMessage, res: ServerResponse, answer: LeanAnswer): void {
  if (answer.version !== undefined) {
    res.setHeader('etag', etagOf(answer.version));
    if ((req.method === 'GET' || req.method === 'HEAD') && isNotModified(headerOf(req)('if-none-match'), answer.version)) {
      res.statusCode = 304;
      res.end();
      return;
    }
  }
  const bytes = 'encodedBody' in answer ? answer.encodedBody : Buffer.from(JSON.stringify(answer.body), 'utf8');
  res.statusCode = answer.status ?? 200;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  res.setHeader('content-length', String(bytes.length));
  res.end(bytes);
}

/** A request the lean lane takes: the route Express would run, with the parameters Express would give it. */
export interface LeanMatch {
  route: LeanRoute;
  params: Record<string, string>;
  path: string;
  query: ParsedUrlQuery;
}

interface Layer {
  route?: { _handlesMethod(method: string): boolean };
  handle?: { stack?: Layer[] };
  slash?: boolean;
  matchers?: Array<(path: string) => { params: Record<string, string> } | false>;
}

const stackOf = (router: unknown): Layer[] => (router as { stack?: Layer[] }).stack ?? [];

/**
 * Finds the lean route Express would give a request to, or undefined when Express must have it. `appRouter` is the
 * app's top router, whose own middleware the lean lane repeats; `serviceRouter` the service's, where any middleware
 * of its own, or a router mounted on a prefix, sends the request to Express. Express's own matchers decide, so case,
 * trailing slashes and percent-decoding are exactly Express's; a path they cannot decode goes to Express for its 400.
 */
export function leanMatcher(appRouter: Router, serviceRouter: Router): (req: IncomingMessage) => LeanMatch | undefined {
  const lean = new Map(leanRoutesOf(serviceRouter).map((r) => [r.expressRoute, r.route]));
  if (lean.size === 0) return () => undefined;
  const appLayers = stackOf(appRouter);

  // The first route Express would run for (method, path); null when a layer the lane does not repeat comes first.
  const firstRoute = (layers: Layer[], method: string, path: string, inService: boolean): { layer: Layer; params: Record<string, string> } | null | undefined => {
    for (const layer of layers) {
      if (layer.route) {
        if (!layer.route._handlesMethod(method)) continue;
        for (const match of layer.matchers ?? []) {
          const found = match(path);
          if (found) return { layer, params: found.params };
        }
        continue;
      }
      const isServiceRouter = (layer.handle as unknown) === serviceRouter;
      if (layer.slash && layer.handle?.stack && (isServiceRouter || inService)) {
        const inner = firstRoute(layer.handle.stack, method, path, true);
        if (inner !== undefined) return inner;
        if (isServiceRouter) return undefined; // after the service's routes come only the 404 and error handlers
        continue;
      }
      if (inService && (layer.matchers ?? []).some((match) => match(path))) return null;
    }
    return undefined;
  };

  return (req) => {
    const { method, url } = req;
    if ((method !== 'GET' && method !== 'POST') || !url || url[0] !== '/' || hasBody(req)) return undefined;
    const queryAt = url.indexOf('?');
    const path = queryAt < 0 ? url : url.slice(0, queryAt);
    let found;
    try {
      found = firstRoute(appLayers, method, path, false);
    } catch {
      return undefined;
    }
    if (!found) return undefined;
    const route = lean.get(found.layer.route as object);
    if (!route) return undefined;
    return { route, params: found.params, path, query: queryAt < 0 ? {} : parseQuery(url.slice(queryAt + 1)) };
  };
}

/**
 * daprd forwards a request that had no body (a bare `POST …/next`) as chunked with nothing in it, so a chunked request
 * that names no content type counts as bodiless; with a content type it is parsed (and refused if not JSON).
 */
export const hasBody = (req: IncomingMessage): boolean =>
  Number(req.headers['content-length'] ?? 0) > 0 ||
  (req.headers['transfer-encoding'] !== undefined && req.headers['content-type'] !== undefined);
