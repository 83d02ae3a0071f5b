import { readFileSync } from 'node:fs';
import path from 'node:path';
import { repoRoot } from './paths';

export const realmName = 'mercato';
export const apiAudience = 'mercato-api';
export const realmFile = path.join(repoRoot, 'scripts', 'keycloak', `${realmName}-realm.json`);

/** Demo logins imported with the realm; for local use only. */
export const demoUsers = ['viewer', 'editor', 'admin', 'auditor', 'premium'].map((role) => ({
  username: role,
  password: role,
  role,
}));

export const testClient = { id: 'mercato-test', secret: 'mercato-test-secret' };

export interface KeycloakLaunch {
  args: string[];
  env: NodeJS.ProcessEnv;
  issuer: string;
  healthUrl: string;
}

export interface KeycloakOptions {
  dataDir: string;
  httpPort: number;
  managementPort: number;
  persistent: boolean;
}

/**
 * Keycloak in dev mode with the realm imported from the repo. The hostname is pinned so every token says
 * `iss=http://localhost:<port>/realms/mercato` whichever address a client used: daprd's bearer check compares the
 * issuer literally, and a mismatch would be a 401 everywhere.
 */
export function keycloakLaunch(options: KeycloakOptions): KeycloakLaunch {
  const base = `http://localhost:${options.httpPort}`;
  const args = [
    'start-dev',
    '--http-host=127.0.0.1',
    `--http-port=${options.httpPort}`,
    `--http-management-port=${options.managementPort}`,
    `--hostname=${base}`,
    '--health-enabled=true',
    // State lives in this run's folder, never in the shared Keycloak home under the cache. `db` stays at its dev
    // default (a build-time option: changing it would re-augment the shared home); only the runtime URL differs.
    // Keycloak adds these H2 flags to its own default URLs only; without NON_KEYWORDS=VALUE its schema migration fails.
    options.persistent
      ? `--db-url=jdbc:h2:file:${path.join(options.dataDir, 'h2', 'keycloakdb')};NON_KEYWORDS=VALUE;DB_CLOSE_ON_EXIT=FALSE`
      : `--db-url=jdbc:h2:mem:keycloak-${options.httpPort};NON_KEYWORDS=VALUE;DB_CLOSE_ON_EXIT=FALSE;DB_CLOSE_DELAY=-1`,
    `-Dquarkus.transaction-manager.object-store.directory=${path.join(options.dataDir, 'transaction-logs')}`,
  ];
  return {
    args,
    env: {
      ...process.env,
      JAVA_OPTS_KC_HEAP: '-Xms64m -Xmx512m',
      KC_BOOTSTRAP_ADMIN_USERNAME: bootstrapAdmin.username,
      KC_BOOTSTRAP_ADMIN_PASSWORD: bootstrapAdmin.password,
    },
    issuer: `${base}/realms/${realmName}`,
    healthUrl: `http://127.0.0.1:${options.managementPort}/health/ready`,
  };
}

/** Local-only administrator of the master realm (the admin console login). */
export const bootstrapAdmin = { username: 'admin', password: 'admin' };

/**
 * Imports the repo's realm through the admin REST API once Keycloak is up. Unlike `--import-realm`, it needs no file
 * inside the (shared, cached) Keycloak home. An existing realm is left as it is, so `npm start` keeps what was changed
 * in the admin console between runs.
 */
export async function importRealm(keycloakUrl: string): Promise<'imported' | 'exists'> {
  const tokenResponse = await fetch(`${keycloakUrl}/realms/master/protocol/openid-connect/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'password',
      client_id: 'admin-cli',
      username: bootstrapAdmin.username,
      password: bootstrapAdmin.password,
    }),
    signal: AbortSignal.timeout(15_000),
  });
  const { access_token: adminToken } = (await tokenResponse.json()) as { access_token?: string };
  if (!adminToken) throw new Error(`Keycloak admin login failed (${tokenResponse.status})`);
  const response = await fetch(`${keycloakUrl}/admin/realms`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` },
    body: readFileSync(realmFile, 'utf8'),
    signal: AbortSignal.timeout(60_000),
  });
  if (response.status === 201) return 'imported';
  if (response.status === 409) return 'exists';
  throw new Error(`Realm import failed (${response.status}): ${await response.text()}`);
}

/** A token from Keycloak's token endpoint (password grant for a demo user, or client credentials). */
export async function fetchToken(
  keycloakUrl: string,
  grant: { username: string; password: string } | { clientCredentials: true },
): Promise<string> {
  const body = new URLSearchParams({ client_id: testClient.id, client_secret: testClient.secret });
  if ('username' in grant) {
    body.set('grant_type', 'password');
    body.set('username', grant.username);
    body.set('password', grant.password);
    body.set('scope', 'openid');
  } else {
    body.set('grant_type', 'client_credentials');
  }
  const response = await fetch(`${keycloakUrl}/realms/${realmName}/protocol/openid-connect/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body,
    signal: AbortSignal.timeout(10_000),
  });
  const json = (await response.json()) as { access_token?: string; error_description?: string; error?: string };
  if (!response.ok || !json.access_token) {
    throw new Error(`Keycloak token request failed (${response.status}): ${json.error_description ?? json.error ?? 'no token'}`);
  }
  return json.access_token;
}
