import { openApiDocument, pageSchema, type Operation } from '@mercato/platform';
import { z } from 'zod';
import { auditConfigSchema } from '../../config';
import { actorKinds, auditEventInputSchema } from '../../domain/audit-event-schema';
import { eventPathSchema, eventQuerySchema, schemaPathSchema, verifyQuerySchema } from '../../domain/audit-query-schema';

/** Who reads the log: auditors and administrators. */
export const readers = ['auditor', 'admin'] as const;
/** Who posts events over HTTP: the platform's services (client credentials) and administrators. */
export const producers = ['service', 'admin'] as const;

export const auditEventSchema = z.object({
  id: z.string(),
  type: z.string(),
  source: z.string(),
  subject: z.string(),
  actor: z.object({ id: z.string(), kind: z.enum(actorKinds), name: z.string().optional() }),
  occurredAt: z.string(),
  receivedAt: z.string().describe('When the audit service took the event in'),
  traceId: z.string().nullable(),
  tenant: z.string().optional(),
  schemaVersion: z.number().int(),
  data: z.unknown(),
});

const ingestBodySchema = z
  .union([auditEventInputSchema, z.array(auditEventInputSchema).min(1)])
  .describe('One event, or a batch (an array). A batch is all or nothing: one invalid event and none is stored.');

const acceptedSchema = z.object({ accepted: z.number().int().min(1).describe('Events now durable (each stored once, however often sent)') });

const chainSchema = z.object({ chain: z.string(), holder: z.string().nullable(), knownTail: z.number().int().min(0) });

const verifyReportSchema = z.object({
  chain: z.string(),
  from: z.number().int(),
  to: z.number().int(),
  checked: z.number().int(),
  ok: z.boolean(),
  firstBreak: z
    .object({
      position: z.number().int(),
      kind: z.enum(['event-edited', 'event-removed', 'entry-removed', 'reordered', 'tail-cut', 'checkpoint-mismatch', 'checkpoint-forged']),
      eventId: z.string().optional(),
      detail: z.string(),
    })
    .optional(),
  checkpoints: z.object({
    checked: z.number().int(),
    latest: z.object({ position: z.number().int(), hash: z.string(), at: z.string(), keyId: z.string() }).optional(),
    unsealed: z.number().int().describe('Positions after the latest valid checkpoint: linked, but not yet signed'),
  }),
});

const registeredSchemaSchema = z.object({
  type: z.string(),
  schema: z.record(z.string(), z.unknown()),
  registeredAt: z.string(),
  registeredBy: z.string(),
});

export const jsonSchemaBody = z.record(z.string(), z.unknown()).describe('A JSON Schema (draft 2020-12) that `data` of this type must match');

export interface AuditApiLimits {
  maxBatchEvents: number;
  maxDataBytes: number;
}

/** The API as routes.ts serves it; a unit test fails if the two drift apart, the contract fuzzer if the service does. */
export function auditOperations(limits: AuditApiLimits): readonly Operation[] {
  return [
    {
      method: 'post', path: '/audit/events',
      summary: `Record one event or a batch of up to ${limits.maxBatchEvents} (data up to ${limits.maxDataBytes} bytes each); answered once durable`,
      roles: producers, body: ingestBodySchema,
      success: { status: 202, description: 'Durable: stored once each and chained', schema: acceptedSchema },
      // 413: a batch over the maximum or data over the limit; 422: data that fails its type's registered schema;
      // 503 (always documented): the buffer is full (back-pressure) — send again after Retry-After.
      problems: [422],
    },
    {
      method: 'get', path: '/audit/events', summary: 'Events newest first, filtered; every read is itself recorded (audit.log.read)',
      roles: readers, query: eventQuerySchema,
      success: { status: 200, description: 'A page of events', schema: pageSchema(auditEventSchema) },
    },
    {
      method: 'get', path: '/audit/events/{id}', summary: 'One event', roles: readers, params: eventPathSchema,
      success: { status: 200, description: 'The event as stored', schema: auditEventSchema }, problems: [404],
    },
    {
      method: 'get', path: '/audit/chains', summary: 'The chains the log is kept in (one per writing replica)', roles: readers,
      success: { status: 200, description: 'The chains', schema: z.object({ items: z.array(chainSchema) }) },
    },
    {
      method: 'get', path: '/audit/verify',
      summary: 'Recompute a chain (or every chain) against the stored events and the signed checkpoints; reports the first break',
      roles: readers, query: verifyQuerySchema,
      success: { status: 200, description: 'One report per chain', schema: z.object({ ok: z.boolean(), chains: z.array(verifyReportSchema) }) },
      problems: [404],
    },
    {
      method: 'put', path: '/audit/schemas/{type}', summary: 'Register the JSON Schema events of a type must match from now on',
      roles: ['admin'], params: schemaPathSchema, body: jsonSchemaBody,
      success: { status: 200, description: 'The schema as registered (201 when the type had none)', schema: registeredSchemaSchema },
      problems: [422],
      createsWithLocation: 'The path of the type\'s schema, as the client called it',
    },
    {
      method: 'get', path: '/audit/schemas/{type}', summary: 'The JSON Schema registered for a type', roles: [...readers, 'service'],
      params: schemaPathSchema,
      success: { status: 200, description: 'The schema', schema: registeredSchemaSchema }, problems: [404],
    },
  ];
}

export function auditApiDocument(limits: AuditApiLimits): Record<string, unknown> {
  return openApiDocument({
    title: 'Mercato audit',
    version: '0.1.0',
    description:
      'The audit log: every service\'s events, stored once, chained by SHA-256 and sealed by signed checkpoints. ' +
      'No operation changes or deletes an event. docs/audit.md explains the envelope, the chain and verification.',
    operations: auditOperations(limits),
  });
}

/** The service's document with its default settings; the devstack merges it into the whole API's document. */
export const apiDocument = auditApiDocument({
  maxBatchEvents: auditConfigSchema.shape.AUDIT_MAX_BATCH_EVENTS.parse(undefined),
  maxDataBytes: auditConfigSchema.shape.AUDIT_MAX_DATA_BYTES.parse(undefined),
});
