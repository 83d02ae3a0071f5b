import { AsyncLocalStorage } from 'node:async_hooks';

/** What a log line or an outgoing call needs to know about the request it serves. */
export interface RequestContext {
  requestId: string;
  traceId?: string;
  /** The W3C traceparent to forward, so a request stays one trace across services and events. */
  traceparent?: string;
  /** The caller's bearer token, forwarded on service-to-service calls. */
  authorization?: string;
}

export const requestContext = new AsyncLocalStorage<RequestContext>();

const traceparentPattern = /^[\da-f]{2}-([\da-f]{32})-[\da-f]{16}-[\da-f]{2}$/;

/** Trace id from a W3C traceparent header, or undefined when absent or malformed. */
export function traceIdOf(traceparent: string | undefined): string | undefined {
  const match = traceparent ? traceparentPattern.exec(traceparent.trim().toLowerCase()) : null;
  return match?.[1];
}
