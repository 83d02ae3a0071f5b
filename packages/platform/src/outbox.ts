import type { Collection, Filter } from 'mongodb';
import type { CloudEvent } from './events';
import type { Revised } from './revisions';

/**
 * A transactional outbox inside each document. FerretDB has no multi-document transactions, so an event is written
 * in the same single-document write as the change it describes; the publisher then delivers it and removes it. A crash
 * anywhere in between leaves the event in the document, and the relay delivers it later: no change without its event.
 */
export interface OutboxFields extends Revised {
  /** Mercato documents use string ids (UUIDs). */
  _id: string;
  /** Events written with this document's changes and not yet delivered, oldest first. */
  _outbox?: CloudEvent[];
  /** True while `_outbox` may be non-empty: an equality flag the relay can find cheaply on FerretDB and MongoDB. */
  _outboxPending?: boolean;
  /** Deleted, kept only until its last event is delivered; reads never see it. */
  _deleted?: boolean;
}

/** Fields to add to a document inserted together with its event. */
export const withEvent = (event: CloudEvent): Required<Pick<OutboxFields, '_outbox' | '_outboxPending'>> => ({
  _outbox: [event],
  _outboxPending: true,
});

/**
 * The next image of a document with `changes` applied and their event appended, for a write through the revision rule
 * (revisions.ts): the event is stored in the same single-document write as the change.
 */
export const changedWithEvent = <T extends OutboxFields>(current: T, changes: Partial<T>, event: CloudEvent): T => ({
  ...current,
  ...changes,
  _outbox: [...(current._outbox ?? []), event],
  _outboxPending: true,
});

/** The next image of a document marked deleted together with its deletion event; removed once the event is out. */
export const deletedWithEvent = <T extends OutboxFields>(current: T, event: CloudEvent): T =>
  changedWithEvent(current, { _deleted: true } as Partial<T>, event);

/** Matches only documents that are not deleted. */
export const live: Filter<OutboxFields> = { _deleted: { $ne: true } };

/** Keeps the outbox fields (and the internal revision) out of what a repository returns. */
export const withoutOutbox = { _outbox: 0, _outboxPending: 0, _deleted: 0, _rev: 0 } as const;

/** An index for the relay's lookup of documents with undelivered events. */
export const outboxIndex = { key: { _outboxPending: 1 }, name: 'outbox_pending' };

/**
 * One live document by id, read as a primary-key lookup. FerretDB's SQLite backend pushes a filter down to SQL only when
 * it is `{_id}` alone and reads every document for anything else (docs/runtime.md), so `{_id, _deleted: {$ne: true}}`
 * would be a scan; the deleted check is made on the document read instead.
 */
export async function findLiveById<T extends OutboxFields>(collection: Collection<T>, id: string): Promise<T | undefined> {
  const doc = (await collection.findOne({ _id: id } as Filter<T>, { projection: { _outbox: 0, _outboxPending: 0, _rev: 0 } })) as T | null;
  return doc && !doc._deleted ? doc : undefined;
}
