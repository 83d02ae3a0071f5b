import type * as OpenIdClient from 'openid-client' with { 'resolution-mode': 'import' };
import { AppError } from './errors';

/**
 * A service's own identity: the access token of its confidential Keycloak client (client-credentials grant), sent when
 * it calls another service with no user behind the call (an event consumer, a background job). See
 * docs/request-flow.md, "Service identity".
 */
export interface ServiceIdentity {
  readonly clientId: string;
  /** A valid access token, fetched once and reused until shortly before it expires. */
  token(): Promise<string>;
  /** Drops a cached token a callee refused (the realm's keys changed, say), so the next `token()` gets a new one. */
  forget?(token: string): void;
}

export interface ServiceIdentityOptions {
  /** The realm's issuer URL, e.g. `http://localhost:8081/realms/mercato`. */
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** A token is replaced this long before it expires, so one handed out still lives through the call it is used for. */
  refreshBeforeExpiryMs?: number;
  timeoutMs?: number;
  /** Plain http to an issuer off loopback (a local cluster's Keycloak without TLS); refused unless set. */
  allowHttpIssuer?: boolean;
}

/** What one grant returns: the token and how long it lives (undefined when the server does not say). */
export interface GrantedToken {
  accessToken: string;
  expiresInSeconds: number | undefined;
}

/** A token whose lifetime the server did not state is reused this long. */
const unstatedLifetimeMs = 60_000;

/**
 * Caches what `grant` returns until `refreshBeforeExpiryMs` before its expiry; concurrent callers share one grant, and
 * a failed grant is not cached (the next call tries again).
 */
export function cachedToken(
  grant: () => Promise<GrantedToken>,
  refreshBeforeExpiryMs: number,
  now: () => number = Date.now,
): (() => Promise<string>) & { forget(token: string): void } {
  let cached: { token: string; renewAt: number } | undefined;
  let pending: Promise<string> | undefined;
  const token = () => {
    if (cached && now() < cached.renewAt) return Promise.resolve(cached.token);
    pending ??= (async () => {
      try {
        const fetchedAt = now();
        const granted = await grant();
        const lifetimeMs = granted.expiresInSeconds === undefined ? unstatedLifetimeMs : granted.expiresInSeconds * 1000;
        // Never reuse a token for longer than half its life, however short it is.
        cached = { token: granted.accessToken, renewAt: fetchedAt + Math.max(lifetimeMs / 2, lifetimeMs - refreshBeforeExpiryMs) };
        return granted.accessToken;
      } finally {
        pending = undefined;
      }
    })();
    return pending;
  };
  return Object.assign(token, {
    forget(stale: string) {
      if (cached?.token === stale) cached = undefined;
    },
  });
}

const loopbackHosts = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/**
 * The identity through openid-client (discovery + client-credentials grant). Plain http is allowed for a loopback
 * issuer only (the local devstack's Keycloak); anywhere else the issuer must be https.
 */
export function createServiceIdentity(options: ServiceIdentityOptions): ServiceIdentity {
  const issuer = new URL(options.issuer);
  const insecure = issuer.protocol === 'http:';
  if (insecure && !loopbackHosts.has(issuer.hostname) && !options.allowHttpIssuer) {
    throw new AppError('internal', {
      detail: `The OIDC issuer ${options.issuer} must be https (plain http only on loopback, or with OIDC_ALLOW_HTTP_ISSUER=true in a local cluster)`,
      isCatastrophic: true,
    });
  }
  const timeoutSeconds = Math.ceil((options.timeoutMs ?? 10_000) / 1000);
  // openid-client is an ES module: loaded on first use through import(), which a CommonJS build keeps as it is.
  let configuration: Promise<{ oidc: typeof OpenIdClient; config: OpenIdClient.Configuration }> | undefined;
  const discover = () => {
    configuration ??= (async () => {
      const oidc = await import('openid-client');
      const config = await oidc.discovery(issuer, options.clientId, options.clientSecret, undefined, {
        timeout: timeoutSeconds,
        ...(insecure ? { execute: [oidc.allowInsecureRequests] } : {}),
      });
      return { oidc, config };
    })();
    configuration.catch(() => {
      configuration = undefined;
    });
    return configuration;
  };
  const token = cachedToken(async () => {
    try {
      const { oidc, config } = await discover();
      const response = await oidc.clientCredentialsGrant(config);
      return { accessToken: response.access_token, expiresInSeconds: response.expiresIn() };
    } catch (error) {
      throw new AppError('dependency-unavailable', {
        code: 'identity-unavailable',
        detail: `Could not obtain a token for ${options.clientId}`,
        cause: error,
        retryAfterSeconds: 2,
      });
    }
  }, options.refreshBeforeExpiryMs ?? 60_000);
  return { clientId: options.clientId, token, forget: token.forget };
}

/** The identity from a service's config, or undefined when the environment names none. */
export function serviceIdentityFromConfig(config: {
  OIDC_ISSUER?: string | undefined;
  SERVICE_CLIENT_ID?: string | undefined;
  SERVICE_CLIENT_SECRET?: string | undefined;
  OIDC_ALLOW_HTTP_ISSUER?: 'true' | 'false' | undefined;
}): ServiceIdentity | undefined {
  if (!config.OIDC_ISSUER || !config.SERVICE_CLIENT_ID || !config.SERVICE_CLIENT_SECRET) return undefined;
  return createServiceIdentity({
    issuer: config.OIDC_ISSUER,
    clientId: config.SERVICE_CLIENT_ID,
    clientSecret: config.SERVICE_CLIENT_SECRET,
    allowHttpIssuer: config.OIDC_ALLOW_HTTP_ISSUER === 'true',
  });
}
