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
  const adminToken = await adminLogin(keycloakUrl);
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

async function adminLogin(keycloakUrl: string): Promise<string> {
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
  return adminToken;
}

/** Every service's own confidential client (client credentials, realm role `service`): `service-<appId>`. */
export const serviceClientId = (appId: string): string => `service-${appId}`;

export interface ServiceClient {
  clientId: string;
  secret: string;
}

/**
 * Gives every service client the secret generated for this start, so a realm kept from an earlier run keeps no old
 * secret, and nothing usable is committed. A client missing from a kept realm (a service added since) is created the
 * way the realm file declares the others: confidential, client credentials only, audience `mercato-api`, role `service`.
 */
export async function setServiceClientSecrets(keycloakUrl: string, clients: readonly ServiceClient[]): Promise<void> {
  const adminToken = await adminLogin(keycloakUrl);
  const admin = async (method: string, path: string, body?: unknown): Promise<Response> => {
    const init: RequestInit = {
      method,
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      signal: AbortSignal.timeout(15_000),
    };
    if (body !== undefined) init.body = JSON.stringify(body);
    const response = await fetch(`${keycloakUrl}/admin/realms/${realmName}${path}`, init);
    if (!response.ok && !(method === 'GET' && response.status === 404)) {
      throw new Error(`Keycloak admin ${method} ${path} failed (${response.status}): ${await response.text()}`);
    }
    return response;
  };
  if ((await admin('GET', '/roles/service')).status === 404) {
    await admin('POST', '/roles', { name: 'service', description: "Held by the platform's own services (client credentials)" });
  }
  const role = (await (await admin('GET', '/roles/service')).json()) as { id: string; name: string };
  for (const client of clients) {
    const find = async () => ((await (await admin('GET', `/clients?clientId=${encodeURIComponent(client.clientId)}`)).json()) as Array<Record<string, unknown>>)[0];
    let found = await find();
    if (!found) {
      await admin('POST', '/clients', serviceClientTemplate(client.clientId));
      found = await find();
      if (!found) throw new Error(`Keycloak did not create the client ${client.clientId}`);
    }
    const id = String(found['id']);
    await admin('PUT', `/clients/${id}`, { ...found, secret: client.secret });
    const account = (await (await admin('GET', `/clients/${id}/service-account-user`)).json()) as { id: string };
    await admin('POST', `/users/${account.id}/role-mappings/realm`, [role]);
    // Roles of other clients the realm file grants this service account (the users service: realm-management's
    // manage-users and view-users), also for a kept realm that predates them. Granting again is a no-op.
    for (const [owner, names] of Object.entries(declaredClientRoles(client.clientId))) {
      const ownerId = String(((await (await admin('GET', `/clients?clientId=${encodeURIComponent(owner)}`)).json()) as Array<Record<string, unknown>>)[0]?.['id']);
      const roles = await Promise.all(names.map(async (name) => (await admin('GET', `/clients/${ownerId}/roles/${encodeURIComponent(name)}`)).json()));
      await admin('POST', `/users/${account.id}/role-mappings/clients/${ownerId}`, roles);
    }
  }
}

/**
 * Points a browser front end's client (authorization code + PKCE, declared in the realm file) at this start's ingress:
 * redirect and post-logout URIs on the ingress's own address only (both spellings of loopback), and a secret new on
 * every start, as for the service clients.
 */
export async function configureBrowserClient(keycloakUrl: string, clientId: string, secret: string, siteUrls: readonly string[]): Promise<void> {
  const adminToken = await adminLogin(keycloakUrl);
  const headers = { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' };
  const base = `${keycloakUrl}/admin/realms/${realmName}/clients`;
  const found = (await (await fetch(`${base}?clientId=${encodeURIComponent(clientId)}`, { headers, signal: AbortSignal.timeout(15_000) })).json()) as Array<Record<string, unknown>>;
  const client = found[0];
  if (!client) throw new Error(`the realm has no client ${clientId}; is scripts/keycloak/${realmName}-realm.json imported?`);
  const attributes = { ...(client['attributes'] as Record<string, string> | undefined), 'post.logout.redirect.uris': siteUrls.map((url) => `${url}/signed-out`).join('##') };
  const response = await fetch(`${base}/${String(client['id'])}`, {
    method: 'PUT',
    headers,
    body: JSON.stringify({ ...client, secret, redirectUris: siteUrls.map((url) => `${url}/callback`), webOrigins: [...siteUrls], attributes }),
    signal: AbortSignal.timeout(15_000),
  });
  if (!response.ok) throw new Error(`Keycloak refused the ${clientId} client's settings (${response.status}): ${await response.text()}`);
}

/** The client roles the realm file gives a service client's account, by the client that owns them. */
function declaredClientRoles(clientId: string): Record<string, string[]> {
  const realm = JSON.parse(readFileSync(realmFile, 'utf8')) as { users: Array<{ serviceAccountClientId?: string; clientRoles?: Record<string, string[]> }> };
  return realm.users.find((user) => user.serviceAccountClientId === clientId)?.clientRoles ?? {};
}

/** The realm file's declaration of a service client, for one a kept realm does not have yet. */
function serviceClientTemplate(clientId: string): Record<string, unknown> {
  const realm = JSON.parse(readFileSync(realmFile, 'utf8')) as { clients: Array<Record<string, unknown>> };
  const template = realm.clients.find((c) => typeof c['clientId'] === 'string' && c['clientId'].startsWith('service-'));
  if (!template) throw new Error(`${realmFile} declares no service client to copy`);
  return { ...template, clientId, name: `The ${clientId.replace(/^service-/, '')} service's own identity` };
}

/** A demo user's token (password grant, through the test client), as a person signing in would get one. */
export function fetchToken(keycloakUrl: string, user: { username: string; password: string }): Promise<string> {
  return requestToken(keycloakUrl, 'mercato-test', {
    grant_type: 'password',
    client_id: testClient.id,
    client_secret: testClient.secret,
    username: user.username,
    password: user.password,
    scope: 'openid',
  });
}

/** A client-credentials token of one service client, as that service would obtain it. */
export function fetchServiceToken(keycloakUrl: string, client: ServiceClient): Promise<string> {
  return requestToken(keycloakUrl, client.clientId, {
    grant_type: 'client_credentials',
    client_id: client.clientId,
    client_secret: client.secret,
  });
}

async function requestToken(keycloakUrl: string, who: string, form: Record<string, string>): Promise<string> {
  const response = await fetch(`${keycloakUrl}/realms/${realmName}/protocol/openid-connect/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
    signal: AbortSignal.timeout(10_000),
  });
  const json = (await response.json()) as { access_token?: string; error_description?: string; error?: string };
  if (!response.ok || !json.access_token) {
    throw new Error(`Keycloak refused a token for ${who} (${response.status}): ${json.error_description ?? json.error ?? 'no token'}`);
  }
  return json.access_token;
}
