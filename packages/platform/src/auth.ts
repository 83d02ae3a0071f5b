import { timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { AppError } from './errors';
import { requestContext, type Actor } from './request-context';

/**
 * Who is calling. The token's signature, issuer, audience and expiry were already checked by daprd's bearer
 * middleware before the request reached this app (the app listens on loopback and only accepts calls carrying the
 * APP_API_TOKEN that daprd holds), so here the claims are only read, never re-verified.
 */
export interface Principal {
  subject: string;
  username: string | undefined;
  roles: ReadonlySet<string>;
  /** Raw bearer header, forwarded on calls to other services. */
  authorization: string;
}

/** `service` is held by the service accounts of the platform's own services (client credentials), never by a person. */
export type Role = 'viewer' | 'editor' | 'admin' | 'auditor' | 'premium' | 'service';

interface Claims {
  sub?: unknown;
  preferred_username?: unknown;
  realm_access?: { roles?: unknown };
  resource_access?: Record<string, { roles?: unknown } | undefined>;
}

const strings = (value: unknown): string[] =>
  Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];

/** Reads the JWT payload; undefined when the header is missing or is not a JWT. */
export function claimsOf(authorization: string | undefined): Claims | undefined {
  const match = authorization ? /^Bearer\s+([\w-]+)\.([\w-]+)\.([\w-]*)$/i.exec(authorization.trim()) : null;
  if (!match?.[2]) return undefined;
  try {
    const payload: unknown = JSON.parse(Buffer.from(match[2], 'base64url').toString('utf8'));
    return payload && typeof payload === 'object' ? (payload as Claims) : undefined;
  } catch {
    return undefined;
  }
}

/** A token with the `service` role belongs to one of the platform's services (client credentials), never a person. */
export function actorOf(principal: Principal): Actor {
  const actor: Actor = { id: principal.subject, kind: principal.roles.has('service') ? 'service' : 'user' };
  if (principal.username) actor.name = principal.username;
  return actor;
}

export function principalOf(authorization: string | undefined, resourceClient: string): Principal | undefined {
  const claims = claimsOf(authorization);
  if (!claims || typeof claims.sub !== 'string' || !authorization) return undefined;
  const roles = new Set([
    ...strings(claims.realm_access?.roles),
    ...strings(claims.resource_access?.[resourceClient]?.roles),
  ]);
  return {
    subject: claims.sub,
    username: typeof claims.preferred_username === 'string' ? claims.preferred_username : undefined,
    roles,
    authorization,
  };
}

declare module 'express-serve-static-core' {
  interface Request {
    principal?: Principal;
  }
}

/** Attaches `req.principal` when the request carries a bearer token; never rejects by itself. */
export function readPrincipal(resourceClient: string) {
  return (req: Request, _res: Response, next: NextFunction) => {
    const principal = principalOf(req.header('authorization'), resourceClient);
    if (principal) {
      req.principal = principal;
      const context = requestContext.getStore();
      if (context) context.actor = actorOf(principal);
    }
    next();
  };
}

/** Why a caller may not go on (401 without a token, 403 without one of the roles), or undefined when they may. */
export function roleProblem(principal: Principal | undefined, anyOf: readonly Role[]): AppError | undefined {
  if (!principal) return new AppError('unauthenticated', { detail: 'A bearer token is required' });
  if (!anyOf.some((role) => principal.roles.has(role))) return new AppError('forbidden', { detail: `Requires one of the roles: ${anyOf.join(', ')}` });
  return undefined;
}

/** Lets the request through when the caller holds at least one of the roles. */
export function requireRole(...anyOf: Role[]) {
  return (req: Request, _res: Response, next: NextFunction) => {
    next(roleProblem(req.principal, anyOf));
  };
}

export function principalFrom(req: Request): Principal {
  if (!req.principal) throw new AppError('unauthenticated', { detail: 'A bearer token is required' });
  return req.principal;
}

const sameSecret = (given: string, expected: string): boolean => {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
};

/** Refuses a caller that is not this app's daprd: it sends APP_API_TOKEN in `dapr-api-token` on every request. */
export function appTokenProblem(given: string | undefined, appApiToken: string): AppError | undefined {
  if (given && sameSecret(given, appApiToken)) return undefined;
  return new AppError('unauthenticated', { code: 'missing-app-token', detail: 'Only the Dapr sidecar may call this app' });
}

/**
 * Only daprd may call the app: it sends APP_API_TOKEN in `dapr-api-token` on every request (invocation and pub/sub
 * delivery alike). Health probes are exempt so the kubelet and the local supervisor can reach them.
 */
export function requireAppApiToken(appApiToken: string, exemptPaths: readonly string[]) {
  return (req: Request, _res: Response, next: NextFunction) => {
    next(exemptPaths.includes(req.path) ? undefined : appTokenProblem(req.header('dapr-api-token'), appApiToken));
  };
}
