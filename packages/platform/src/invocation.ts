import { randomBytes } from 'node:crypto';
import type { Principal } from './auth';
import { AppError, kindOfStatus, problemTypeBase, type FieldIssue } from './errors';
import { requestContext } from './request-context';
import type { ServiceIdentity } from './service-identity';

/**
 * Calls another service the way the platform does: through this service's own sidecar (Dapr service invocation), so
 * the callee's sidecar checks the bearer token exactly as it checks a user's. The caller's user token is forwarded when
 * there is one; otherwise the service's own token (client credentials) is sent. See docs/request-flow.md.
 */
export interface InvokerOptions {
  daprHost: string;
  daprHttpPort: number;
  /** This sidecar's API token (`DAPR_API_TOKEN`). */
  daprApiToken: string;
  /** The service's own identity, for calls with no user behind them. Without it such calls go without a token. */
  identity?: ServiceIdentity | undefined;
  /** Default time a call may take before it fails with 503 (daprd sets none on invocations: dapr/resiliency.yaml). */
  timeoutMs?: number;
}

export interface InvokeRequest {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  body?: unknown;
  query?: Record<string, string | number | boolean | undefined>;
  /**
   * Whose call this is: the user (their principal, whose token is forwarded) or `'service'` (the service's own token
   * even inside a user's request). Default: the user of the current request when it carries a token, else the service.
   */
  as?: Principal | 'service';
  timeoutMs?: number;
  /** Conditional headers (`if-match`, `if-none-match`) and the like; never authorization or the sidecar's token. */
  headers?: Readonly<Record<string, string>>;
}

export interface InvokeResponse<T> {
  status: number;
  headers: Headers;
  body: T;
}

export interface ServiceInvoker {
  /** Resolves with any 2xx/3xx answer; a problem+json answer is thrown as an AppError with the callee's status and type. */
  invoke<T = unknown>(appId: string, path: string, request?: InvokeRequest): Promise<InvokeResponse<T>>;
}

interface ProblemBody {
  type?: unknown;
  detail?: unknown;
  errors?: unknown;
}

/** A new W3C traceparent, so a call made outside any request still forms one trace across the services it reaches. */
const newTraceparent = () => `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-01`;

/**
 * The callee's problem as an AppError of the same status and type, so it reaches this service's client unchanged when
 * not handled. Anything else that is an error (daprd's own answer: the callee is down, unknown, timed out) is a 503.
 */
export function problemToError(appId: string, status: number, contentType: string | null, text: string, retryAfter: string | null): AppError {
  const retryAfterSeconds = retryAfter && /^\d+$/.test(retryAfter) ? Number(retryAfter) : undefined;
  const kind = kindOfStatus(status);
  if (kind && contentType?.includes('application/problem+json')) {
    let problem: ProblemBody = {};
    try {
      problem = JSON.parse(text) as ProblemBody;
    } catch {
      // an unreadable problem keeps its status and loses its detail
    }
    const type = typeof problem.type === 'string' && problem.type.startsWith(problemTypeBase) ? problem.type.slice(problemTypeBase.length) : undefined;
    const issues = Array.isArray(problem.errors) ? (problem.errors as FieldIssue[]) : undefined;
    return new AppError(kind, {
      ...(type ? { code: type } : {}),
      ...(typeof problem.detail === 'string' ? { detail: problem.detail } : {}),
      ...(issues ? { issues } : {}),
      ...(retryAfterSeconds ? { retryAfterSeconds } : {}),
    });
  }
  if (status === 401) {
    // The callee's sidecar refused the token (expired, wrong audience): the caller's credentials, not the callee.
    return new AppError('unauthenticated', { code: 'invocation-unauthenticated', detail: `${appId} refused the token of this call` });
  }
  return new AppError('dependency-unavailable', {
    code: 'service-unavailable',
    detail: `${appId} is unavailable (${status})`,
    retryAfterSeconds: retryAfterSeconds ?? 2,
  });
}

export function createServiceInvoker(options: InvokerOptions): ServiceInvoker {
  const base = `http://${options.daprHost}:${options.daprHttpPort}/v1.0/invoke`;

  /** The caller's authorization, and the service's own token when that is what is sent. */
  async function authorizationFor(as: InvokeRequest['as']): Promise<{ header?: string; ownToken?: string }> {
    if (as && as !== 'service') return { header: as.authorization };
    if (as === undefined) {
      const user = requestContext.getStore()?.authorization;
      if (user) return { header: user };
    }
    if (!options.identity) return {};
    const ownToken = await options.identity.token();
    return { header: `Bearer ${ownToken}`, ownToken };
  }

  return {
    async invoke<T>(appId: string, path: string, request: InvokeRequest = {}): Promise<InvokeResponse<T>> {
      const url = new URL(`${base}/${encodeURIComponent(appId)}/method/${path.replace(/^\//, '')}`);
      for (const [key, value] of Object.entries(request.query ?? {})) {
        if (value !== undefined) url.searchParams.set(key, String(value));
      }
      const headers: Record<string, string> = {
        ...request.headers,
        'dapr-api-token': options.daprApiToken,
        traceparent: requestContext.getStore()?.traceparent ?? newTraceparent(),
      };
      if (request.body !== undefined) headers['content-type'] = 'application/json';
      const timeoutMs = request.timeoutMs ?? options.timeoutMs ?? 10_000;
      const send = async (authorization: string | undefined) => {
        const init: RequestInit = {
          method: request.method ?? 'GET',
          headers: authorization ? { ...headers, authorization } : headers,
          signal: AbortSignal.timeout(timeoutMs),
        };
        if (request.body !== undefined) init.body = JSON.stringify(request.body);
        const answer = await fetch(url, init);
        return { response: answer, text: await answer.text() };
      };
      let response: Response;
      let text: string;
      try {
        const first = await authorizationFor(request.as);
        ({ response, text } = await send(first.header));
        // The service's own token refused by the callee's sidecar (the realm's keys changed since it was issued):
        // nothing ran there, so one more try with a new token is safe, even for a POST.
        if (response.status === 401 && first.ownToken && options.identity?.forget) {
          options.identity.forget(first.ownToken);
          ({ response, text } = await send((await authorizationFor('service')).header));
        }
      } catch (error) {
        if (error instanceof AppError) throw error;
        // By name, not instanceof: the abort's DOMException may come from another realm (a test runner's, say).
        const name = (error as { name?: unknown } | null)?.name;
        const timedOut = name === 'TimeoutError' || name === 'AbortError';
        throw new AppError('dependency-unavailable', {
          code: timedOut ? 'invocation-timeout' : 'service-unavailable',
          detail: timedOut ? `${appId} did not answer in time` : `${appId} could not be reached through the sidecar`,
          cause: error,
          retryAfterSeconds: 2,
        });
      }
      if (response.status >= 400) {
        throw problemToError(appId, response.status, response.headers.get('content-type'), text, response.headers.get('retry-after'));
      }
      let body: unknown = text;
      if (response.headers.get('content-type')?.includes('json') && text) {
        try {
          body = JSON.parse(text);
        } catch {
          // a JSON content type with a body that is not JSON: hand over the text
        }
      }
      return { status: response.status, headers: response.headers, body: body as T };
    },
  };
}

/** The invoker of a service from its config: its own sidecar, and its own identity when the environment names one. */
export function serviceInvokerFromConfig(
  config: { DAPR_HOST: string; DAPR_HTTP_PORT: number; DAPR_API_TOKEN: string },
  identity: ServiceIdentity | undefined,
): ServiceInvoker {
  return createServiceInvoker({ daprHost: config.DAPR_HOST, daprHttpPort: config.DAPR_HTTP_PORT, daprApiToken: config.DAPR_API_TOKEN, identity });
}
