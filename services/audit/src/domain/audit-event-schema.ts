import { freeText, type CloudEvent } from '@mercato/platform';
import { z } from 'zod';

/**
 * The audit envelope: what every recorded event says, whatever its kind. The invariant part is validated strictly;
 * `data` is free-form JSON within a size limit (and, when a JSON Schema is registered for the type, must match it).
 * docs/audit.md#the-envelope maps a CloudEvent onto it.
 */
export const actorKinds = ['user', 'service', 'anonymous'] as const;

const identifier = (max: number) => z.string().min(1).max(max).regex(/^[^\x00-\x1f\x7f]+$/, 'must not contain control characters');

/** `<domain>.<entity>.<verb>`, lower case: `catalog.category.created`. More segments are allowed after the three. */
export const eventTypePattern = /^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*){2,5}$/;
export const eventTypeSchema = z
  .string()
  .max(200)
  .regex(eventTypePattern, 'must read <domain>.<entity>.<verb> in lower case (letters, digits, hyphens)');

export const actorSchema = z.strictObject({
  id: identifier(200),
  kind: z.enum(actorKinds, { error: `must be one of ${actorKinds.join(', ')}` }),
  name: freeText(200, { blank: false }).optional(),
});

const isoInstant = z.iso.datetime({ offset: true, error: 'must be an RFC 3339 date-time' });

/** W3C trace id: 32 lower-case hex digits, not all zero. */
const traceIdSchema = z.string().regex(/^(?!0{32})[\da-f]{32}$/, 'must be a W3C trace id (32 lower-case hex digits)');

/** What a producer sends: the envelope without what the audit service adds (`receivedAt`). */
export const auditEventInputSchema = z.strictObject({
  id: identifier(200).describe("The producer's event id (the CloudEvent id): the idempotency key"),
  type: eventTypeSchema,
  source: identifier(200),
  subject: identifier(500),
  actor: actorSchema,
  occurredAt: isoInstant,
  traceId: traceIdSchema.nullable().optional(),
  tenant: identifier(100).optional(),
  schemaVersion: z.number().int().min(1).max(1_000_000),
  data: z.unknown().optional(),
});

export type AuditEventInput = z.output<typeof auditEventInputSchema>;
export type Actor = z.output<typeof actorSchema>;

/**
 * An event as the log keeps it. Times are stored as the ISO strings they were validated as, so the document the chain
 * hashed is the one read back (a Date would round-trip through BSON with another precision).
 */
export interface AuditEvent {
  id: string;
  type: string;
  source: string;
  subject: string;
  actor: Actor;
  occurredAt: string;
  receivedAt: string;
  traceId: string | null;
  tenant?: string;
  schemaVersion: number;
  data: unknown;
}

/** Where `data` breaks the rules the log relies on, or undefined when it is fine. */
export function dataProblem(data: unknown, maxBytes: number): { path: string; message: string; tooLarge?: true } | undefined {
  if (data === undefined) return undefined;
  const encoded = JSON.stringify(data);
  if (Buffer.byteLength(encoded, 'utf8') > maxBytes) return { path: 'data', message: `must be at most ${maxBytes} bytes as JSON`, tooLarge: true };
  const stack: Array<{ value: unknown; path: string; depth: number }> = [{ value: data, path: 'data', depth: 0 }];
  while (stack.length) {
    const { value, path, depth } = stack.pop()!;
    if (depth > 32) return { path, message: 'is nested deeper than 32 levels' };
    if (Array.isArray(value)) value.forEach((item, index) => stack.push({ value: item, path: `${path}.${index}`, depth: depth + 1 }));
    else if (value && typeof value === 'object') {
      for (const [key, item] of Object.entries(value)) stack.push({ value: item, path: `${path}.${key}`, depth: depth + 1 });
    }
  }
  return undefined;
}

const traceIdOfParent = (traceparent: unknown): string | undefined => {
  const match = typeof traceparent === 'string' ? /^[\da-f]{2}-([\da-f]{32})-[\da-f]{16}-[\da-f]{2}$/.exec(traceparent) : null;
  return match?.[1];
};

/**
 * A platform CloudEvent as envelope input (docs/audit.md#from-a-cloudevent). Fields the producer did not set stay
 * absent, so strict validation names them instead of the log inventing them.
 */
export function envelopeOfCloudEvent(event: CloudEvent & Record<string, unknown>): Record<string, unknown> {
  const input: Record<string, unknown> = {
    id: event.id,
    type: event.type,
    source: event.source,
    subject: event.subject,
    occurredAt: event.time,
    schemaVersion: event.schemaversion,
    data: event.data,
  };
  if (event.actor !== undefined || event.actorkind !== undefined) {
    const actor: Record<string, unknown> = { id: event.actor, kind: event.actorkind };
    if (event.actorname !== undefined) actor['name'] = event.actorname;
    input['actor'] = actor;
  }
  const traceId = traceIdOfParent(event.traceparent) ?? traceIdOfParent(event.traceid);
  if (traceId) input['traceId'] = traceId;
  if (typeof event['tenant'] === 'string') input['tenant'] = event['tenant'];
  return input;
}

/** The stored form: what was sent, normalised through JSON (so `-0`, `undefined` and key order cannot differ later). */
export function toAuditEvent(input: AuditEventInput, receivedAt: Date, requestTraceId: string | undefined): AuditEvent {
  const event: AuditEvent = {
    id: input.id,
    type: input.type,
    source: input.source,
    subject: input.subject,
    actor: input.actor,
    occurredAt: new Date(input.occurredAt).toISOString(),
    receivedAt: receivedAt.toISOString(),
    traceId: input.traceId ?? requestTraceId ?? null,
    schemaVersion: input.schemaVersion,
    data: input.data === undefined ? null : input.data,
  };
  if (input.tenant !== undefined) event.tenant = input.tenant;
  return JSON.parse(JSON.stringify(event)) as AuditEvent;
}
