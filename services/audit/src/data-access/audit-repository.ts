import { escapeRegex, insertSkippingDuplicates, type IndexPlan } from '@mercato/platform';
import type { Db, Filter } from 'mongodb';
import type { StoredEvent } from '../domain/audit-chain';
import type { AuditEvent } from '../domain/audit-event-schema';
import type { EventQuery } from '../domain/audit-query-schema';

/**
 * The events as stored: the envelope with `_id` = the producer's event id (the unique index every backend enforces on
 * `_id` makes a redelivery or a re-post a no-op), the chain and batch that stored it (for verification and the chain's
 * crash recovery), and
 * `text`, the string and number values of `data` in lower case, for the text filter (an object cannot be matched by a
 * regular expression).
 */
export interface AuditEventDocument extends Omit<AuditEvent, 'id' | 'data'> {
  _id: string;
  /**
   * `data` as the JSON text it was sent as: stored byte for byte, whatever it holds (FerretDB refuses nested arrays and
   * BSON field names cannot hold every JSON key), and hashed as stored.
   */
  data: string;
  /** The chain that links it: verification reads a chain's events in one pass by it (chain-verification.ts). */
  chain: string;
  batch: string;
  text: string;
}

export const eventsCollection = 'audit_events';

/**
 * On MongoDB the filters below use these; FerretDB 1.24 (SQLite) looks up by `_id` alone and reads the whole
 * collection for every other filter (docs/audit.md#query).
 */
export const auditEventIndexes: IndexPlan = {
  [eventsCollection]: [
    { key: { receivedAt: -1, _id: -1 }, name: 'newest_first' },
    { key: { type: 1, receivedAt: -1 }, name: 'by_type' },
    { key: { subject: 1, receivedAt: -1 }, name: 'by_subject' },
    { key: { 'actor.id': 1, receivedAt: -1 }, name: 'by_actor' },
    { key: { source: 1, receivedAt: -1 }, name: 'by_source' },
  ],
};

const textLimit = 4000;

/** The searchable words of `data`: its string and number values, lower-cased, capped. */
export function textOf(data: unknown): string {
  const parts: string[] = [];
  let length = 0;
  const stack: unknown[] = [data];
  while (stack.length && length < textLimit) {
    const value = stack.pop();
    if (typeof value === 'string' || typeof value === 'number') {
      const part = String(value).toLowerCase();
      parts.push(part);
      length += part.length + 1;
    } else if (Array.isArray(value)) stack.push(...[...value].reverse());
    else if (value && typeof value === 'object') stack.push(...Object.values(value).reverse());
  }
  return parts.join(' ').slice(0, textLimit);
}

export const documentOf = (event: AuditEvent, chain: string, batch: string): AuditEventDocument => {
  const { id, ...rest } = event;
  return { _id: id, ...rest, data: JSON.stringify(event.data), chain, batch, text: textOf(event.data) };
};

export const eventOf = (doc: AuditEventDocument): AuditEvent => {
  const { _id, chain: _chain, batch: _batch, text: _text, data, ...rest } = doc;
  return { id: _id, ...rest, data: JSON.parse(data) as unknown };
};

export interface AuditRepository {
  /** Inserts the events it does not hold yet; returns those it inserted (stored now), in the order given. */
  insertNew(docs: AuditEventDocument[]): Promise<AuditEventDocument[]>;
  findById(id: string): Promise<AuditEventDocument | null>;
  /** Events newest first (`receivedAt`, then id), `limit` of them, after the cursor's key. */
  find(query: EventQuery, after: readonly [string, string] | undefined, limit: number): Promise<AuditEventDocument[]>;
  count(query: EventQuery): Promise<number>;
}

function filterOf(query: EventQuery, after: readonly [string, string] | undefined): Filter<AuditEventDocument> {
  const and: Filter<AuditEventDocument>[] = [];
  if (query.type) {
    and.push(query.type.endsWith('.*') ? { type: { $regex: `^${escapeRegex(query.type.slice(0, -1))}` } } : { type: query.type });
  }
  if (query.source) and.push({ source: query.source });
  if (query.subject) and.push({ subject: query.subject });
  if (query.actor) and.push({ 'actor.id': query.actor });
  if (query.from) and.push({ occurredAt: { $gte: query.from } });
  if (query.to) and.push({ occurredAt: { $lt: query.to } });
  if (query.q) and.push({ text: { $regex: escapeRegex(query.q.toLowerCase()) } });
  if (after) {
    const [receivedAt, id] = after;
    and.push({ $or: [{ receivedAt: { $lt: receivedAt } }, { receivedAt, _id: { $lt: id } }] });
  }
  return and.length ? { $and: and } : {};
}

export function createAuditRepository(db: Db): AuditRepository {
  const events = db.collection<AuditEventDocument>(eventsCollection);
  return {
    async insertNew(docs) {
      if (docs.length === 0) return [];
      // On any failure but "already stored" the whole batch is tried again (the stored ones then count as
      // duplicates, and the chain's recovery links them; see chain-store.ts).
      const already = await insertSkippingDuplicates(events, docs);
      return docs.filter((_doc, index) => !already.has(index));
    },
    findById: (id) => events.findOne({ _id: id }),
    find: (query, after, limit) =>
      events.find(filterOf(query, after)).sort({ receivedAt: -1, _id: -1 }).limit(limit).toArray(),
    count: (query) => events.countDocuments(filterOf(query, undefined)),
  };
}

/** The chain hashes the event as stored, `_id` and `batch` included: what verification reads back. */
export const storedEventOf = (doc: AuditEventDocument): StoredEvent => doc as unknown as StoredEvent;
