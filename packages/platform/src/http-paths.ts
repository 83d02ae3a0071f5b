import type { IncomingMessage } from 'node:http';
import type { Router } from 'express';

/**
 * Paths as the client sees them. Behind the ingress a client calls `/api/categories/…` while the app serves
 * `/categories/…`; the ingress says what it stripped in `X-Forwarded-Prefix`. Problem `instance`s and `Location`
 * headers are built from it, so a client can follow them. A direct call (no header) gets the app's own path.
 */
const prefixPattern = /^(?:\/[A-Za-z0-9._~-]+){1,8}$/;

/** The prefix the ingress stripped, when it names one that is safe to echo into a header. */
export function forwardedPrefix(req: IncomingMessage): string {
  const header = req.headers['x-forwarded-prefix'];
  return typeof header === 'string' && header.length <= 200 && prefixPattern.test(header) ? header : '';
}

/** `appPath` (default: the path and query the app received) as the client called it. */
export function clientPath(req: IncomingMessage & { originalUrl?: string }, appPath: string = req.originalUrl ?? req.url ?? '/'): string {
  return forwardedPrefix(req) + appPath;
}

interface RouteLayer {
  route?: { methods: Record<string, boolean> };
  handle?: { stack?: RouteLayer[] };
  /** True for a router mounted without a path of its own (`app.use(router)`), whose routes see the whole path. */
  slash?: boolean;
  matchers?: Array<(path: string) => unknown>;
}

/**
 * The methods the routers serve on `path`, for a 405's `Allow` header; empty when no route has that path (a 404).
 * Reads the routers' own layers, so it can never disagree with what is served.
 */
export function allowedMethods(routers: readonly Router[], path: string): string[] {
  const methods = new Set<string>();
  const visit = (layers: readonly RouteLayer[]) => {
    for (const layer of layers) {
      if (layer.route) {
        if (matches(layer, path)) for (const method of Object.keys(layer.route.methods)) if (method !== '_all') methods.add(method.toUpperCase());
      } else if (layer.slash && layer.handle?.stack) {
        visit(layer.handle.stack);
      }
    }
  };
  for (const router of routers) visit((router as unknown as { stack: RouteLayer[] }).stack);
  if (methods.has('GET')) methods.add('HEAD');
  return [...methods].sort();
}

function matches(layer: RouteLayer, path: string): boolean {
  try {
    return (layer.matchers ?? []).some((match) => Boolean(match(path)));
  } catch {
    // A malformed escape in the path cannot name any route.
    return false;
  }
}
