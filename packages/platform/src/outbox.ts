import type { Document, Filter } from 'mongodb';
import type { CloudEvent } from './events';

/**
 * A transactional outbox inside each document. FerretDB has no multi-document transactions, so an event is written
 * in the same single-document write as the change it describes; the publisher then delivers it and removes it. A crash
 * anywhere in between leaves the event in the document, and the relay delivers it later: no change without its event.
 */
export interface OutboxFields {
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

/** The update parts that append an event to a document in the same write as `set`. */
export const setWithEvent = <T extends Document>(set: T, event: CloudEvent) => ({
  $set: { ...set, _outboxPending: true },
  $push: { _outbox: event },
});

/** Marks a document deleted in the same write as its deletion event; the publisher removes it once delivered. */
export const deleteWithEvent = (event: CloudEvent) => setWithEvent({ _deleted: true }, event);

/** Matches only documents that are not deleted. */
export const live: Filter<OutboxFields> = { _deleted: { $ne: true } };

/** Keeps the outbox fields out of what a repository returns. */
export const withoutOutbox = { _outbox: 0, _outboxPending: 0, _deleted: 0 } as const;

/** An index for the relay's lookup of documents with undelivered events. */
export const outboxIndex = { key: { _outboxPending: 1 }, name: 'outbox_pending' };
