import { AsyncLocalStorage } from 'node:async_hooks';

/** Who caused something, as the audit log records it: a person, one of the platform's services, or nobody signed in. */
export interface Actor {
  id: string;
  kind: 'user' | 'service' | 'anonymous';
  name?: string;
}

/** What a log line or an outgoing call needs to know about the request it serves. */
export interface RequestContext {
  requestId: string;
  traceId?: string;
  /** The W3C traceparent to forward, so a request stays one trace across services and events. */
  traceparent?: string;
  /** The caller's bearer token, forwarded on service-to-service calls. */
  authorization?: string;
  /** The signed-in caller (set with `req.principal`), so the events a request causes say who caused them. */
  actor?: Actor;
}

export const requestContext = new AsyncLocalStorage<RequestContext>();

const traceparentPattern = /^[\da-f]{2}-([\da-f]{32})-[\da-f]{16}-[\da-f]{2}$/;

/** Trace id from a W3C traceparent header, or undefined when absent or malformed. */
export function traceIdOf(traceparent: string | undefined): string | undefined {
  const match = traceparent ? traceparentPattern.exec(traceparent.trim().toLowerCase()) : null;
  return match?.[1];
}
