import { demoUsers, fetchToken } from '../keycloak';
import { stackInfo } from './stack-info';

export type DemoRole = (typeof demoUsers)[number]['role'];

const tokens = new Map<string, { token: Promise<string>; fetchedAt: number }>();

/** Access tokens live 5 minutes (the realm's accessTokenLifespan); fetch a new one well before that. */
const tokenReuseMs = 3 * 60_000;

/** A real access token for a demo user, from the running Keycloak (reused within a test file while fresh). */
export function tokenFor(role: DemoRole): Promise<string> {
  const cached = tokens.get(role);
  if (cached && Date.now() - cached.fetchedAt < tokenReuseMs) return cached.token;
  const token = fetchToken(stackInfo().keycloakUrl, { username: role, password: role });
  tokens.set(role, { token, fetchedAt: Date.now() });
  token.catch(() => tokens.delete(role));
  return token;
}

export interface ApiResponse<T = unknown> {
  status: number;
  headers: Headers;
  body: T;
}

/** Status, headers and the body as JSON (or as text when it is not JSON). */
async function answerOf<T>(response: Response): Promise<ApiResponse<T>> {
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON; keep the text
  }
  return { status: response.status, headers: response.headers, body: parsed as T };
}

/** Calls the platform through the ingress, as an API client would. */
export async function api<T = unknown>(
  method: string,
  path: string,
  options: { token?: string; body?: unknown; rawBody?: string; contentType?: string } = {},
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = {};
  if (options.token) headers['authorization'] = `Bearer ${options.token}`;
  let body: string | undefined;
  if (options.rawBody !== undefined) body = options.rawBody;
  else if (options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
  const init: RequestInit = { method, headers, signal: AbortSignal.timeout(30_000) };
  if (body !== undefined) init.body = body;
  const response = await fetch(`${stackInfo().ingressUrl}${path}`, init);
  return answerOf<T>(response);
}

/**
 * Calls one replica of an app directly, through that replica's own sidecar (a daprd invoking its own app id calls its
 * local app, with the bearer check of the app pipeline), to see what that replica answers. `path` is the app's own
 * path, e.g. `/products?q=phone`.
 */
export async function replicaApi<T = unknown>(
  appId: string,
  replica: number,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; headers?: Record<string, string> } = {},
): Promise<ApiResponse<T>> {
  const sidecar = stackInfo().replicas[appId]?.[replica - 1];
  if (!sidecar) throw new Error(`no replica ${replica} of ${appId}`);
  const headers: Record<string, string> = { 'dapr-api-token': sidecar.apiToken, ...options.headers };
  if (options.token) headers['authorization'] = `Bearer ${options.token}`;
  const init: RequestInit = { method, headers, signal: AbortSignal.timeout(30_000) };
  if (options.body !== undefined) {
    headers['content-type'] = 'application/json';
    init.body = JSON.stringify(options.body);
  }
  const response = await fetch(`http://127.0.0.1:${sidecar.httpPort}/v1.0/invoke/${appId}/method${path}`, init);
  return answerOf<T>(response);
}

/** Stops (on purpose), starts, or SIGKILLs (a crash: the supervisor restarts it) one process of the test platform. */
export async function controlProcess(name: string, action: 'stop' | 'start' | 'kill'): Promise<void> {
  const response = await fetch(`${stackInfo().controlUrl}/processes/${name}/${action}`, { method: 'POST' });
  if (response.status !== 204) throw new Error(`could not ${action} ${name}: ${await response.text()}`);
}

export async function receivedEvents(): Promise<Array<{ id: string; type: string; subject?: string; data: unknown }>> {
  const response = await fetch(`${stackInfo().controlUrl}/events`);
  return (await response.json()) as Array<{ id: string; type: string; subject?: string; data: unknown }>;
}

/** Polls until the predicate holds or the timeout passes; returns the last value either way. */
export async function eventually<T>(probe: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await probe();
  while (!done(value) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    value = await probe();
  }
  return value;
}

/** A supervised process's current pid and how often the supervisor restarted it. */
export async function processState(name: string): Promise<{ pid: number | undefined; restarts: number }> {
  const response = await fetch(`${stackInfo().controlUrl}/processes/${name}`);
  if (!response.ok) throw new Error(`no process ${name}: ${await response.text()}`);
  return (await response.json()) as { pid: number | undefined; restarts: number };
}
