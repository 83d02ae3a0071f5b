import { randomUUID } from 'node:crypto';
import { AppError, issuesOf, pageOf, type Actor, type FieldIssue, type Logger, type Page, type PageRequest } from '@mercato/platform';
import type { ChainVerificationReport } from './audit-chain';
import { auditEventInputSchema, dataProblem, toAuditEvent, type AuditEvent, type AuditEventInput } from './audit-event-schema';
import type { EventQuery } from './audit-query-schema';
import type { BatchWriter } from './batch-writer';

/** What the use cases need from storage; data-access implements it. */
export interface AuditEventStore {
  findById(id: string): Promise<AuditEvent | undefined>;
  find(query: EventQuery, after: readonly [string, string] | undefined, limit: number): Promise<AuditEvent[]>;
  count(query: EventQuery): Promise<number>;
}

export interface RegisteredSchema {
  type: string;
  schema: Record<string, unknown>;
  registeredAt: string;
  registeredBy: string;
}

/** JSON Schemas per event type; data-access implements it. */
export interface SchemaRegistry {
  /** Stores the schema for the type (422 `invalid-json-schema` when it is not one); `created` when the type had none. */
  register(type: string, schema: Record<string, unknown>, by: string): Promise<{ schema: RegisteredSchema; created: boolean }>;
  get(type: string): Promise<RegisteredSchema | undefined>;
  /** The first place `data` fails the type's registered schema, or undefined (also when none is registered). */
  problemOf(type: string, data: unknown): Promise<FieldIssue | undefined>;
}

export interface ChainSummaries {
  chains(): Promise<Array<{ chain: string; holder: string | null; knownTail: number }>>;
  verify(chain: string, from: number | undefined, to: number | undefined): Promise<ChainVerificationReport | undefined>;
}

export interface AuditLimits {
  /** Largest `data`, in bytes of JSON. */
  maxDataBytes: number;
  /** Most events in one HTTP batch. */
  maxBatchEvents: number;
}

export interface AuditUseCases {
  /** Validates every event first (all or nothing), then resolves once all are durable. */
  ingest(body: unknown, requestTraceId: string | undefined): Promise<{ accepted: number }>;
  /** One event from the topic: stored, or refused for good (a poison message is dropped, not retried). */
  recordFromTopic(input: Record<string, unknown>): Promise<'stored' | 'invalid'>;
  list(query: EventQuery, page: PageRequest, reader: Actor): Promise<Page<AuditEvent>>;
  get(id: string, reader: Actor): Promise<AuditEvent>;
  chains(reader: Actor): Promise<Array<{ chain: string; holder: string | null; knownTail: number }>>;
  verify(chain: string | undefined, from: number | undefined, to: number | undefined, reader: Actor): Promise<ChainVerificationReport[]>;
  registerSchema(type: string, schema: Record<string, unknown>, by: string): Promise<{ schema: RegisteredSchema; created: boolean }>;
  schemaOf(type: string): Promise<RegisteredSchema>;
}

export const auditEventTypes = { logRead: 'audit.log.read' } as const;

const tooLarge = (issues: FieldIssue[], detail: string) => new AppError('payload-too-large', { code: 'data-too-large', detail, issues });

export function createAuditUseCases(deps: {
  store: AuditEventStore;
  writer: BatchWriter<AuditEvent>;
  schemas: SchemaRegistry;
  chains: ChainSummaries;
  limits: AuditLimits;
  serviceName: string;
  logger: Logger;
}): AuditUseCases {
  const { store, writer, schemas, limits, logger } = deps;

  /** Checks one event; the issues' paths start with `prefix` (`body` or `body.3`), so a batch names the event. */
  async function check(raw: unknown, prefix: string): Promise<{ input?: AuditEventInput; issues: FieldIssue[]; tooLarge?: true; schema?: true }> {
    const parsed = auditEventInputSchema.safeParse(raw);
    if (!parsed.success) {
      return { issues: issuesOf(parsed.error, 'body', { input: raw }).map((issue) => ({ ...issue, path: issue.path.replace(/^body/, prefix) })) };
    }
    const problem = dataProblem(parsed.data.data, limits.maxDataBytes);
    if (problem) {
      const issue = { path: `${prefix}.${problem.path}`, message: problem.message };
      return problem.tooLarge ? { issues: [issue], tooLarge: true } : { issues: [issue] };
    }
    const mismatch = await schemas.problemOf(parsed.data.type, parsed.data.data);
    if (mismatch) return { issues: [{ path: `${prefix}.${mismatch.path}`, message: mismatch.message }], schema: true };
    return { input: parsed.data, issues: [] };
  }

  async function verifyChains(chain: string | undefined, from: number | undefined, to: number | undefined): Promise<ChainVerificationReport[]> {
    const names = chain ? [chain] : (await deps.chains.chains()).map((summary) => summary.chain);
    const reports: ChainVerificationReport[] = [];
    for (const name of names) {
      const report = await deps.chains.verify(name, from, to);
      if (!report) throw new AppError('not-found', { code: 'chain-not-found', detail: `There is no audit chain named ${name}` });
      reports.push(report);
    }
    return reports;
  }

  /** Reads are recorded after they are computed (so a verification reports the chain as it found it), before they are served. */
  async function recordRead(reader: Actor, subject: string, data: Record<string, unknown>): Promise<void> {
    const now = new Date();
    const event = toAuditEvent(
      { id: randomUUID(), type: auditEventTypes.logRead, source: deps.serviceName, subject, actor: reader, occurredAt: now.toISOString(), schemaVersion: 1, data },
      now,
      undefined,
    );
    // Awaited: a read that could not be recorded is not served (the auditors are audited too).
    await writer.submit([event]);
  }

  return {
    async ingest(body, requestTraceId) {
      const batch = Array.isArray(body);
      const raws = batch ? body : [body];
      if (raws.length === 0) throw new AppError('validation', { code: 'empty-batch', detail: 'The batch holds no events', issues: [{ path: 'body', message: 'must hold at least one event' }] });
      if (raws.length > limits.maxBatchEvents) {
        throw new AppError('payload-too-large', {
          code: 'batch-too-large',
          detail: `A batch holds at most ${limits.maxBatchEvents} events; this one holds ${raws.length}. Nothing was stored.`,
          issues: [{ path: 'body', message: `must hold at most ${limits.maxBatchEvents} events` }],
        });
      }
      const receivedAt = new Date();
      const events: AuditEvent[] = [];
      for (const [index, raw] of raws.entries()) {
        const prefix = batch ? `body.${index}` : 'body';
        const { input, issues, tooLarge: isTooLarge, schema } = await check(raw, prefix);
        const named = batch ? `Event ${index}${typeof (raw as { id?: unknown })?.id === 'string' ? ` (${(raw as { id: string }).id})` : ''}` : 'The event';
        if (isTooLarge) throw tooLarge(issues, `${named}: data is larger than ${limits.maxDataBytes} bytes. Nothing was stored.`);
        if (schema) {
          throw new AppError('unprocessable', { code: 'schema-mismatch', detail: `${named} does not match the JSON Schema registered for its type. Nothing was stored.`, issues });
        }
        if (!input) throw new AppError('validation', { code: 'invalid-event', detail: `${named} is not a valid audit event. Nothing was stored.`, issues });
        events.push(toAuditEvent(input, receivedAt, requestTraceId));
      }
      await writer.submit(events);
      return { accepted: events.length };
    },

    async recordFromTopic(raw) {
      const { input, issues } = await check(raw, 'event');
      if (!input) {
        logger.warn('dropped an event that is not a valid audit event', { eventId: raw['id'], type: raw['type'], issues });
        return 'invalid';
      }
      await writer.submit([toAuditEvent(input, new Date(), undefined)]);
      return 'stored';
    },

    async list(query, page, reader) {
      const after = page.after as readonly [string, string] | undefined;
      const fetched = await store.find(query, after, page.limit + 1);
      const total = page.withTotal ? await store.count(query) : undefined;
      await recordRead(reader, 'events', { query, returned: Math.min(fetched.length, page.limit) });
      return pageOf(fetched, page, (event) => [event.receivedAt, event.id], total);
    },

    async get(id, reader) {
      const event = await store.findById(id);
      await recordRead(reader, `events/${id}`, { id, found: event !== undefined });
      if (!event) throw new AppError('not-found', { code: 'event-not-found', detail: `No audit event has the id ${id}` });
      return event;
    },

    async chains(reader) {
      const chains = await deps.chains.chains();
      await recordRead(reader, 'chains', {});
      return chains;
    },

    async verify(chain, from, to, reader) {
      const reports = await verifyChains(chain, from, to);
      await recordRead(reader, 'verify', { chain: chain ?? null, from: from ?? null, to: to ?? null, ok: reports.every((report) => report.ok) });
      return reports;
    },

    registerSchema: (type, schema, by) => schemas.register(type, schema, by),

    async schemaOf(type) {
      const found = await schemas.get(type);
      if (!found) throw new AppError('not-found', { code: 'schema-not-found', detail: `No JSON Schema is registered for ${type}` });
      return found;
    },
  };
}
