import { randomUUID } from 'node:crypto';
import { stackInfo, type ApiResponse } from '@mercato/devstack';

/** What the integration tests read back: the service's own output types, and the platform's problem document. */
export type { Category, CategoryNode, CategoryPage as Page, CategoryTree } from '../src/domain/category-schema';
export type { ProblemDocument as Problem } from '@mercato/platform';

/** Each test makes its own data: a slug no other test (or earlier run) uses. */
export const uniqueSlug = (base: string) => `${base}-${randomUUID().slice(0, 8)}`;

/**
 * Calls the platform through the ingress with request headers of the test's choosing (If-Match, If-None-Match), which
 * the devstack's `api` helper does not send.
 */
export async function apiWithHeaders<T = unknown>(
  method: string,
  path: string,
  options: { token: string; headers: Record<string, string>; body?: unknown },
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...options.headers, authorization: `Bearer ${options.token}` };
  const init: RequestInit = { method, headers, signal: AbortSignal.timeout(30_000) };
  if (options.body !== undefined) {
    headers['content-type'] = 'application/json';
    init.body = JSON.stringify(options.body);
  }
  const response = await fetch(`${stackInfo().ingressUrl}${path}`, init);
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: (text ? JSON.parse(text) : undefined) as T };
}
