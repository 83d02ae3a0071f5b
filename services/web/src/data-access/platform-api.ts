import type { ServiceInvoker } from '@mercato/platform';

/**
 * The platform's APIs as the pages call them: through this app's own sidecar (Dapr service invocation), with the
 * signed-in person's access token, which the request context carries (entry-points/app.ts) and the invoker forwards.
 * The callee's sidecar checks the token and the callee its roles, exactly as for a call through the ingress. A problem
 * answer arrives as an AppError with the callee's status, detail and field issues, which the pages render.
 */
export interface PlatformApi {
  get<T>(appId: string, path: string, query?: Record<string, string | number | boolean | undefined>): Promise<Answer<T>>;
  send<T>(method: 'POST' | 'PUT' | 'PATCH' | 'DELETE', appId: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Answer<T>>;
}

export interface Answer<T> {
  body: T;
  /** The resource's version tag, for an edit form's If-Match. */
  etag: string | undefined;
}

export function createPlatformApi(invoker: ServiceInvoker): PlatformApi {
  return {
    async get(appId, path, query) {
      const answer = await invoker.invoke(appId, path, query ? { query } : {});
      return { body: answer.body as never, etag: answer.headers.get('etag') ?? undefined };
    },
    async send(method, appId, path, body, headers) {
      const answer = await invoker.invoke(appId, path, { method, ...(body === undefined ? {} : { body }), ...(headers ? { headers } : {}) });
      return { body: answer.body as never, etag: answer.headers.get('etag') ?? undefined };
    },
  };
}
