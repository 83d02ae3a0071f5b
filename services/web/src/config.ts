import { baseConfigSchema } from '@mercato/platform';
import { z } from 'zod';

/**
 * The browser front end keeps no database: people's data lives in the services it calls, and its sessions in the Dapr
 * state store `sessions` (components/sessions.yaml), scoped to this app alone.
 */
export const webConfigSchema = baseConfigSchema
  .omit({ MONGODB_URI: true, MONGODB_DATABASE: true, MONGODB_SERVER_SELECTION_TIMEOUT_MS: true, ACTIVITY_REPORTING: true })
  .extend({
    SERVICE_NAME: z.string().default('web'),
    /** The public address people open (the ingress): where Keycloak sends them back after sign-in and sign-out. */
    WEB_BASE_URL: z.url(),
    /** The realm; the web signs people in there (authorization code + PKCE). */
    OIDC_ISSUER: z.url(),
    OIDC_CLIENT_ID: z.string().min(1).default('web'),
    OIDC_CLIENT_SECRET: z.string().min(1),
    /** Signs the session cookie (which holds only the session id) and derives the CSRF secret; ≥ 32 characters. */
    SESSION_SECRET: z.string().min(32),
    /** Dapr state store holding the sessions (tokens never reach the browser). */
    SESSIONS_STORE: z.string().default('sessions'),
    /** A session unused this long ends; it never lives longer than the absolute limit. */
    SESSION_IDLE_SECONDS: z.coerce.number().int().min(60).default(3600),
    SESSION_ABSOLUTE_SECONDS: z.coerce.number().int().min(300).default(36_000),
    /** Refresh the access token when it has fewer seconds left than this (tokens live 5 minutes: request-flow.md). */
    TOKEN_REFRESH_LEEWAY_SECONDS: z.coerce.number().int().min(0).max(240).default(60),
    /** The catalog's one currency (as the products service's CATALOG_CURRENCY): prices are typed and shown in it. */
    CATALOG_CURRENCY: z.string().regex(/^[A-Z]{3}$/).default('USD'),
    /** How long a page waits for a service before it shows "service unavailable". */
    API_TIMEOUT_MS: z.coerce.number().int().min(100).default(8000),
    BODY_LIMIT: z.string().default('64kb'),
  });

export type WebConfig = z.output<typeof webConfigSchema>;
