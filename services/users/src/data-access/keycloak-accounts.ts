import { AppError, type Logger, type ServiceIdentity } from '@mercato/platform';

/**
 * Logins in the platform's Keycloak, through its admin API with the users service's own identity: its service account
 * holds only realm-management's `manage-users` and `view-users` (scripts/keycloak/mercato-realm.json), so it can make,
 * disable and delete users of this realm and nothing else.
 */
export interface KeycloakAccounts {
  /** Makes the account (its password temporary: changed on first sign-in); its id. 409 when the username or e-mail is taken. */
  create(input: { username: string; email: string; name: string; temporaryPassword: string }): Promise<string>;
  /** Enables or disables it; disabling also ends its sessions, so no refresh token works any more. */
  setEnabled(accountId: string, enabled: boolean): Promise<void>;
  /** Deletes it; an account already gone is fine. */
  remove(accountId: string): Promise<void>;
}

const timeoutMs = 5000;

export function createKeycloakAccounts(issuer: string, identity: ServiceIdentity | undefined, logger: Logger): KeycloakAccounts {
  // The realm's admin API beside its issuer: http://host/realms/mercato → http://host/admin/realms/mercato.
  const adminBase = issuer.replace(/\/realms\/([^/]+)\/?$/, '/admin/realms/$1');

  async function call(method: string, path: string, body?: unknown): Promise<Response> {
    if (!identity) throw unavailable(new Error('the users service has no identity of its own (SERVICE_CLIENT_ID/SECRET)'));
    let response: Response;
    try {
      const init: RequestInit = {
        method,
        headers: { authorization: `Bearer ${await identity.token()}`, 'content-type': 'application/json' },
        signal: AbortSignal.timeout(timeoutMs),
      };
      if (body !== undefined) init.body = JSON.stringify(body);
      response = await fetch(`${adminBase}${path}`, init);
    } catch (error) {
      throw unavailable(error);
    }
    if (response.status >= 500 || response.status === 401 || response.status === 403) {
      const text = await response.text();
      logger.warn('Keycloak admin API refused or failed', { method, path, status: response.status, body: text.slice(0, 200) });
      throw unavailable(new Error(`Keycloak answered ${response.status}`));
    }
    return response;
  }

  return {
    async create({ username, email, name, temporaryPassword }) {
      const [firstName, ...rest] = name.split(/\s+/);
      const response = await call('POST', '/users', {
        username,
        email,
        emailVerified: false,
        enabled: true,
        firstName,
        lastName: rest.join(' ') || undefined,
        credentials: [{ type: 'password', value: temporaryPassword, temporary: true }],
      });
      if (response.status === 409) {
        throw new AppError('conflict', { code: 'login-taken', detail: `A login with the username ${username} or the e-mail address already exists` });
      }
      if (response.status === 400) {
        const text = await response.text();
        throw new AppError('unprocessable', { code: 'login-refused', detail: `Keycloak refused the login: ${text.slice(0, 200)}` });
      }
      // Keycloak answers 201 with the new account's URL; its last segment is the id.
      const location = response.headers.get('location') ?? '';
      const id = location.split('/').pop();
      if (response.status !== 201 || !id) throw unavailable(new Error(`Keycloak answered ${response.status} without a Location`));
      return id;
    },

    async setEnabled(accountId, enabled) {
      const response = await call('PUT', `/users/${encodeURIComponent(accountId)}`, { enabled });
      if (response.status === 404) return;
      if (!enabled) await call('POST', `/users/${encodeURIComponent(accountId)}/logout`);
    },

    async remove(accountId) {
      await call('DELETE', `/users/${encodeURIComponent(accountId)}`);
    },
  };
}

const unavailable = (cause: unknown) =>
  new AppError('dependency-unavailable', {
    code: 'identity-provider-unavailable',
    detail: 'The identity provider could not be reached; nothing was changed, try again',
    retryAfterSeconds: 2,
    cause,
  });
