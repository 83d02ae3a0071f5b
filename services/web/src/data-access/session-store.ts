import type { Logger } from '@mercato/platform';

/**
 * Sessions in a Dapr state store (Redis behind `components/sessions.yaml`, scoped to the web app): the browser holds
 * only a signed, random session id; the tokens stay here. Every replica of the web reads the same store, so a person
 * may land on any of them. Entries expire on their own (`ttlInSeconds`), renewed on each write.
 *
 * The interface is express-session's store (get, set, destroy with callbacks), which express-openid-connect takes.
 */
export interface SessionPayload {
  header: { iat: number; uat: number; exp: number };
  data: Record<string, unknown>;
  cookie: { expires: number | null; maxAge?: number };
}

type Callback<T = void> = (error: unknown, value?: T) => void;

export interface DaprSessionStoreOptions {
  daprHost: string;
  daprHttpPort: number;
  daprApiToken: string;
  storeName: string;
  logger: Logger;
  timeoutMs?: number;
}

export class DaprSessionStore {
  private readonly base: string;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;

  constructor(private readonly options: DaprSessionStoreOptions) {
    this.base = `http://${options.daprHost}:${options.daprHttpPort}/v1.0/state/${encodeURIComponent(options.storeName)}`;
    this.headers = { 'dapr-api-token': options.daprApiToken, 'content-type': 'application/json' };
    this.timeoutMs = options.timeoutMs ?? 3000;
  }

  get(sid: string, callback: Callback<SessionPayload | null>): void {
    this.read(sid).then(
      (session) => callback(null, session),
      (error: unknown) => callback(error),
    );
  }

  set(sid: string, session: SessionPayload, callback: Callback): void {
    this.write(sid, session).then(
      () => callback(null),
      (error: unknown) => callback(error),
    );
  }

  destroy(sid: string, callback: Callback): void {
    this.remove(sid).then(
      () => callback(null),
      (error: unknown) => callback(error),
    );
  }

  private key = (sid: string) => `session-${sid}`;

  private async read(sid: string): Promise<SessionPayload | null> {
    const response = await this.call(`${this.base}/${encodeURIComponent(this.key(sid))}`, { method: 'GET' });
    if (response.status === 204) return null;
    const text = await response.text();
    return text ? (JSON.parse(text) as SessionPayload) : null;
  }

  private async write(sid: string, session: SessionPayload): Promise<void> {
    // The store forgets a session when its cookie would have expired (at least a minute, so a clock step never
    // removes a session while its cookie still names it).
    const ttl = Math.max(60, Math.ceil(((session.cookie.expires ?? session.header.exp * 1000) - Date.now()) / 1000));
    const body = JSON.stringify([{ key: this.key(sid), value: session, metadata: { ttlInSeconds: String(ttl) } }]);
    await this.call(this.base, { method: 'POST', body });
  }

  private async remove(sid: string): Promise<void> {
    await this.call(`${this.base}/${encodeURIComponent(this.key(sid))}`, { method: 'DELETE' });
  }

  private async call(url: string, init: RequestInit): Promise<Response> {
    const response = await fetch(url, { ...init, headers: this.headers, signal: AbortSignal.timeout(this.timeoutMs) });
    if (!response.ok) {
      const text = await response.text();
      this.options.logger.warn('session store call failed', { status: response.status, body: text.slice(0, 300) });
      throw new Error(`session store answered ${response.status}`);
    }
    return response;
  }
}
